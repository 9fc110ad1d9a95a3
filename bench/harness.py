#!/usr/bin/python3
"""The side-by-side speed harness (run it through bench/run.sh, which installs the peers and builds).

Every row runs each engine in its own process, alternating engines within a round, for ROUNDS rounds; the
table shows medians, GFLOP/s and % of this machine's limit (fp32 450, bf16 901, int8 1809 GFLOP/s on 2
cores; ANCHORS.md), each process's peak resident memory, and the ratio the speed targets are written
against. JSON lines (one per row and engine) go to --json.

    harness.py [--rounds 3] [--seconds 5] [--only train|infer|attack] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.path.join(ROOT, "bench", ".peers")
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
GFLOP_FWD = {"resnet20": 0.0811, "resnet20_28": 0.0811 * 28 * 28 / (32 * 32), "resnet56": 0.251, "resnet18": 3.63, "resnet50": 8.18}  # per image
LIMIT = {"fp32": 450.0, "bf16": 901.0, "int8": 1809.0}


def run_json(cmd, env_extra=None):
    env = dict(os.environ, OMP_NUM_THREADS="2", **(env_extra or {}))
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}\n")
        return None
    return out.stdout


def ours_gbench(binary, name, seconds):
    out = run_json([os.path.join(ROOT, "build", binary), f"--benchmark_filter=^{name}$",
                    f"--benchmark_min_time={seconds}", "--benchmark_format=json"])
    if out is None:
        return None
    b = json.loads(out)["benchmarks"][0]
    if b.get("error_occurred"):  # e.g. bf16 on a CPU without AVX-512
        sys.stderr.write(f"\n{name}: {b.get('error_message')}\n")
        return None
    seconds_per_batch = b["real_time"] / {"ms": 1e3, "us": 1e6, "ns": 1e9, "s": 1.0}[b["time_unit"]]
    return {"img_per_s": b["img/s"], "ms": 1e3 * seconds_per_batch, "peak_mib": b["peak_mib"]}


def python_peer(script, args):
    out = run_json(["/usr/bin/python3", os.path.join(ROOT, "bench", "peers", script)] + args,
                   {"LD_PRELOAD": TCMALLOC, "ATEN_CPU_CAPABILITY": "avx512"})
    return None if out is None else json.loads(out.strip().splitlines()[-1])


def ort_peer(model, batch, seconds):
    onnx = os.path.join(PEERS, "onnx", f"{model}_b{batch}.onnx")
    out = run_json(["node", os.path.join(ROOT, "bench", "peers", "ort_infer.js"), onnx, str(batch), str(seconds)],
                   {"NODE_PATH": os.path.join(PEERS, "node_modules")})
    return None if out is None else json.loads(out.strip().splitlines()[-1])


def training_rows(seconds):
    for model, batch, size in [("resnet20", 128, 32), ("resnet56", 128, 32), ("resnet50", 16, 224)]:
        row = f"train {model} b{batch} {size}²"
        gflop = 3 * GFLOP_FWD[model]
        yield row, gflop, "fp32", "ours", lambda m=model, b=batch, s=size: ours_gbench(
            "bench_train", f"BM_TrainStep/{m}_b{b}_{s}/real_time", seconds)
        yield row, gflop, "fp32", "pytorch", lambda m=model, b=batch, s=size: python_peer(
            "torch_train.py", [m, str(b), str(s), str(seconds), "fp32"])
        yield row, gflop, "bf16", "ours", lambda m=model, b=batch, s=size: ours_gbench(
            "bench_train", f"BM_TrainStep/{m}_b{b}_{s}_bf16/real_time", seconds)
        yield row, gflop, "bf16", "pytorch", lambda m=model, b=batch, s=size: python_peer(
            "torch_train.py", [m, str(b), str(s), str(seconds), "bf16"])


def inference_rows(seconds):
    for model in ["resnet18", "resnet50"]:
        for batch in [1, 32]:
            row = f"infer {model} b{batch}"
            gflop = GFLOP_FWD[model]
            for precision, tag in [("fp32", "f32"), ("bf16", "bf16"), ("int8", "int8")]:
                yield row, gflop, precision, "ours", lambda m=model, b=batch, t=tag: ours_gbench(
                    "bench_infer", f"BM_Engine/{m}_b{b}_{t}/real_time", seconds)
            yield row, gflop, "fp32", "onnxruntime", lambda m=model, b=batch: ort_peer(m, b, seconds)
            for precision in ["fp32", "bf16"]:
                yield row, gflop, precision, "pytorch", lambda m=model, b=batch, p=precision: python_peer(
                    "torch_infer.py", [m, str(b), str(seconds), p])


def attack_rows(seconds):
    # PGD-20: 20 forward + input-gradient passes (~3 forwards each: no weight gradients) and a final forward.
    row, gflop = "attack resnet20 pgd20 b250 28²", 61 * GFLOP_FWD["resnet20_28"]
    yield row, gflop, "fp32", "ours", lambda: ours_gbench("bench_attack", "BM_Pgd20/resnet20_b250_28/real_time",
                                                          seconds)
    yield row, gflop, "fp32", "pytorch", lambda: python_peer("torch_attack.py", ["250", str(seconds)])


# The ratio each target is stated in: (row prefix, precision, peer, metric); metric "ms" means a latency
# ratio (ours / peer, lower is better), "img_per_s" a throughput ratio (ours / peer, higher is better).
def target_for(row, precision):
    if row.startswith("train") or row.startswith("attack"):
        return ("pytorch", "img_per_s")
    if precision == "bf16":
        return ("pytorch", "img_per_s")
    if precision == "int8":  # the int8 target is stated against ONNX Runtime fp32 throughput
        return ("onnxruntime", "img_per_s")
    return ("onnxruntime", "ms" if row.endswith("b1") else "img_per_s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--only", choices=["train", "infer", "attack"])
    ap.add_argument("--json", help="write one JSON line per row and engine here")
    args = ap.parse_args()

    jobs = []
    if args.only in (None, "train"):
        jobs += list(training_rows(args.seconds))
    if args.only in (None, "infer"):
        jobs += list(inference_rows(args.seconds))
    if args.only in (None, "attack"):
        jobs += list(attack_rows(args.seconds))
    rows = {}
    for job in jobs:
        rows.setdefault(job[0], []).append(job)

    results = []
    header = f"{'row':<24} {'precision':<9} {'engine':<12} {'img/s':>8} {'ms/batch':>9} {'GFLOP/s':>8} {'% limit':>7} {'peak MiB':>9} {'ours/peer':>10}"
    print(header)
    print("-" * len(header))
    for row, row_jobs in rows.items():
        samples = {(p, e): [] for _, _, p, e, _ in row_jobs}
        for r in range(args.rounds):
            for _, _, precision, engine, fn in row_jobs:  # alternate engines within each round
                sys.stderr.write(f"\r[{r + 1}/{args.rounds}] {row} {precision} {engine}          ")
                sys.stderr.flush()
                res = fn()
                if res:
                    samples[(precision, engine)].append(res)
        sys.stderr.write("\r" + " " * 70 + "\r")
        medians = {}
        for key, runs in samples.items():
            if runs:
                medians[key] = {k: statistics.median(r[k] for r in runs) for k in ("img_per_s", "ms", "peak_mib") if k in runs[0]}
        gflop = row_jobs[0][1]
        for (precision, engine), m in medians.items():
            ratio = ""
            if engine == "ours":
                peer, metric = target_for(row, precision)
                p = medians.get((precision, peer)) or medians.get(("fp32", peer))
                if p and metric in m and metric in p:
                    ratio = f"{m[metric] / p[metric]:.2f}" + (" (ms)" if metric == "ms" else "")
            rate = gflop * m["img_per_s"]
            ms = m.get("ms", float("nan"))
            print(f"{row:<24} {precision:<9} {engine:<12} {m['img_per_s']:8.1f} {ms:9.1f} {rate:8.1f} "
                  f"{100 * rate / LIMIT[precision]:6.0f}% {m.get('peak_mib', float('nan')):9.0f} {ratio:>10}")
            results.append({"row": row, "precision": precision, "engine": engine, **m,
                            "gflop_per_s": rate, "percent_of_limit": 100 * rate / LIMIT[precision],
                            "ours_over_peer": ratio})
        sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
