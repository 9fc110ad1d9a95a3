// Exponential moving average of a model's weights (Polyak averaging; timm's ModelEmaV2): after each step
// avg = decay · avg + (1 − decay) · value for every f32 parameter and buffer (BN statistics too, as timm
// does); integer buffers (num_batches_tracked) are copied. `ema` must be a twin of `model` (same
// parameters and buffers in the same order).
#pragma once

#include "resnet/nn/module.h"

namespace resnet::optim {

void update_ema(nn::Module& ema, nn::Module& model, double decay);

}  // namespace resnet::optim
