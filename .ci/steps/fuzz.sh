#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (swiftc -sanitize=fuzzer, Linux only) and
# runs each for a bounded time, FUZZ_SECONDS (default 60) each, from seeds made of
# Protocol/vectors. Fails on any crash, leak of an error or timeout; the input that
# did it is printed and kept in .build-fuzz/ to become a regression test.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${FUZZ_SECONDS:-60}"
if [[ "$(uname -s)" != Linux ]]; then
    echo "skipped: libFuzzer (swiftc -sanitize=fuzzer) is used on Linux only"
    exit 0
fi

# lld: gold fails on the fuzzer runtime with an internal error.
flags=(-c release --package-path Fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -use-ld=lld)
swift build "${flags[@]}" 2>&1 | tail -n 3
bin="$(swift build "${flags[@]}" --show-bin-path)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/seeds" "$work/tmp" .build-fuzz

# Seeds: every valid vector as it is, and the body (or raw text) of every invalid one.
python3 - "$work/seeds" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
for path in sorted(pathlib.Path("Protocol/vectors").glob("*/*.json")):
    text = path.read_text()
    if path.parent.name == "invalid":
        vector = json.loads(text)
        if "text" in vector:
            text = vector["text"]
        else:
            text = json.dumps(vector["body"], ensure_ascii=False, separators=(",", ":"))
    (out / f"{path.parent.name}-{path.stem}.json").write_text(text)
PY

status=0
for target in fuzz-decoder fuzz-apply; do
    mkdir -p "$work/corpus-$target"
    echo "fuzzing $target for ${seconds}s"
    if ! TMPDIR="$work/tmp" "$bin/$target" "$work/corpus-$target" "$work/seeds" \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/$target-" -print_final_stats=1 >"$work/$target.log" 2>&1; then
        status=1
        grep -E "^(Fatal error|==[0-9]+==|SUMMARY)" "$work/$target.log" | head -n 20 || true
        tail -n 30 "$work/$target.log"
        for artifact in "$work/$target-"*; do
            [[ -e "$artifact" ]] || continue
            cp "$artifact" .build-fuzz/
            echo "input that failed ($(basename "$artifact"), kept in .build-fuzz/): $(base64 -w0 "$artifact")"
        done
    else
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$target.log" | tr '\n' ' '
        echo
    fi
done
exit "$status"
