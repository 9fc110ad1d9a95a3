#!/usr/bin/env bash
# Sets everything up, runs the whole test suite with CTest, then the library as others use it (installed
# into a temporary prefix, the three programs of examples/ built against it and run: scripts/examples.sh),
# then the parsers' fuzz smoke: every libFuzzer target built with clang, ASan and UBSan (build-fuzz/) and
# run for 15 s from its seeds (scripts/fuzz_smoke.sh). RESNET_FUZZ_SMOKE=0 skips the smoke (it needs clang
# and ~5 more minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
bash scripts/examples.sh build
if [ "${RESNET_FUZZ_SMOKE:-1}" != 0 ]; then
  bash scripts/fuzz_smoke.sh 15
fi
