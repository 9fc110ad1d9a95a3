// Per-layer statistics of a residual (or plain) network, for the vanishing-gradient and response studies
// (He et al. 2015, Sec. 4.1 and Fig. 7).
//
//  - Weight layers: every convolution and the classifier, in forward order, excluding projection
//    shortcuts (downsample.*), so layer i is the i-th weight layer of the network's depth (plain-20 and
//    ResNet-20 both have 20). grad_norm is the Frobenius norm ‖∂L/∂W‖ of the layer's weight gradient for
//    the mean cross-entropy of one batch, averaged over the batches given.
//  - Residual functions: for each block (nn::ResidualBlock with a last BN: basic and bottleneck blocks,
//    and their plain twins), the standard deviation over all elements of the output of its last BN —
//    the residual function F(x) before the addition (for a plain block, before its ReLU). Averaged over
//    the batches like the gradients. Pre-activation blocks end in a conv and have none.
//
// The measurement runs forward and backward in training mode (batch statistics) and changes no
// parameter; it does update BN running statistics (as any training-mode forward does) and leaves the
// parameter gradients zeroed. Fused BN+ReLU is switched off while measuring, so a hook on a BN always sees
// its own output.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/models/resnet.h"

namespace resnet::study {

struct LayerStatistics {
  std::vector<std::string> layers;   // weight layers' module names ("conv1", "layer1.0.conv1", …, "fc")
  std::vector<double> grad_norm;     // per layer
  std::vector<std::string> blocks;   // residual blocks ("layer1.0", …)
  std::vector<double> response_std;  // per block: std of its residual function's output
};

struct LabelledBatch {
  Tensor images;  // [N, C, H, W] f32
  Tensor labels;  // [N] i64
};

// `label_smoothing` as in the trainer's loss (0 for plain cross-entropy).
LayerStatistics measure_layer_statistics(models::ResNet& model, const std::vector<LabelledBatch>& batches,
                                         double label_smoothing = 0.0);

}  // namespace resnet::study
