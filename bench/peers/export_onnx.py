#!/usr/bin/python3
"""Writes the ONNX files ONNX Runtime runs in bench/run.sh: torchvision MODEL at a fixed batch, random
weights (speed does not depend on them), opset 13.

    export_onnx.py OUT_DIR MODEL:BATCH...
"""
import os
import sys

import torch
import torchvision


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for spec in sys.argv[2:]:
        name, batch = spec.split(":")
        path = os.path.join(out, f"{name}_b{batch}.onnx")
        if os.path.exists(path):
            continue
        model = getattr(torchvision.models, name)().eval()
        x = torch.randn(int(batch), 3, 224, 224)
        torch.onnx.export(model, x, path + ".tmp", opset_version=13, input_names=["x"], output_names=["logits"])
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
