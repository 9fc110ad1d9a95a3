// Occlusion (Zeiler & Fergus 2014), forward-only: a window × window patch of every channel is set to
// `fill`, slid by `stride` (positions 0, stride, … while the window fits, as Captum does); each pixel's
// attribution is the mean, over the windows covering it, of f(x) - f(x occluded), f the target's logit.
// Pixels no window covers get 0. Returns [N, H, W].
//
// The occluded copies of one image run `chunk` at a time through `logits` (the module network or an
// inference engine); sums run in window order: results do not depend on the chunk or the thread count.
#pragma once

#include <cstdint>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/explain/targets.h"

namespace resnet::explain {

struct OcclusionOptions {
  int64_t window = 4;  // 1 ..= min(H, W) (UserError otherwise)
  int64_t stride = 2;  // >= 1
  // The patch value per channel in the network's (normalised) units: one value, or one per channel.
  std::vector<float> fill{0.0f};
  int64_t chunk = 16;
};

Tensor occlusion(const LogitsFn& logits, const Tensor& x, const std::vector<int64_t>& targets,
                 const OcclusionOptions& options = {});

}  // namespace resnet::explain
