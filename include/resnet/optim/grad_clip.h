// Gradient clipping by global norm (PyTorch's clip_grad_norm_): when the L2 norm of all gradients together
// exceeds max_norm, every gradient is scaled by max_norm / (norm + 1e-6). Parameters without a gradient
// this step are skipped. Returns the norm before clipping.
#pragma once

#include "resnet/nn/module.h"

namespace resnet::optim {

double clip_grad_norm(nn::Module& model, double max_norm);

}  // namespace resnet::optim
