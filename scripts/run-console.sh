#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to the running console: installs what is
# missing, builds, and starts the console with its embedded demo backend and simulator.
# Extra arguments go to the console (e.g. --backend host:port).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh --target exam-console
exec build/console/app/exam-console "$@"
