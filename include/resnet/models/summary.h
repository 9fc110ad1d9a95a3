// A layer-by-layer account of a network: output shape, parameters and multiply-accumulates of every leaf
// module for one input image, gathered with forward hooks during an eval-mode pass. MACs count the
// convolutions and the classifier (what dominates and what torchvision's tables report: ResNet-50 4.09 G).
#pragma once

#include <string>
#include <vector>

#include "resnet/nn/module.h"

namespace resnet::models {

struct LayerSummary {
  std::string name, type;
  Shape output;
  int64_t parameters = 0;
  int64_t macs = 0;
};

struct Summary {
  std::vector<LayerSummary> layers;
  int64_t parameters = 0;
  int64_t macs = 0;
};

// `input` is [C, H, W]; runs one forward at batch 1 (the model is left in eval mode).
Summary summarize(nn::Module& model, const Shape& input);

}  // namespace resnet::models
