#!/usr/bin/python3
"""The PyTorch inference peer of bench_infer: torchvision MODEL at BATCH x 3 x 224 x 224, eval mode,
channels_last, traced and frozen with torch.jit (oneDNN fusions), 2 threads. bf16 casts weights and input
to bfloat16. Run through bench/run.sh, which preloads tcmalloc and sets ATEN_CPU_CAPABILITY=avx512.
Prints one JSON line.

    torch_infer.py MODEL BATCH SECONDS fp32|bf16
"""
import json
import resource
import sys
import time

import torch
import torchvision


def main():
    name, batch, seconds, precision = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(2)
    torch.manual_seed(0)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    model = getattr(torchvision.models, name)().eval().to(memory_format=torch.channels_last, dtype=dtype)
    x = torch.randn(batch, 3, 224, 224).to(memory_format=torch.channels_last, dtype=dtype)
    with torch.no_grad():
        model = torch.jit.freeze(torch.jit.trace(model, x))
        for _ in range(3):
            model(x)
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            model(x)
            runs += 1
        elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": "pytorch", "model": name, "batch": batch, "precision": precision,
                      "img_per_s": runs * batch / elapsed, "ms": 1e3 * elapsed / runs, "peak_mib": peak_mib}))


if __name__ == "__main__":
    main()
