#!/bin/sh
# Runs exam-console in a real window (under Xvfb when there is no display), writes a
# screenshot and checks it.
#   run_screenshot_test.sh CONSOLE CHECKER OUT.png [expect-online|expect-offline|expect-uploads|expect-appeals|expect-wall|expect-focus|expect-review] [console args...]
# expect-offline runs the console against a port nobody listens on and passes only when
# the checker rejects the picture: the checker must tell a signed-in shell from one that is not.
set -eu
console=$1; checker=$2; out=$3; mode=${4:-expect-online}
[ $# -ge 4 ] && shift 4 || shift $#

run() {
  if [ -z "${DISPLAY:-}" ]; then
    xvfb-run -a -s "-screen 0 1600x900x24" "$console" "$@"
  else
    "$console" "$@"
  fi
}

rm -f "$out"
case "$mode" in
  expect-online)
    run --screenshot "$out" --frames 60 "$@"
    "$checker" "$out"
    ;;
  expect-uploads)
    run --screenshot "$out" --frames 30 --workspace uploads "$@"
    "$checker" "$out" uploads
    ;;
  expect-appeals)
    run --screenshot "$out" --frames 30 --workspace appeals "$@"
    "$checker" "$out" appeals
    ;;
  expect-wall)
    run --screenshot "$out" --frames 30 --workspace live "$@"
    "$checker" "$out" wall
    ;;
  expect-focus)
    run --screenshot "$out" --frames 30 --workspace live:focus "$@"
    "$checker" "$out" focus
    ;;
  expect-review)
    run --screenshot "$out" --frames 30 --workspace review "$@"
    "$checker" "$out" review
    ;;
  expect-offline)
    run --backend 127.0.0.1:9 --user admin --password demo --online-timeout 2 --screenshot "$out" --frames 10 "$@"
    if "$checker" "$out"; then
      echo "FAIL: the checker accepted a console that is not online" >&2
      exit 1
    fi
    echo "checker rejects a console that is not online: ok"
    ;;
  *)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
