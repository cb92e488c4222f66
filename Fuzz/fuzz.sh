#!/bin/sh
# Builds and runs fwd's libFuzzer targets. See docs/testing.md.
#
#   Fuzz/fuzz.sh build [TARGET...]            build the targets (all when none is named)
#   Fuzz/fuzz.sh run SECONDS [TARGET...]      build, then fuzz each target for SECONDS
#
# FwdCore and FwdBindings are compiled once by SwiftPM with coverage instrumentation
# (-sanitize=fuzzer) and AddressSanitizer into .build/fuzz. Each target is then one swiftc
# invocation that compiles Fuzz/Support and Fuzz/TARGET and links them with those object
# files, so Package.swift needs no fuzz targets and normal builds are untouched.
set -eu

cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
BUILD=.build/fuzz
CONFIGURATION=release
TARGETS="forward-spec hop-spec command-line ssh-config known-hosts socks-request"

build_library() {
  "$SWIFT" build -c "$CONFIGURATION" --build-path "$BUILD" --target FwdCore \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
}

build_target() {
  name=$1
  products=$BUILD/$CONFIGURATION
  binary=$BUILD/bin/$name
  mkdir -p "$BUILD/bin"
  if [ -f "$binary" ] && [ -z "$(find Fuzz/Support "Fuzz/$name" "$products/FwdCore.build" \
    "$products/FwdBindings.build" -name '*.swift*' -newer "$binary" | head -n 1)" ]; then
    return 0
  fi
  echo "fuzz: linking $binary"
  # The module maps of the C libraries FwdBindings imports, and their header paths.
  module_maps=""
  for library in CLibSSH2 CP11Kit CLibCrypto; do
    module_maps="$module_maps -Xcc -fmodule-map-file=Sources/$library/module.modulemap"
  done
  # SwiftPM writes the module map of the C target FwdKeystream beside its object file.
  module_maps="$module_maps -Xcc -fmodule-map-file=$products/FwdKeystream.build/module.modulemap"
  header_paths=$(pkg-config --cflags-only-I libssh2 p11-kit-1 libcrypto | sed 's/-I/-Xcc -I/g')
  # shellcheck disable=SC2086 # the flag lists are split on purpose
  swiftc -O -sanitize=fuzzer,address -parse-as-library -use-ld=lld \
    -module-name "FuzzTarget" \
    -I "$products/Modules" $module_maps $header_paths \
    Fuzz/Support/*.swift "Fuzz/$name"/*.swift \
    "$products"/FwdCore.build/*.o "$products"/FwdBindings.build/*.o \
    "$products"/FwdKeystream.build/*.o \
    $(pkg-config --libs libssh2 p11-kit-1 libcrypto) \
    -o "$binary"
}

run_target() {
  name=$1
  seconds=$2
  # New inputs go to a corpus under .build, so the seeds in Fuzz/corpus stay as committed.
  corpus=$BUILD/corpus/$name
  artifacts=$BUILD/artifacts/$name
  mkdir -p "$corpus" "$artifacts"
  dictionary=""
  if [ -f "Fuzz/$name/dictionary" ]; then dictionary="-dict=Fuzz/$name/dictionary"; fi
  echo "fuzz: $name for $seconds s"
  # Swift's own crash backtracer would catch the crash first and can hang under
  # AddressSanitizer, so libFuzzer's handler is left to report it and save the input.
  # Inputs run in well under a second. The 30 s timeout leaves room for a loaded machine,
  # because 10 s timeouts were seen there on inputs that take 0.1 s alone.
  # shellcheck disable=SC2086
  SWIFT_BACKTRACE=enable=no "$BUILD/bin/$name" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" $dictionary \
    "$corpus" "Fuzz/corpus/$name" 2>"$BUILD/$name.log" || {
    status=$?
    tail -n 40 "$BUILD/$name.log"
    echo "fuzz: $name failed (status $status); the input is in $artifacts/" >&2
    return "$status"
  }
  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::new_units_added" \
    "$BUILD/$name.log" | sed "s/^/fuzz: $name: /"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  build)
    selected=${*:-$TARGETS}
    build_library
    for name in $selected; do build_target "$name"; done
    ;;
  run)
    seconds=${1:?usage: Fuzz/fuzz.sh run SECONDS [TARGET...]}
    shift
    selected=${*:-$TARGETS}
    build_library
    for name in $selected; do build_target "$name"; done
    failed=""
    for name in $selected; do run_target "$name" "$seconds" || failed="$failed $name"; done
    if [ -n "$failed" ]; then
      echo "fuzz: crashes or invariant failures in:$failed" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: Fuzz/fuzz.sh build [TARGET...] | run SECONDS [TARGET...]" >&2
    exit 64
    ;;
esac
