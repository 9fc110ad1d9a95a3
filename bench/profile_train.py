#!/usr/bin/python3
"""Where a training step's time goes, by oneDNN primitive kind (build/profile_train with ONEDNN_VERBOSE=1).

    profile_train.py MODEL BATCH SIZE fp32|bf16 [STEPS] [--json FILE]

Prints per step: the phases (forward, loss, backward, SGD), then the time inside oneDNN primitives summed
by kind and direction (convolution forward / backward data / backward weights, batch norm, eltwise,
binary, reorder, pooling, inner product...), with GFLOP/s for the convolutions, and what is left outside
oneDNN (our own loops and the framework around them). Verbose timing costs ~1 us per primitive, so the
step here is slightly slower than in bench_train.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conv_flops(problem):
    """2·N·OC·OH·OW·IC/G·KH·KW from a oneDNN problem string like mb128_g1ic16oc16_ih32oh32kh3sh1dh0ph1_iw32..."""
    f = dict((k, int(v)) for k, v in re.findall(r"([a-z]+)(\d+)", problem))
    g = f.get("g", 1)
    return 2.0 * f["mb"] * f["oc"] * f["oh"] * f["ow"] * (f["ic"] // g) * f["kh"] * f["kw"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("batch")
    ap.add_argument("size")
    ap.add_argument("precision", choices=["fp32", "bf16"])
    ap.add_argument("steps", nargs="?", default="10")
    ap.add_argument("--json", help="write the summary here as JSON")
    ap.add_argument("--by-shape", action="store_true",
                    help="also list each convolution shape and direction: ms/step, GFLOP/s, oneDNN's kernel")
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"), ONEDNN_VERBOSE="1")
    cmd = [os.path.join(ROOT, "build", "profile_train"), args.model, args.batch, args.size, args.precision,
           args.steps]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"profile_train failed:\n{out.stderr}")

    inside = False
    kinds = collections.defaultdict(lambda: [0.0, 0, 0.0])  # ms, calls, flops
    convs = collections.defaultdict(lambda: [0.0, 0, 0.0, ""])  # by (direction, problem): + kernel name
    info = {"phase": {}}
    for line in out.stdout.splitlines():
        f = line.split(",")
        if f[0] == "profile_train":
            if f[1] == "begin":
                inside = True
            elif f[1] == "end":
                inside = False
            elif f[1] == "phase":
                info["phase"][f[2]] = float(f[3])
            else:
                info[f[1]] = float(f[2])
            continue
        if not inside or len(f) < 10 or not f[0].endswith("_verbose") or f[1] != "exec":
            continue
        kind, prop, problem, ms = f[3], f[5], f[-2], float(f[-1])
        direction = {"forward_training": "fwd", "forward_inference": "fwd", "backward_data": "bwd data",
                     "backward_weights": "bwd weights", "backward": "bwd"}.get(prop, prop)
        key = kind if kind in ("reorder", "sum") else f"{kind} {direction}"
        k = kinds[key]
        k[0] += ms
        k[1] += 1
        if kind == "convolution":
            k[2] += conv_flops(problem)
            c = convs[(direction, problem)]
            c[0] += ms
            c[1] += 1
            c[2] += conv_flops(problem)
            c[3] = f[4]

    steps = info["steps"]
    total = info["total_ms"] / steps
    in_dnnl = sum(v[0] for v in kinds.values()) / steps
    print(f"{args.model} b{args.batch} {args.size}² {args.precision}: {total:.1f} ms/step "
          f"({info['img_per_s']:.0f} img/s), {steps:.0f} steps, 2 threads")
    print("phases: " + ", ".join(f"{k} {v / steps:.1f} ms" for k, v in info["phase"].items()))
    print(f"tensor memory: {info['mib_before']:.0f} MiB before the first step (parameters, data), "
          f"{info['mib_after_forward']:.0f} after its forward, {info['mib_after_backward']:.0f} after its "
          f"backward; peak {info['mib_peak']:.0f} MiB; {info.get('mib_cached', 0):.0f} MiB freed and cached for reuse")
    if "plan_arena_mib" in info:
        print(f"step arena: {info['plan_arena_mib']:.0f} MiB for {info['plan_slots']:.0f} buffers (lower bound "
              f"{info['plan_lower_bound_mib']:.0f} MiB), {info['plan_replayed_steps']:.0f} steps served from it; "
              f"peak resident memory {info['peak_rss_mib']:.0f} MiB")
    print(f"{'inside oneDNN':<28} {'ms/step':>8} {'share':>6} {'calls':>6} {'GFLOP/s':>8}")
    rows = []
    for key, (ms, calls, flops) in sorted(kinds.items(), key=lambda kv: -kv[1][0]):
        rate = flops / (ms * 1e6) if flops else None
        rows.append({"what": key, "ms_per_step": ms / steps, "share": ms / steps / total,
                     "calls_per_step": calls / steps, "gflop_per_s": rate})
        print(f"{key:<28} {ms / steps:8.2f} {100 * ms / steps / total:5.1f}% {calls / steps:6.0f} "
              f"{rate if rate else float('nan'):8.0f}")
    print(f"{'outside oneDNN (ours)':<28} {total - in_dnnl:8.2f} {100 * (total - in_dnnl) / total:5.1f}%")
    if args.by_shape:
        print(f"\n{'convolution':<12} {'ms/step':>8} {'calls':>6} {'GFLOP/s':>8}  kernel / problem")
        for (direction, problem), (ms, calls, flops, kernel) in sorted(convs.items(), key=lambda kv: -kv[1][0]):
            print(f"{direction:<12} {ms / steps:8.2f} {calls / steps:6.0f} {flops / (ms * 1e6):8.0f}  "
                  f"{kernel} {problem}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"model": args.model, "batch": int(args.batch), "size": int(args.size),
                       "precision": args.precision, "ms_per_step": total, "img_per_s": info["img_per_s"],
                       "phases_ms": {k: v / steps for k, v in info["phase"].items()},
                       "memory_mib": {k[4:]: v for k, v in info.items() if k.startswith("mib_")},
                       "plan": {k[5:]: v for k, v in info.items() if k.startswith("plan_")},
                       "peak_rss_mib": info.get("peak_rss_mib"),
                       "inside_onednn": rows, "outside_onednn_ms": total - in_dnnl}, fh, indent=1)


if __name__ == "__main__":
    main()
