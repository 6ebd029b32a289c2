#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a green test suite: installs what is
# missing, builds everything, runs every test with CTest (GUI tests start their own Xvfb),
# then fuzzes each libFuzzer target for EXAM_FUZZ_SECONDS (60; 0 skips) in its own clang
# build. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --preset default -j2 "$@"
scripts/fuzz.sh
