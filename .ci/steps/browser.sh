#!/usr/bin/env bash
# The advisor's console end to end in a real browser (issue 17): headless
# Chromium with Debian's chromedriver, driven by Selenium (PyPI), against real
# processes on loopback (an oxpecker-server, two stores made with the CLI, and
# `oxpecker console`); Tests/browser/console_test.py says what it covers. It
# builds the two binaries it runs (.ci/run builds only after its steps), stops
# every process it started, and prints the folder of its screenshots (under /tmp).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v chromedriver >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q chromium chromium-driver
fi
if ! python3 -c "import selenium" >/dev/null 2>&1; then
    echo "installing selenium"
    python3 -m pip install -q selenium
fi

# SWIFT_BUILD_JOBS limits the build's parallelism on a small machine (swift build -j).
jobs=()
[[ -n "${SWIFT_BUILD_JOBS:-}" ]] && jobs=(-j "$SWIFT_BUILD_JOBS")
swift build "${jobs[@]}" --product oxpecker 2>&1 | tail -n 3
swift build "${jobs[@]}" --product oxpecker-server 2>&1 | tail -n 3
export OXPECKER_BIN="${OXPECKER_BIN:-$(swift build --show-bin-path)}"

python3 Tests/browser/console_test.py
