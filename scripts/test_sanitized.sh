#!/usr/bin/env bash
# Builds the library, the tool and the whole test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (gcc, -DRESNET_SANITIZE=address,undefined, RelWithDebInfo) in build-asan/ and runs it with CTest. Any
# sanitizer report aborts the test that triggered it, so the run passes only when none fired.
#   bash scripts/test_sanitized.sh [extra ctest arguments, e.g. -R Safetensors]
# Takes much longer than scripts/test.sh (the build ~2x, the tests 2-5x): see docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/packages.sh
install_missing test_sanitized "${resnet_packages[@]}"

build=build-asan
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESNET_SANITIZE=address,undefined \
  -DRESNET_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "${RESNET_JOBS:-2}"

# Leak checking is off: oneDNN's primitive cache, OpenMP's thread pool and protobuf's descriptor pool
# hold allocations for the life of the process by design. Memory errors and UB are what this run checks.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
# Page faults and resident growth are what this test counts; ASan's shadow memory and quarantine change
# both, so it cannot pass here (it runs in the normal suite).
ctest --output-on-failure -j "${RESNET_JOBS:-2}" -E 'Memory.TwoHundredTrainingStepsAllocateNothingAfterWarmUp' "$@"
