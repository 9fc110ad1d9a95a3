#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.cpp) with clang, AddressSanitizer and UBSan through CMake
# (-DRESNET_FUZZ=ON, in build-fuzz/) and runs one or all of them.
#   bash scripts/fuzz.sh [seconds=60] [target|all=all] [extra libFuzzer flags...]
# Targets: safetensors pth onnx idx cifar image config model_card (fuzz/fuzz_<target>.cpp).
# Each runs for `seconds` on its corpus build-fuzz/corpus/<target>, seeded from committed fixtures and from
# small files written by build-fuzz/make_seeds. A finding (crash, sanitizer report, an exception other
# than resnet::UserError) stops the target, leaves crash-*/oom-*/timeout-* in build-fuzz/ and makes the
# script exit non-zero. Reproduce one with: build-fuzz/fuzz_<target> build-fuzz/crash-<hash>
# Needs clang and its runtime (Debian: clang libclang-rt-14-dev libomp-dev); installs them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
which="${2:-all}"
shift $(($# > 2 ? 2 : $#))
extra=("$@")
all=(safetensors pth onnx idx cifar image config model_card)

# clang with its sanitizer/libFuzzer runtime and OpenMP, plus the library's own dependencies.
source scripts/packages.sh
install_missing fuzz clang libclang-rt-14-dev libomp-dev unzip "${resnet_packages[@]}"

build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  # -O1 with line tables: quick to compile, fast enough to fuzz, symbolised stacks; asserts stay on.
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
    -DCMAKE_CXX_COMPILER=clang++ -DRESNET_FUZZ=ON -DRESNET_BUILD_TESTS=OFF -DRESNET_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build" --target fuzz_targets make_seeds -j "${RESNET_FUZZ_JOBS:-2}"

targets=("${all[@]}")
[ "$which" = all ] || targets=("$which")
for t in "${targets[@]}"; do
  [ -x "$build/fuzz_$t" ] || { echo "unknown fuzz target '$t' (one of: ${all[*]}, or all)" >&2; exit 2; }
done

# Seeds: committed fixtures (small ones) and generated files; the corpora grow as the fuzzer runs.
seed() {  # seed TARGET FILES...
  local dir="$build/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 400000 ] && cp "$f" "$dir/" || true
  done
}
mkdir -p "$build/corpus"
"$build/make_seeds" "$build/corpus" >/dev/null
seed safetensors tests/fixtures/*.safetensors tests/fixtures/onnx/*.safetensors
seed pth tests/fixtures/pth/*.pth
for f in tests/fixtures/pth/dtypes.pth tests/fixtures/pth/nested.pth; do
  unzip -p "$f" '*/data.pkl' >"$build/corpus/pth/$(basename "$f" .pth).pkl" 2>/dev/null || true
done
seed onnx tests/fixtures/onnx/*.onnx
seed image tests/fixtures/pth/photo_300x200.png
seed config configs/*.toml

status=0
for t in "${targets[@]}"; do
  echo "== fuzz_$t: ${seconds}s"
  # -rss_limit_mb: an input that needs more memory than this is a finding (an allocation sized by the
  # file); -timeout: one input taking longer is a finding (a hang).
  if ! (cd "$build" && ./"fuzz_$t" -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2560 \
    -timeout=25 -print_final_stats=1 "${extra[@]}" "corpus/$t" 2>"fuzz_$t.log"); then
    status=1
    echo "!! fuzz_$t found a problem: see $build/fuzz_$t.log and $build/crash-* / oom-* / timeout-*" >&2
  fi
  grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" "$build/fuzz_$t.log" || true
done
exit $status
