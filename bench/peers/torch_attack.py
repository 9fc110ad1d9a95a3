#!/usr/bin/python3
"""The PyTorch peer of bench_attack: PGD-20 (L-inf, eps 0.1, step 2.5*eps/20, no random start) on BATCH
random 1x28x28 images against the option-A CIFAR ResNet-20 of the fixtures (random weights, eval mode,
channels_last, 2 threads), the normalisation inside the attacked function as resnet.cpp does it: one
forward and input-gradient pass per step, then a final forward. Prints one JSON line.

    torch_attack.py BATCH SECONDS
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures"))


def main():
    batch, seconds = int(sys.argv[1]), float(sys.argv[2])
    import generate  # the CIFAR ResNet of the fixtures: option A, torchvision names

    torch.manual_seed(0)
    model = generate.CifarResNet(3, 10, 1).eval().to(memory_format=torch.channels_last)
    for p in model.parameters():
        p.requires_grad_(False)
    torch.set_num_threads(2)  # after the import: the fixture script sets one thread
    x = torch.rand(batch, 1, 28, 28).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,))
    eps, steps = 0.1, 20
    alpha = 2.5 * eps / steps
    mean, std = 0.2860, 0.3530

    def pgd():
        a = x.clone()
        for _ in range(steps):
            a.requires_grad_(True)
            loss = F.cross_entropy(model((a - mean) / std), y, reduction="sum")
            (g,) = torch.autograd.grad(loss, a)
            with torch.no_grad():
                a = torch.min(torch.max(a + alpha * g.sign(), x - eps), x + eps).clamp(0, 1)
        with torch.no_grad():
            return a, model((a - mean) / std)

    pgd()
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        pgd()
        runs += 1
    elapsed = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"engine": "pytorch", "batch": batch, "img_per_s": runs * batch / elapsed,
                      "ms": 1e3 * elapsed / runs, "peak_mib": peak_mib}))


if __name__ == "__main__":
    main()
