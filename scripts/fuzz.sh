#!/usr/bin/env bash
# The libFuzzer targets for a fixed time each, as CI runs them after the tests: a clang
# build of their own in build-fuzz (configured once, then incremental), then
# tests/fuzz/run_fuzz.sh over the seeds made at run time and the committed corpora.
#   EXAM_FUZZ_SECONDS  seconds per target (default 60; 0 skips fuzzing)
# Exits non-zero when a target crashes, leaks or hangs; the input is left in
# build-fuzz/fuzz-artifacts/<target>/ and the log in build-fuzz/fuzz-logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${EXAM_FUZZ_SECONDS:-60}
if [ "$seconds" = 0 ]; then
  echo "fuzz: skipped (EXAM_FUZZ_SECONDS=0)"
  exit 0
fi
export CCACHE_BASEDIR="$PWD"
targets=(fuzz_media_input fuzz_hostile_ranges fuzz_backend_rpcs)
if [ ! -f build-fuzz/build.ninja ]; then
  sanitizers="-fsanitize=fuzzer-no-link,address,undefined"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DEXAM_FUZZ=ON -DEXAM_BUILD_TESTS=OFF \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_C_FLAGS="$sanitizers" -DCMAKE_CXX_FLAGS="$sanitizers"
fi
start=$(date +%s)
cmake --build build-fuzz -j2 --target "${targets[@]}"
echo "fuzz: targets built in $(( $(date +%s) - start )) s; fuzzing ${seconds} s each"
tests/fuzz/run_fuzz.sh build-fuzz "$seconds" "${targets[@]}"
