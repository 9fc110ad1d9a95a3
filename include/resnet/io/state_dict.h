// A network's weights by name, as torchvision's state_dict: every parameter and buffer under its dotted
// name ("layer1.0.conv1.weight", "bn1.running_mean", "bn1.num_batches_tracked", "fc.bias").
//
// load_state_dict checks names and shapes before it changes anything: missing keys, unexpected keys and
// shape mismatches are reported together, by name, in one UserError that names the file and suggests the
// fix. With strict = false it loads every tensor that fits and leaves the rest as they are (a new head).
// F16/BF16/F64 sources are converted to the parameter's f32.
//
// Numbers must be healthy: a NaN or ±Inf in any floating-point tensor, or a negative BN running_var, is
// refused (UserError naming the tensor, the first bad index and value, and the file) before anything is
// loaded, since such a network evaluates to chance and a NaN loss without a word. allow_nonfinite loads
// them anyway (forensics: `--allow-nonfinite` on the commands that load weights); its default is the
// process-wide setting below, so a command sets it once for every path that loads weights.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "resnet/io/safetensors.h"
#include "resnet/nn/module.h"

namespace resnet::io {

std::vector<std::pair<std::string, Tensor>> state_dict(nn::Module& model);

struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected,
      mismatched;  // mismatched: "name: file [..] vs model [..]"
};

void set_allow_nonfinite_weights(bool allow);
bool nonfinite_weights_allowed();

struct LoadOptions {
  bool strict = true;
  std::vector<std::string> skip_prefixes;  // e.g. {"fc."}: keep the model's own (new) classifier
  bool allow_nonfinite = nonfinite_weights_allowed();
};

// Throws the UserError described above when `t` (tensor `name` of `path`) holds NaN/Inf, or is a
// running_var with a negative value.
void check_healthy(const std::string& name, const Tensor& t, const std::string& path);

LoadReport load_state_dict(nn::Module& model, const TensorFile& file, const LoadOptions& options = {});

}  // namespace resnet::io
