#!/usr/bin/env python3
"""A/B of one Google Benchmark binary built from two commits, on this machine, alternating runs (these VMs
drift between processes, so only ratios from one interleaved session mean anything).

    python3 dev/ab_bench.py OLD_BINARY NEW_BINARY [--filter REGEX] [--rounds 3] [--min-time 2]

Prints, per row, the median real time of each side over the rounds and new/old (above 1 = slower).
"""
import argparse
import json
import statistics
import subprocess


def run(binary, regex, min_time):
    out = subprocess.run([binary, f"--benchmark_filter={regex}", f"--benchmark_min_time={min_time}",
                          "--benchmark_format=json"], check=True, capture_output=True, text=True).stdout
    return {b["name"]: b["real_time"] for b in json.loads(out)["benchmarks"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--filter", default=".")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--min-time", type=float, default=2)
    a = p.parse_args()
    times = {"old": {}, "new": {}}
    for r in range(a.rounds):
        for side in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            for name, t in run(getattr(a, side), a.filter, a.min_time).items():
                times[side].setdefault(name, []).append(t)
    print(f"{'row':48s} {'old ms':>9s} {'new ms':>9s} {'new/old':>8s}")
    for name in times["old"]:
        o, n = statistics.median(times["old"][name]), statistics.median(times["new"].get(name, [float("nan")]))
        print(f"{name:48s} {o:9.2f} {n:9.2f} {n / o:8.3f}")


if __name__ == "__main__":
    main()
