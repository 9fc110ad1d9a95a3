#!/usr/bin/env bash
# Installs every Debian package resnet.cpp needs to build, test and run its demo, then configures and
# builds it (Release, Ninja) in build/. Idempotent: packages already installed are not fetched again, and
# the build is incremental. Runs apt-get as root, through sudo otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/packages.sh
install_missing setup "${resnet_packages[@]}"

build_type="${BUILD_TYPE:-Release}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" > /dev/null
cmake --build build
