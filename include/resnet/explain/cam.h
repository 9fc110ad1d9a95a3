// Class activation maps at a layer (a stage or a block, explain/layers.h), with A [N, K, h, w] the layer's
// output and G = d logit_target / d A:
//   Grad-CAM   (Selvaraju et al. 2017): w_k = mean_ij G_kij
//   Grad-CAM++ (Chattopadhyay et al. 2018, with the usual exp(score) closed form):
//              a_kij = G² / (2 G² + Σ_ij A_k · G³) (0 where the denominator is 0), w_k = Σ_ij a_kij
//              relu(G_kij)
//   Score-CAM  (Wang et al. 2020), forward-only: each channel, bilinearly upsampled to the input and scaled
//              to [0, 1] (min-max; a constant channel gives a zero mask), masks x; w_k = softmax(f(x ⊙ M_k))
//              at the target.
// cam = relu(Σ_k w_k A_k) at the layer's resolution, unnormalised; map = cam upsampled bilinearly to the
// input size (half-pixel centres, PyTorch's align_corners=False).
//
// Images run `chunk` at a time (Score-CAM: masked copies of one image), sums in channel order: results do
// not depend on the chunk size or the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/explain/targets.h"
#include "resnet/models/resnet.h"

namespace resnet::explain {

struct CamResult {
  Tensor cam;  // [N, h, w]
  Tensor map;  // [N, H, W]
};

struct CamOptions {
  std::string layer;  // "" = the last stage
  int64_t chunk = 16;
};

CamResult grad_cam(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                   const CamOptions& options = {});
CamResult grad_cam_plus_plus(models::ResNet& model, const Tensor& x, const std::vector<int64_t>& targets,
                             const CamOptions& options = {});
// The activations come from `model`; the masked inputs are scored by `logits` (the model itself, or an
// inference engine of it: explain the network as deployed).
CamResult score_cam(models::ResNet& model, const LogitsFn& logits, const Tensor& x,
                    const std::vector<int64_t>& targets, const CamOptions& options = {});

// [N, h, w] → [N, height, width], bilinear with half-pixel centres.
Tensor upsample_maps(const Tensor& maps, int64_t height, int64_t width);

}  // namespace resnet::explain
