// A conv and the inference-mode BN after it as one conv: w' = w·s, b' = (b − mean)·s + β with
// s = γ / sqrt(var + eps) per output channel, computed in double. The inference engine and the ONNX
// exporter (--fold-bn) both fold with this.
#pragma once

#include <vector>

#include "resnet/nn/layers.h"

namespace resnet::nn {

struct FoldedConv {
  std::vector<float> weight;  // [O, I/groups, kh, kw], row-major
  std::vector<float> bias;    // [O]
};

// `norm` may be null (the conv alone, its bias or zeros).
FoldedConv fold_batch_norm(Conv2d& conv, BatchNorm2d* norm);

}  // namespace resnet::nn
