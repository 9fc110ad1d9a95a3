// ONNX import: recognises a residual network in an ONNX graph and maps it onto resnet.cpp's modules, so it
// can be evaluated, exported again or fine-tuned (not only run).
//
// What is recognised (from resnet.cpp's own exports, PyTorch's torch.onnx.export, tf2onnx-style graphs):
//   stem     Conv 7×7/2 pad 3 + MaxPool 3×3/2 pad 1 (ImageNet) or Conv 3×3/1 pad 1 (small images), with
//            BN + ReLU (post-activation) or bare (pre-activation);
//   blocks   basic (2 convs), bottleneck (1×1, 3×3 with groups, 1×1; stride on the 3×3 or the first 1×1),
//            pre-activation basic/bottleneck, plain (no Add); shortcuts identity, projection (1×1 Conv
//            [+ BN]) or the paper's option A, either as Slice(s) + Pad of channels or as resnet.cpp's 0/1
//            1×1 strided Conv;
//   head     GlobalAveragePool | ReduceMean over H, W | AveragePool over the whole map (static input
//            size), then Flatten | Reshape (constant shape, or computed by the Shape→Gather→Unsqueeze→
//            Concat chain) | Squeeze, then Gemm | MatMul (+ Add).
//   BN       BatchNormalization nodes map to BatchNorm2d (an epsilon other than 1e-5 is moved into the
//            running variance: var' = var + ε − 1e-5). A conv with a bias and no BN after it (BN folded by
//            the exporter) maps to the conv plus a BN with weight 1, bias = the conv bias, running mean 0
//            and running variance 1 − 1e-5, so that √(var + ε) = 1 — the same function, still trainable.
//   padding  explicit pads, or auto_pad SAME_* where it is symmetric (1×1 kernels; odd kernels at stride 1),
//            or a zero spatial Pad node before a Conv (merged) or before the stem's max-pool (its input is a
//            ReLU's, so zero padding equals the max-pool's own);
//   tail     a final Softmax is dropped: resnet.cpp's networks output logits (same argmax).
//   Also     Identity/Dropout pass through; Constant, and any node whose inputs are all constant
//            (Transpose of a weight, Unsqueeze/Concat of constants…), is folded; Pad before a Conv
//            (zero, spatial, symmetric) is merged into its padding; Transpose pairs that cancel vanish.
// Anything else throws UserError naming the op, the node and the file.
//
// metadata_props "resnet.cpp.info" (the model card export writes) supplies class names, preprocessing and
// provenance; otherwise "class_names", "mean", "std", "input_size" are read when present, and defaults used.
// The card records the file as its source (format "onnx").
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "resnet/core/tensor.h"
#include "resnet/models/checkpoint.h"
#include "resnet/models/model_card.h"
#include "resnet/models/resnet.h"

namespace resnet::onnx {

struct ImportedModel {
  models::ResNetSpec spec;
  std::vector<std::pair<std::string, Tensor>> tensors;  // the full state_dict, torchvision names
  models::ModelCard card;                               // the model card, with the recognised spec
  std::string summary;                                  // one line: what was recognised
};

ImportedModel import_onnx(const std::string& path);

// An imported ONNX ResNet as a weights-only checkpoint (no config, no training state).
models::Checkpoint import_checkpoint(const std::string& path);
// Makes models::load_checkpoint read ".onnx" files with import_checkpoint. A program that uses anything
// of this file is registered already (at start-up); one that does not must call this once.
void register_checkpoint_reader();

}  // namespace resnet::onnx
