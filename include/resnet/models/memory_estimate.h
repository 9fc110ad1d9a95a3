// What a network needs in memory, from its spec alone (nothing is built): parameters, and the activations
// of one image in training (kept for the backward) or in a no-grad evaluation (the few layer outputs alive
// at once). Rough but conservative (a little above what the step arena measures: resnet20 on 128 CIFAR
// images estimates ~300 MB where the training step peaks at ~230), and computed in doubles so that absurd
// sizes (a width multiplier of 1e9) give an absurd estimate instead of an overflow.
//
// The check_* functions compare an estimate with the machine's usable memory (core/memory_budget.h) and
// throw UserError with the estimate and what to change.
#pragma once

#include <cstdint>
#include <string>

#include "resnet/models/resnet.h"

namespace resnet::models {

struct MemoryEstimate {
  double parameters = 0;                  // learnable values (weights, biases, BN scale/shift)
  double buffers = 0;                     // BN running statistics
  double training_values_per_image = 0;   // activations saved for the backward, plus the gradient buffers
  double inference_values_per_image = 0;  // peak activations of a no-grad forward
};

// `height` × `width` is the input image size.
MemoryEstimate estimate_memory(const ResNetSpec& spec, int64_t height, int64_t width);

// The spec's widths for messages: "stage widths [16, 32, 64]".
std::string describe_widths(const ResNetSpec& spec);

// The bytes the check_* functions below compare with the machine's memory.
double training_bytes(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height, int64_t width,
                      bool ema, int64_t prefetch);
double inference_bytes(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height,
                       int64_t width);

// The weights alone (f32). Checked by the ResNet constructor, so every path that builds a network (zoo
// names, specs read from files) is bounded before a parameter is allocated.
void check_parameters_fit(const ResNetSpec& spec);

// One training step on `batch` images of `channels`×`height`×`width` (f32): weights, their gradients, SGD
// momentum, an optional EMA copy, the activations and the loader's batch buffers (`prefetch` batches
// ahead). `what` names the run for the message ("training resnet20 (width 1000)").
void check_training_fits(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height,
                         int64_t width, bool ema, int64_t prefetch, const std::string& what);

// A no-grad forward of `batch` images (evaluation, prediction, export checks).
void check_inference_fits(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height,
                          int64_t width, const std::string& what, const std::string& fix);

}  // namespace resnet::models
