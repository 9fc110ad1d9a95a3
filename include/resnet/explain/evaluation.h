// How faithful an attribution map is, by the deletion and insertion curves of Petsiuk et al. (2018,
// RISE): pixels are removed from the image (deletion) or added to a blank canvas (insertion) in the
// order the map ranks them, most important first, and the model's probability of the target class is
// read after each step. A faithful map makes the deletion curve fall fast (a low area under it) and the
// insertion curve rise fast (a high area). Random maps give the reference.
//
// Contract
//  - x, deleted_to, inserted_from: [N, C, H, W] f32, the network's input (normalised). A removed pixel
//    takes deleted_to's value on every channel; insertion starts from inserted_from and puts x's pixels
//    back.
//  - map: [N, H, W] f32, larger = more important; ties go to the lower pixel index.
//  - After step k of `steps`, round(k·H·W / steps) pixels are changed; the curves have steps + 1 points
//    (k = 0 … steps). The area is the trapezoidal rule over k/steps ∈ [0, 1].
//  - The probability is the softmax of logits(image) at the image's target.
#pragma once

#include <cstdint>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/explain/methods.h"
#include "resnet/explain/targets.h"

namespace resnet::explain {

struct CurveOptions {
  int64_t steps = 16;
  int64_t chunk = 64;  // images per logits call
};

struct Curves {
  Tensor deletion, insertion;  // [N, steps + 1]
  std::vector<double> deletion_auc, insertion_auc;
};

Curves deletion_insertion(const LogitsFn& logits, const Tensor& x, const Tensor& deleted_to,
                          const Tensor& inserted_from, const Tensor& map, const std::vector<int64_t>& targets,
                          const CurveOptions& options = {});

// One importance per pixel from an attribution: max |a| over channels for saliency and SmoothGrad, the
// channel sum for gradient × input and integrated gradients, the map itself for the others ([N, H, W]).
Tensor importance_map(Method method, const Tensor& attribution);

// Uniform random importances [n, h, w] from (seed, element): the reference a map must beat.
Tensor random_map(int64_t n, int64_t h, int64_t w, uint64_t seed);

}  // namespace resnet::explain
