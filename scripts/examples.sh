#!/usr/bin/env bash
# The library as others use it: builds resnet.cpp (build-pkg/, or the build directory given), installs it
# into a temporary prefix, builds the programs of examples/ against that prefix (find_package(resnet),
# each its own CMake project; classify once more against resnet::resnet_static, and pkg-config's view of
# resnet.pc), then runs them on real data: a tiny Fashion-MNIST checkpoint trained by the installed
# `resnet`, PNG files written by `resnet images`, a small image folder. Exits non-zero on any failure.
#
#   bash scripts/examples.sh [BUILD_DIR]      e.g. `bash scripts/examples.sh build` reuses the main build
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-pkg}"
jobs="${RESNET_JOBS:-$(nproc)}"
step() { printf '\n== %s (%ds)\n' "$*" "$SECONDS"; }

if [ ! -f "$build/CMakeCache.txt" ]; then
  step "configuring $build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRESNET_BUILD_TESTS=OFF -DRESNET_BUILD_BENCH=OFF
fi
step "building the library and the tool in $build"
cmake --build "$build" -j "$jobs" --target resnet resnet_lib resnet_shared

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
step "installing into $prefix"
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
version="$("$prefix/bin/resnet" --version)"
echo "$version"
[ "$version" = "resnet.cpp $(sed -n 's/^project(resnet_cpp VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)" ]

pc_dir="$(dirname "$(find "$prefix" -name resnet.pc)")"
PKG_CONFIG_PATH="$pc_dir" pkg-config --static --libs resnet > /dev/null  # every Requires.private resolves
echo "pkg-config: resnet $(PKG_CONFIG_PATH="$pc_dir" pkg-config --modversion resnet):" \
  "$(PKG_CONFIG_PATH="$pc_dir" pkg-config --cflags --libs resnet)"

examples=(classify fine_tune export_onnx)
for ex in "${examples[@]}"; do
  step "building examples/$ex against the prefix"
  cmake -S "examples/$ex" -B "$tmp/build-$ex" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    > "$tmp/configure-$ex.log" || { cat "$tmp/configure-$ex.log"; exit 1; }
  cmake --build "$tmp/build-$ex" -j "$jobs"
done
# A consumer of the static archive: the same program, linked with resnet::resnet_static.
step "building classify against resnet::resnet_static"
mkdir -p "$tmp/static"
cat > "$tmp/static/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(classify_static LANGUAGES CXX)
find_package(resnet 0.1 REQUIRED COMPONENTS static)
add_executable(classify_static $PWD/examples/classify/classify.cpp)
target_compile_features(classify_static PRIVATE cxx_std_20)
target_link_libraries(classify_static PRIVATE resnet::resnet_static)
CMAKE
cmake -S "$tmp/static" -B "$tmp/build-static" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
  > "$tmp/configure-static.log" || { cat "$tmp/configure-static.log"; exit 1; }
cmake --build "$tmp/build-static" -j "$jobs"
if ldd "$tmp/build-static/classify_static" | grep -q libresnet; then
  echo "classify_static should not load libresnet.so"
  exit 1
fi

step "data: a tiny checkpoint, PNG files, an image folder"
"$prefix/bin/resnet" train --dataset fashion-mnist --epochs 1 --batch-size 64 --set data.train_limit=512 \
  --set data.test_limit=256 --set run.plots=false --dir "$tmp/runs" --name tiny > "$tmp/train.log" 2>&1 ||
  { cat "$tmp/train.log"; exit 1; }
checkpoint="$tmp/runs/tiny/best.safetensors"
test -s "$checkpoint"
"$prefix/bin/resnet" images --dataset fashion-mnist --split test --count 4 --out "$tmp/png"
"$prefix/bin/resnet" images --dataset fashion-mnist --split train --count 128 --out "$tmp/all" > /dev/null
for f in "$tmp"/all/*_{Trouser,Bag,Sneaker}.png; do  # three classes: the fine-tune gets a new classifier
  class="${f##*_}" && mkdir -p "$tmp/folder/${class%.png}" && cp "$f" "$tmp/folder/${class%.png}/"
done
ls "$tmp/folder" | tr '\n' ' ' && echo "($(find "$tmp/folder" -name '*.png' | wc -l) images)"

step "classify"
image="$(ls "$tmp"/png/*.png | head -1)"
for program in "$tmp/build-classify/classify" "$tmp/build-static/classify_static"; do
  echo "$(basename "$program") $(basename "$image"):"
  "$program" "$checkpoint" "$image" 3 | tee "$tmp/classify.txt"
  [ "$(wc -l < "$tmp/classify.txt")" -eq 3 ]
  grep -qE '^[A-Za-z].* +[0-9.]+%$' "$tmp/classify.txt"
done

step "fine_tune (10 steps on the folder, a quarter held out)"
"$tmp/build-fine_tune/fine_tune" "$checkpoint" "$tmp/folder" "$tmp/runs" optim.steps=10 data.val_fraction=0.25 \
  run.eval_batch_size=64 > "$tmp/fine_tune.log" 2>&1 || { cat "$tmp/fine_tune.log"; exit 1; }
grep -m 5 -E 'Starting from|accuracy' "$tmp/fine_tune.log"
test -s "$tmp/runs/fine_tune/last.safetensors"
"$tmp/build-classify/classify" "$tmp/runs/fine_tune" "$(ls "$tmp"/folder/Bag/*.png | head -1)" 3

step "export_onnx"
"$tmp/build-export_onnx/export_onnx" "$checkpoint" "$tmp/tiny.onnx"
test -s "$tmp/tiny.onnx"
"$prefix/bin/resnet" predict --checkpoint "$tmp/tiny.onnx" "$image" --top-k 1  # the file reads back

step "all examples passed"
