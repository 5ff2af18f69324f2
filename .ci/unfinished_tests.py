#!/usr/bin/env python3
"""Names the tests and suites of a Swift Testing log that started and never ended.

    python3 .ci/unfinished_tests.py /tmp/oxpecker-ci-test.log

.ci/run calls it when `swift test` runs past its time: a hung test then shows
where it hangs instead of the job being stopped without a word. A name counts as
ended by a passed, failed or skipped line; the same name in two suites is counted
twice.
"""
import re
import sys
from collections import Counter

# `◇ Test "name" started.`, `✔ Test "name" with 2 test cases passed after…`, `✘ … failed…`, `➜ … skipped…`
EVENT = re.compile(r'^(◇|✔|✘|➜) (Test|Suite) "(.*)"(?: with \d+ test cases?)? (started|passed|failed|skipped)')


def unfinished(lines):
    open_count = Counter()
    order = []
    for line in lines:
        match = EVENT.match(line)
        if not match:
            continue
        kind, name, what = match.group(2), match.group(3), match.group(4)
        key = (kind, name)
        if what == "started":
            open_count[key] += 1
            order.append(key)
        else:
            open_count[key] -= 1
    seen = set()
    result = []
    for key in order:
        if open_count[key] > 0 and key not in seen:
            seen.add(key)
            result.append(key)
    return result


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as log:
        left = unfinished(log)
    if not left:
        print("every test that started also ended")
        return
    for kind, name in left:
        print(f"still running: {kind.lower()} \"{name}\"", flush=True)


if __name__ == "__main__":
    main()
