#!/usr/bin/env bash
# Training throughput, ours vs tuned PyTorch 1.13, alternating in one run (these VMs drift 10-20 % between
# processes: compare the ratio, not absolute numbers across runs).
#   bash bench/compare_train.sh [rounds=3] [seconds=8]
# Peers are benchmark-only: this installs python3-torch, python3-torchvision and libtcmalloc-minimal4.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-8}"
for p in python3-torch python3-torchvision libtcmalloc-minimal4; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -n "${missing[*]:-}" ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q && $sudo apt-get install -y -q "${missing[@]}"
fi
[ -x build/bench_train ] || bash scripts/setup.sh
tcmalloc=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
printf '%-20s %12s %12s %8s\n' model "ours img/s" "torch img/s" ratio
for cfg in "resnet20 128 32" "resnet56 128 32" "resnet50 16 224"; do
  set -- $cfg
  ours=(); theirs=()
  for ((r = 0; r < rounds; r++)); do
    ours+=("$(OMP_NUM_THREADS=2 build/bench_train --benchmark_filter="BM_TrainStep/${1}_b${2}_${3}/" \
      --benchmark_min_time="$seconds" --benchmark_format=json 2>/dev/null |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["benchmarks"][0]["img/s"])')")
    theirs+=("$(LD_PRELOAD=$tcmalloc ATEN_CPU_CAPABILITY=avx512 /usr/bin/python3 bench/peers/torch_train.py "$1" "$2" "$3" "$seconds" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["img_per_s"])')")
  done
  /usr/bin/python3 - "$1" "${ours[*]}" "${theirs[*]}" <<'PY'
import json, statistics, sys
name, ours, theirs = sys.argv[1], [float(v) for v in sys.argv[2].split()], [float(v) for v in sys.argv[3].split()]
o, t = statistics.median(ours), statistics.median(theirs)
print(f"{name:<20} {o:12.1f} {t:12.1f} {o / t:8.2f}")
print(json.dumps({"bench": "train", "model": name, "ours_img_per_s": o, "torch_img_per_s": t, "ratio": o / t}), file=sys.stderr)
PY
done
