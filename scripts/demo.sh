#!/usr/bin/env bash
# The main job, from a fresh Debian machine: install what is missing, build, train the paper's ResNet-20
# on Fashion-MNIST (configs/fashion_mnist_resnet20.toml) with a progress bar, evaluate it, and classify a
# few test images — from PNG files and by test-set index — then quantise it to int8 and compare. Everything lands in runs/demo/ (replaced on
# every demo). Extra arguments go to `resnet train` (e.g. --epochs 2 or --set optim.lr=0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

run=runs/demo
rm -rf "$run"
build/resnet train --config configs/fashion_mnist_resnet20.toml --name demo "$@"
echo
build/resnet eval --checkpoint "$run"
echo
build/resnet images --dataset fashion-mnist --split test --count 6 --out "$run/images"
build/resnet predict --checkpoint "$run" "$run/images"
build/resnet predict --checkpoint "$run" --index 6-11
echo
# int8: calibrate on 2,000 training images, then the int8 engine against fp32 on the test set.
build/resnet quantize --checkpoint "$run" --images 2000
echo
echo "Run directory: $run (curves.png, confusion.png, metrics.csv, best.safetensors, last.safetensors)"
awk -F': ' '/"final_top1"/ { sub(",", "", $2); printf "Final test accuracy: %.2f %%\n", $2 }' "$run/summary.json"
