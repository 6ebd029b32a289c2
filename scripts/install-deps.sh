#!/usr/bin/env bash
# Installs the Debian 12 packages the project builds, runs and tests with. Idempotent: when
# everything is present it changes nothing and needs no network. Run as root (or with sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # contract and backend
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsqlite3-dev sqlite3 libssl-dev
  # console
  libimgui-dev libglfw3-dev libgl-dev libgl1-mesa-dri libstb-dev fonts-noto-cjk portaudio19-dev
  # media
  libavcodec-dev libavformat-dev libavutil-dev libswresample-dev libswscale-dev libavfilter-dev ffmpeg espeak-ng
  # tests: GoogleTest, a headless X server for GUI tests, a stock Python gRPC client
  libgtest-dev libgmock-dev libbenchmark-dev xvfb xauth python3 python3-grpcio python3-protobuf grpc-proto
  # fuzzing: clang with libFuzzer and the sanitizer runtimes (tests/fuzz, -DEXAM_FUZZ=ON)
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
