#!/usr/bin/env bash
# One command for the side-by-side speed table: ours against tuned PyTorch 1.13 and ONNX Runtime, in one
# run, alternating (these VMs drift 10-20 % between processes: compare ratios, not absolute numbers across
# runs). Installs the peers (benchmark-only: never a build or test dependency) and builds first.
#   bash bench/run.sh [--rounds 3] [--seconds 5] [--only train|infer|attack] [--json FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
for p in python3-torch python3-torchvision libtcmalloc-minimal4; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node > /dev/null && command -v npm > /dev/null || missing+=(nodejs npm)
if [ -n "${missing[*]:-}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q "${missing[@]}"
fi
peers=bench/.peers
if [ ! -d "$peers/node_modules/onnxruntime-node" ]; then
  mkdir -p "$peers"
  # Its install script would download CUDA binaries (offline here); the CPU build ships in the package.
  (cd "$peers" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --silent onnxruntime-node)
fi
/usr/bin/python3 bench/peers/export_onnx.py "$peers/onnx" resnet18:1 resnet18:32 resnet50:1 resnet50:32 2>/dev/null
[ -x build/bench_infer ] && [ -x build/bench_train ] || bash scripts/setup.sh
cmake --build build --target bench_infer bench_train bench_attack > /dev/null
exec /usr/bin/python3 bench/harness.py "$@"
