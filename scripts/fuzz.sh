#!/usr/bin/env bash
# Builds the safetensors fuzz target with clang's libFuzzer + AddressSanitizer and runs it.
#   bash scripts/fuzz.sh [seconds=60]
# Needs clang and its runtime (Debian: clang libclang-rt-14-dev); installs them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
for p in clang libclang-rt-14-dev nlohmann-json3-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "${missing[*]:-}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
mkdir -p build-fuzz/corpus
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc \
  fuzz/fuzz_safetensors.cpp src/io/safetensors.cpp src/io/atomic_file.cpp src/core/tensor.cpp \
  src/core/memory.cpp src/core/shape.cpp src/core/dtype.cpp -o build-fuzz/fuzz_safetensors
# Seeds: the committed fixtures are valid files of several shapes and dtypes.
cp tests/fixtures/*.safetensors build-fuzz/corpus/ 2>/dev/null || true
build-fuzz/fuzz_safetensors -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 build-fuzz/corpus
