#!/usr/bin/env bash
# Sets everything up, then trains a ResNet-20 on Fashion-MNIST, evaluates it and predicts a few test images.
# Extra arguments go to `resnet demo` (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/resnet demo "$@"
