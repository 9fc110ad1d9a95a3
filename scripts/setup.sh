#!/usr/bin/env bash
# Installs every Debian package resnet.cpp needs to build, test and run its demo, then configures and
# builds it (Release, Ninja) in build/. Idempotent: packages already installed are not fetched again, and
# the build is incremental. Runs apt-get as root, through sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev            # oneDNN 2.6: the CPU kernels
  ocl-icd-opencl-dev     # only Recommended by libdnnl-dev, but its CMake config requires OpenCL
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev     # safetensors headers, configs
  libcli11-dev           # command line
  zlib1g-dev             # gzipped IDX files
  libzip-dev             # PyTorch .pth checkpoints (zip archives)
  libturbojpeg0-dev libspng-dev  # JPEG and PNG images
  libplplot-dev plplot-driver-cairo  # plots (PNG through cairo)
  libtomlplusplus-dev    # configs/*.toml
  libonnx-dev libprotobuf-dev  # ONNX export/import (the schema as compiled protobuf classes)
  libonnx-testdata       # the official ONNX node tests our importer's ops must pass
  dataset-fashion-mnist  # the demo's data set
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build_type="${BUILD_TYPE:-Release}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" > /dev/null
cmake --build build
