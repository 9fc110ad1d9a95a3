# Sourced by the scripts that build resnet.cpp: the Debian packages it needs, and one way to install
# those that are missing (apt-get as root, through sudo otherwise; nothing fetched when all are there).

# What building, testing and the demo need.
resnet_packages=(
  build-essential cmake ninja-build pkg-config
  libdnnl-dev            # oneDNN 2.6: the CPU kernels
  ocl-icd-opencl-dev     # only Recommended by libdnnl-dev, but its CMake config requires OpenCL
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev     # safetensors headers, configs
  libcli11-dev           # command line
  zlib1g-dev             # gzipped IDX files
  libzip-dev             # PyTorch .pth checkpoints (zip archives)
  libisal-dev            # CRC-32C of TensorBoard event records
  libturbojpeg0-dev libspng-dev  # JPEG and PNG images
  libcairo2-dev          # charts and pictures (src/viz)
  libtomlplusplus-dev    # configs/*.toml
  libonnx-dev libprotobuf-dev  # ONNX export/import (the schema as compiled protobuf classes)
  libonnx-testdata       # the official ONNX node tests our importer's ops must pass
  dataset-fashion-mnist  # the demo's data set
)

# install_missing WHO PACKAGE...: WHO names the script in the one line it prints when it installs.
install_missing() {
  local who="$1" p sudo=""
  shift
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  echo "$who: installing ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}
