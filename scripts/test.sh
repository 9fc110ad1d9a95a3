#!/usr/bin/env bash
# Sets everything up, runs the whole test suite with CTest, then the parsers' fuzz smoke: every libFuzzer
# target built with clang, ASan and UBSan (build-fuzz/) and run for 15 s from its seeds
# (scripts/fuzz_smoke.sh). RESNET_FUZZ_SMOKE=0 skips the smoke (it needs clang and ~5 more minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
if [ "${RESNET_FUZZ_SMOKE:-1}" != 0 ]; then
  bash scripts/fuzz_smoke.sh 15
fi
