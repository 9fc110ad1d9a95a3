// A network's weights by name, as torchvision's state_dict: every parameter and buffer under its dotted
// name ("layer1.0.conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "fc.bias").
//
// load_state_dict checks names and shapes before it changes anything: missing keys, unexpected keys and
// shape mismatches are reported together, by name, in one UserError that names the file and suggests the
// fix. With strict = false it loads every tensor that fits and leaves the rest as they are (a new head).
// F16/BF16/F64 sources are converted to the parameter's f32.
//
// Numbers must be healthy (io/healthy.h), checked before anything is loaded; allow_nonfinite loads them
// anyway, and its default is the process-wide setting there, so a command sets it once for every path
// that loads weights.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "resnet/io/healthy.h"
#include "resnet/io/safetensors.h"
#include "resnet/nn/module.h"

namespace resnet::nn {

std::vector<std::pair<std::string, Tensor>> state_dict(Module& model);

struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected,
      mismatched;  // mismatched: "name: file [..] vs model [..]"
};

struct LoadOptions {
  bool strict = true;
  std::vector<std::string> skip_prefixes;  // e.g. {"fc."}: keep the model's own (new) classifier
  bool allow_nonfinite = io::nonfinite_weights_allowed();
};

LoadReport load_state_dict(Module& model, const io::TensorFile& file, const LoadOptions& options = {});

}  // namespace resnet::nn
