#!/usr/bin/env bash
# Seed corpora for the fuzz targets, made at run time so that no media file is committed:
# tiny recordings in the containers and codecs the console meets (mp4/mkv/ts/webm, H.264,
# VP9, AAC, Opus), a truncated copy of each, hostile-range seeds (an answer script in front
# of each recording) and one empty request per backend method.
# Usage: make_seeds.sh OUT_DIR   (fills OUT_DIR/fuzz_media_input, fuzz_hostile_ranges,
# fuzz_backend_rpcs; does nothing for a directory that is already filled)
set -euo pipefail
out=${1:?usage: make_seeds.sh OUT_DIR}
media=$out/fuzz_media_input
hostile=$out/fuzz_hostile_ranges
rpcs=$out/fuzz_backend_rpcs
mkdir -p "$media" "$hostile" "$rpcs"

if [ -z "$(ls -A "$media")" ]; then
  if command -v ffmpeg >/dev/null; then
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # 48x32, 0.3 s: a few frames and a keyframe or two, ~1-5 KiB each.
    v="-f lavfi -i testsrc=size=48x32:rate=10:duration=0.3"
    a="-f lavfi -i sine=frequency=440:sample_rate=8000:duration=0.3"
    enc() { ffmpeg -hide_banner -loglevel error -y "$@" </dev/null || echo "make_seeds: skipped ${*: -1}" >&2; }
    enc $v -c:v libx264 -preset ultrafast -g 2 -pix_fmt yuv420p "$tmp/h264.mp4"
    enc $v $a -c:v libx264 -preset ultrafast -g 2 -pix_fmt yuv420p -c:a aac -b:a 8k "$tmp/h264_aac.mp4"
    enc $v -c:v libx264 -preset ultrafast -g 2 -pix_fmt yuv420p -movflags +frag_keyframe+empty_moov "$tmp/h264_frag.mp4"
    enc $v -c:v libx264 -preset ultrafast -g 2 -pix_fmt yuv420p -metadata:s:v rotate=90 "$tmp/h264_rot.mp4"
    enc $v -c:v libx264 -preset ultrafast -g 2 -pix_fmt yuv420p "$tmp/h264.mkv"
    enc $v $a -c:v libx264 -preset ultrafast -g 2 -pix_fmt yuv420p -c:a aac -b:a 8k "$tmp/h264_aac.ts"
    enc $v -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 2 -b:v 20k "$tmp/vp9.webm"
    enc $v $a -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 2 -b:v 20k -c:a libopus -b:a 8k "$tmp/vp9_opus.webm"
    enc $v -c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 2 -b:v 20k "$tmp/vp9.mkv"
    enc $a -c:a aac -b:a 8k "$tmp/aac_only.mp4"
    for f in "$tmp"/*; do
      [ -s "$f" ] || continue
      name=$(basename "$f")
      cp "$f" "$media/$name"
      size=$(stat -c %s "$f")
      # Truncated uploads: cut in the middle and just before the end.
      head -c $((size / 2)) "$f" >"$media/half_$name"
      head -c $((size - 17)) "$f" >"$media/cut_$name"
    done
  else
    echo "make_seeds: no ffmpeg; media seeds come from the committed corpus only" >&2
  fi
fi

if [ -z "$(ls -A "$hostile")" ]; then
  # Byte 0: script length; then the script (one byte per answer of the source, see
  # fuzz_hostile_ranges.cpp); then the recording. An honest script, one with a short read,
  # one with an error and one that cancels.
  i=0
  for f in "$media"/*; do
    [ -f "$f" ] || continue
    case $((i % 4)) in
      0) script='\x04\xff\xff\xff\xff' ;;
      1) script='\x04\xff\x02\x03\xff' ;;
      2) script='\x04\xff\xff\x00\xff' ;;
      3) script='\x04\xff\xff\xff\x07' ;;
    esac
    { printf "$script"; cat "$f"; } >"$hostile/$(basename "$f")"
    i=$((i + 1))
  done
fi

if [ -z "$(ls -A "$rpcs")" ]; then
  # Byte 0 picks the method (and with or without the admin's token); an empty request is
  # a valid one for every method.
  for b in $(seq 0 255); do
    printf "\\x$(printf %02x "$b")" >"$rpcs/method_$b"
  done
fi
