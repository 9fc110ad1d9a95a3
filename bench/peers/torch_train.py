#!/usr/bin/python3
"""The PyTorch peer of bench_train: the same training step (SGD momentum 0.9, wd 5e-4, random data), tuned
as ANCHORS.md says (run through bench/run.sh, which preloads tcmalloc and sets
ATEN_CPU_CAPABILITY=avx512), fp32 channels_last, 2 threads. Prints one JSON line.

    torch_train.py MODEL BATCH SIZE SECONDS [fp32|bf16]

bf16 runs the step under CPU autocast to bfloat16 (f32 master weights), PyTorch's mixed-precision recipe.
"""
import contextlib
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures"))


def build(name):
    if name.startswith("resnet") and name[6:].isdigit() and int(name[6:]) not in (18, 34, 50, 101, 152):
        import generate  # the CIFAR ResNet of the fixtures: option A, torchvision names

        return generate.CifarResNet((int(name[6:]) - 2) // 6, 10, 3)
    import torchvision

    return getattr(torchvision.models, name)()


def main():
    name, batch, size, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    precision = sys.argv[5] if len(sys.argv) > 5 else "fp32"
    torch.manual_seed(0)
    model = build(name).to(memory_format=torch.channels_last).train()
    torch.set_num_threads(2)  # after build(): importing the fixture script sets one thread
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(batch, 3, size, size).to(memory_format=torch.channels_last)
    classes = model.fc.out_features
    t = torch.randint(0, classes, (batch,))

    def autocast():
        if precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = F.cross_entropy(model(x), t)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": "pytorch", "model": name, "batch": batch, "precision": precision,
                      "img_per_s": steps * batch / elapsed, "peak_mib": peak_mib}))


if __name__ == "__main__":
    main()
