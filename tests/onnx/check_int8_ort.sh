#!/usr/bin/env bash
# ONNX Runtime against our int8 engine on the whole Fashion-MNIST test set (10,000 images): exports RUN
# with `resnet export --int8` (its calibration.json, from `resnet quantize`), classifies every test image
# with `resnet predict --engine int8`, runs the file in onnxruntime-node (tests/onnx/ort_env.sh installs
# it) and prints the top-1 agreement. Fails when it is under MIN_AGREEMENT per cent (default 99). Not in
# CTest: it needs a trained, calibrated Fashion-MNIST run (scripts/demo.sh makes runs/demo).
#   tests/onnx/check_int8_ort.sh RUN [MIN_AGREEMENT]
# Environment: RESNET_BUILD (default build), FASHION_MNIST (default /usr/share/datasets/fashion-mnist),
# ORT_OPT (ONNX Runtime graph optimisation level, default all: Q/DQ pairs fused into int8 kernels).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run=${1:?usage: check_int8_ort.sh RUN [MIN_AGREEMENT]}
min=${2:-99}
build=${RESNET_BUILD:-$root/build}
data=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash "$root/tests/onnx/ort_env.sh" "$build/onnx_ort" > /dev/null
"$build/resnet" export --checkpoint "$run" --int8 --onnx "$tmp/model.onnx"
"$build/resnet" predict --checkpoint "$run" --engine int8 --index 0-9999 --top-k 1 --json \
  > "$tmp/engine.json" 2> /dev/null
result=$(NODE_PATH="$build/onnx_ort/node_modules" node "$root/tests/onnx/ort_int8_fashion.js" "$tmp/model.onnx" \
  "$data/t10k-images-idx3-ubyte.gz" "$tmp/engine.json" "$data/t10k-labels-idx1-ubyte.gz")
echo "$result"
node -e "const r = JSON.parse(process.argv[1]); process.exit(r.images === 10000 && r.agreement >= $min ? 0 : 1)" \
  "$result" || { echo "check_int8_ort: top-1 agreement under $min % (or not 10,000 images)" >&2; exit 1; }
