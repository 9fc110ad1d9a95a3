#!/usr/bin/env bash
# Builds a fuzz target with clang's libFuzzer + AddressSanitizer + UBSan and runs it.
#   bash scripts/fuzz.sh [seconds=60] [target=safetensors|pth]
# safetensors: the safetensors parser; pth: the restricted unpickler and the PyTorch checkpoint reader.
# Needs clang and its runtime (Debian: clang libclang-rt-14-dev); installs them when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-safetensors}"
for p in clang libclang-rt-14-dev nlohmann-json3-dev libzip-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "${missing[*]:-}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
core=(src/core/tensor.cpp src/core/memory.cpp src/core/shape.cpp src/core/dtype.cpp)
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -Iinclude -Isrc)
corpus="build-fuzz/corpus-$target"
mkdir -p "$corpus"
case "$target" in
  safetensors)
    clang++ "${flags[@]}" fuzz/fuzz_safetensors.cpp src/io/safetensors.cpp src/io/atomic_file.cpp "${core[@]}" \
      -o build-fuzz/fuzz_safetensors
    # Seeds: the committed fixtures are valid files of several shapes and dtypes.
    cp tests/fixtures/*.safetensors "$corpus"/ 2>/dev/null || true
    ;;
  pth)
    clang++ "${flags[@]}" fuzz/fuzz_pth.cpp src/io/pickle.cpp src/io/pth.cpp src/io/zip_archive.cpp "${core[@]}" \
      $(pkg-config --cflags --libs libzip) -o build-fuzz/fuzz_pth
    # Seeds: torch's own checkpoints (zip and legacy) and the hostile ones, plus the bare pickles inside.
    cp tests/fixtures/pth/*.pth "$corpus"/
    for f in tests/fixtures/pth/dtypes.pth tests/fixtures/pth/nested.pth; do
      unzip -p "$f" '*/data.pkl' > "$corpus/$(basename "$f" .pth).pkl" 2>/dev/null || true
    done
    ;;
  *) echo "unknown fuzz target '$target' (safetensors or pth)" >&2; exit 2 ;;
esac
build-fuzz/fuzz_"$target" -max_total_time="$seconds" -max_len=131072 -rss_limit_mb=2048 "$corpus"
