// Initialisation as torchvision's ResNet does it:
//   Conv2d weights  Kaiming-normal, mode fan_out, ReLU gain: std = sqrt(2 / (out_channels · kH · kW));
//   BatchNorm       weight 1, bias 0 (running stats 0 / 1);
//   Linear          PyTorch's default: weight and bias uniform in ±1/sqrt(in_features)
//                   (kaiming_uniform with a = sqrt(5) reduces to that bound);
//   zero_init_residual: the last BN of every residual block gets weight 0, so each block starts as identity.
// Draws come from `rng` in module order, so one seed gives one network, bit for bit.
#pragma once

#include "resnet/core/rng.h"
#include "resnet/nn/module.h"

namespace resnet::nn {

void kaiming_normal_fan_out(const Tensor& weight, Rng& rng);
void uniform_(const Tensor& t, double bound, Rng& rng);  // U(-bound, bound)
void init_torchvision(Module& root, Rng& rng, bool zero_init_residual = false);

}  // namespace resnet::nn
