// Gradient maps (Simonyan et al. 2014; Shrikumar et al. 2016; Smilkov et al. 2017). Every result is an
// attribution [N, C, H, W] f32 in the input's (normalised) units, contiguous.
//
// Determinism: images are explained in chunks of `chunk` (the batch one backward sees), SmoothGrad's
// samples in chunks of `chunk` noisy copies of one image; sums run in sample order, so a result does not
// depend on the chunk size or the thread count. SmoothGrad's noise for (image i, sample s, element e) is a
// function of (seed, i, s, e) only.
#pragma once

#include <cstdint>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::explain {

struct GradientOptions {
  int64_t chunk = 16;  // images (or noisy samples) per backward: bounds peak memory
};

// d logit_target / d x.
Tensor saliency(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                const GradientOptions& options = {});
// x ⊙ d logit_target / d x.
Tensor gradient_times_input(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                            const GradientOptions& options = {});

struct SmoothGradOptions {
  int64_t samples = 32;  // >= 1 (UserError otherwise)
  // Noise standard deviation as a fraction of each image's value range (max - min), the paper's
  // "noise level" (10–20 % works best there); >= 0.
  double sigma = 0.15;
  uint64_t seed = 0;
  int64_t chunk = 16;
};
// The mean of d logit_target / d x over `samples` copies of x with Gaussian noise added.
Tensor smoothgrad(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                  const SmoothGradOptions& options = {});

}  // namespace resnet::explain
