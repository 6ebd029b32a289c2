#!/usr/bin/env bash
# Configures (once) and builds everything in build/ with the default preset.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD"
[ -f build/build.ninja ] || cmake --preset default
cmake --build --preset default "$@"
