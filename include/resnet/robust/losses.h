// The losses adversarial attacks maximise, with their gradients w.r.t. the logits, per image.
//
//  - cross_entropy: L = logsumexp(z) − z_y; dL/dz = softmax(z) − onehot(y).
//  - dlr (Croce & Hein 2020, untargeted): L = −(z_y − max_{j≠y} z_j) / (z_π1 − z_π3 + 1e-12), π the
//    classes sorted by decreasing logit (ties: lower index first). Shift- and scale-invariant in z, so a
//    saturated softmax does not hide the gradient. Needs ≥ 3 classes.
//  - dlr_targeted: L = −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12). Needs ≥ 4 classes.
// Computed in double; the gradient is the exact derivative of the formula with π held fixed.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "resnet/core/tensor.h"

namespace resnet::robust {

enum class Loss { cross_entropy, dlr, dlr_targeted };

std::string_view loss_name(Loss loss);
// The fewest classes a loss is defined for (2, 3, 4).
int64_t min_classes(Loss loss);

struct LossAndGradient {
  std::vector<double> loss;  // [N]
  Tensor dlogits;            // [N, classes] f32
};

// logits [N, classes] f32 contiguous; labels N in [0, classes); targets N (dlr_targeted only, each ≠ its
// label), else empty. CheckError on a contract violation (callers check user input first).
LossAndGradient loss_and_gradient(Loss loss, const Tensor& logits, const std::vector<int64_t>& labels,
                                  const std::vector<int64_t>& targets = {});

}  // namespace resnet::robust
