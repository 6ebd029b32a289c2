#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a green test suite: installs what is
# missing, builds everything, and runs every test with CTest (GUI tests start their own
# Xvfb). CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --preset default -j2 "$@"
