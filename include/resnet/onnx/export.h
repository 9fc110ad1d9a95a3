// ONNX export of a ResNet (opset 13, IR version 7), for ONNX Runtime, OpenCV, TensorRT and friends.
//
// The graph: input "input" f32 [N, C, H, W] (N dynamic; H, W fixed when `input_size` is given, dynamic
// otherwise), output "logits" f32 [N, classes]. Eval-mode semantics: Conv, BatchNormalization, Relu,
// MaxPool, Add, GlobalAveragePool, Flatten, Gemm; dropout is absent (identity at inference). The paper's
// option-A shortcut (stride-s subsample + zero channels on both sides) is an exact 1×1 stride-s Conv whose
// weight is 0/1, so every runtime runs it as a plain conv. Initializers carry torchvision's names
// ("layer1.0.conv1.weight", …), nodes the module names.
//
// fold_bn = false keeps every BatchNormalization (running statistics included), so an importer can
// fine-tune the network. fold_bn = true folds each BN that follows a conv into that conv (computed in
// double: w' = w·γ/√(var+ε), b' = (b − mean)·γ/√(var+ε) + β); pre-activation nets keep the BNs that do not
// follow a conv (the ones on a block's input and the final one).
//
// metadata_props: "resnet.cpp.info" (the model card, models/model_card.h, with the network's full spec),
// and for other tools "model", "class_names", "mean", "std", "input_size" (JSON values) when the card has
// them.
// int8 (QDQ): with `int8` set to a calibration (infer::Calibration, as `resnet quantize` writes), the BNs
// are folded and the graph carries the int8 engine's quantisation (infer/engine.h) as QuantizeLinear →
// DequantizeLinear pairs, opset 13: one pair on every tensor the engine stores as int8 — the input, each
// conv unit's output (after its ReLU, or a block's residual sum and ReLU), the max pool's output (the stem
// conv's scale) — with the engine's per-tensor scale and zero point 0 (uint8 where calibration saw no
// negative value, int8 otherwise); each conv weight an int8 initializer with one scale per output channel
// (max |w| / 127 of the folded weight) dequantised by a DequantizeLinear with axis 0; biases f32. The
// global average pool and the classifier stay f32, as in the engine. Pre-activation nets have no int8
// engine and are refused (UserError). metadata_props adds "resnet.cpp.precision": "int8" (else "fp32").
// The file is written atomically (io/atomic_file.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "resnet/infer/engine.h"
#include "resnet/models/model_card.h"
#include "resnet/models/resnet.h"

namespace resnet::onnx {

struct ExportOptions {
  bool fold_bn = false;
  models::ModelCard card{.model = "resnet"};  // what the file says of the network beyond its graph
  int64_t height = 0, width = 0;              // 0: dynamic spatial size
  const infer::Calibration* int8 = nullptr;   // set: a QDQ int8 model (implies fold_bn; above)
};

void export_onnx(models::ResNet& model, const std::string& path, const ExportOptions& options = {});

}  // namespace resnet::onnx
