// The class each image is explained for, and the forward-only view of a network that occlusion and
// Score-CAM need (so they run on the module network and on the fp32/bf16/int8 inference engines alike).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/infer/engine.h"
#include "resnet/models/resnet.h"

namespace resnet::explain {

// x [N, C, H, W] f32 (normalised) → logits [N, classes] f32; the result may be a buffer the callee owns,
// valid until its next call. Implementations must give each image's logits independent of the others in
// the batch.
using LogitsFn = std::function<Tensor(const Tensor& x)>;

// The module network in eval mode under a NoGradScope (nothing kept for a backward).
LogitsFn model_logits(models::ResNet& model);
// The compiled engines (one per batch shape, built on first use); `engines` must outlive the function.
LogitsFn engine_logits(infer::EngineSet& engines);

// The arg-max of each row of logits [N, classes] (ties: the lower index).
std::vector<int64_t> predicted_classes(const Tensor& logits);

// UserError naming the target and the class count when one is outside [0, classes).
void check_targets(const std::vector<int64_t>& targets, int64_t classes);

}  // namespace resnet::explain
