#!/usr/bin/env bash
# CI smoke test of the parsers: builds every libFuzzer target (scripts/fuzz.sh: clang, ASan, UBSan,
# installing what is missing) and runs each for a few seconds from its seed corpus. Fails on any finding.
#   bash scripts/fuzz_smoke.sh [seconds per target=15]
# Long runs (millions of executions per target): bash scripts/fuzz.sh 3600 all — see docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/fuzz.sh "${1:-15}" all
