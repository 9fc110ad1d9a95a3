#!/usr/bin/env bash
# The crash-test harness, longer than CI runs it: SIGKILLs a small training run at every crash point after
# its last step and at N random moments (random crash points, random wall-clock kills whose recovery is
# killed again), recovers each run as a user would and checks it ends bit-identical to an uninterrupted
# one (tests/train/test_crash.cpp).
#   bash scripts/crash_test.sh [N=40]
set -euo pipefail
cd "$(dirname "$0")/.."
kills="${1:-40}"
bash scripts/setup.sh
RESNET_CRASH_TEST_ALL=1 RESNET_CRASH_TEST_KILLS="$kills" build/resnet_tests --gtest_filter='CrashTest.*'
