#!/bin/sh
# Runs the whole test suite, unit and end-to-end, built with one sanitizer. See
# docs/testing.md.
#
#   scripts/test-sanitizer.sh thread|address [swift test options, e.g. --filter Resilience]
#
# Each sanitizer builds into its own directory (.build/thread, .build/address), so the
# normal .build/debug stays as it was. The end-to-end tests run the sanitized fwd through
# FWD_BINARY. Every sanitized process (the test runner and each fwd it starts) writes its
# reports to files under .build/SANITIZER/reports, and the run fails when any report exists.
# Leaks in code outside fwd are suppressed by scripts/lsan-suppressions.txt.
set -eu

cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
sanitizer=${1:?usage: scripts/test-sanitizer.sh thread|address [swift test options]}
shift
case "$sanitizer" in
  thread | address) ;;
  *)
    echo "test-sanitizer: unknown sanitizer '$sanitizer': expected thread or address" >&2
    exit 64
    ;;
esac
build=.build/$sanitizer
reports=$PWD/$build/reports
rm -rf "$reports"
mkdir -p "$reports"

started=$(date +%s)
"$SWIFT" build --build-tests --sanitize="$sanitizer" --build-path "$build"
built=$(date +%s)

# Swift's crash backtracer would run before the sanitizer's own report on a crash.
export SWIFT_BACKTRACE=enable=no
export FWD_BINARY="$PWD/$build/debug/fwd"
case "$sanitizer" in
  thread)
    # A process that exits while other threads run first sleeps atexit_sleep_ms (1000 by
    # default), so that they can still report races. Tests that time fwd's exit (a second
    # SIGINT ends it at once, with its hop threads still running) would measure that sleep.
    export TSAN_OPTIONS="log_path=$reports/report atexit_sleep_ms=0 ${TSAN_OPTIONS:-}"
    ;;
  address)
    # The slow unwinder follows stacks through libraries built without frame pointers
    # (libcrypto, SoftHSM), so leaks there carry the names the suppressions match.
    export ASAN_OPTIONS="log_path=$reports/report fast_unwind_on_malloc=0 ${ASAN_OPTIONS:-}"
    # print_suppressions=0 keeps the list of suppressions used out of the report files.
    export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt print_suppressions=0 ${LSAN_OPTIONS:-}"
    ;;
esac
status=0
"$SWIFT" test --skip-build --sanitize="$sanitizer" --build-path "$build" "$@" || status=$?
finished=$(date +%s)

echo "test-sanitizer: $sanitizer: build $((built - started)) s, tests $((finished - built)) s"
found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
  for report in $found; do
    echo "== $report"
    cat "$report"
  done
  echo "test-sanitizer: $sanitizer: $(echo "$found" | wc -l) report files in $reports" >&2
  exit 1
fi
exit "$status"
