// Weights must be healthy numbers: a NaN or ±Inf in any floating-point tensor, or a negative BN running_var,
// is refused (UserError naming the tensor, the first bad index and value, and the file), since such a
// network evaluates to chance and a NaN loss without a word. The process-wide switch below lets a command
// load them anyway (forensics: `--allow-nonfinite` on the commands that load weights).
#pragma once

#include <string>

#include "resnet/core/tensor.h"

namespace resnet::io {

void set_allow_nonfinite_weights(bool allow);
bool nonfinite_weights_allowed();

// Throws the UserError described above when `t` (tensor `name` of `path`) holds NaN/Inf, or is a
// running_var with a negative value.
void check_healthy(const std::string& name, const Tensor& t, const std::string& path);

}  // namespace resnet::io
