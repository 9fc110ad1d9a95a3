#!/usr/bin/env bash
# Makes ONNX Runtime (npm onnxruntime-node, CPU build) importable from DIR/node_modules for the export test.
# Installs Debian's nodejs and npm with apt when node or npm is missing (as root, or through sudo), then
# installs onnxruntime-node once into DIR (an ignored build directory). ONNXRUNTIME_NODE_INSTALL=skip: the
# package's own install script would download CUDA binaries; the CPU runtime ships inside the package.
#   ort_env.sh DIR      exit 0 when `node -e "require('onnxruntime-node')"` works from DIR
set -euo pipefail
dir=$1
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo "ort_env: installing Debian's nodejs and npm" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends nodejs npm >&2
fi
mkdir -p "$dir"
if ! (cd "$dir" && node -e "require('onnxruntime-node')" 2> /dev/null); then
  echo "ort_env: npm install onnxruntime-node into $dir" >&2
  # Two test processes may get here at once: one installs, the other waits for it.
  exec 9> "$dir/.install.lock"
  flock 9
  if ! (cd "$dir" && node -e "require('onnxruntime-node')" 2> /dev/null); then
    (cd "$dir" && [ -f package.json ] || echo '{"private": true}' > package.json)
    (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --silent onnxruntime-node >&2)
  fi
fi
cd "$dir" && node -e "require('onnxruntime-node')"
