// Residual networks built from BasicBlocks or Bottlenecks, with torchvision's module names:
//   conv1, bn1, relu, [maxpool], layer1 … layerK (Sequential of blocks), avgpool, fc.
// Pre-activation nets (He et al. 2016) have a bare conv1 stem and end with final_bn → final_relu before the
// pool. The input is converted to channels_last at the edge (module "input_layout", no parameters): every
// activation after it stays in the layout oneDNN runs fastest here.
//
// cifar_resnet(depth) is the paper's CIFAR family (Sec. 4.2): depth = 6n + 2, a 3×3 16-channel stem with no
// pooling, three stages of n blocks at 16/32/64 channels (stride 2 entering stages 2 and 3), global
// average pool, fc. ResNet-20/32/44/56/110 have n = 3/5/7/9/18. ShortcutKind::none gives the plain twin.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "resnet/models/architecture.h"
#include "resnet/models/spec.h"
#include "resnet/nn/layers.h"
#include "resnet/nn/residual.h"

namespace resnet::models {

class ResNet : public nn::Module {
 public:
  explicit ResNet(const ResNetSpec& spec);
  const ResNetSpec& spec() const { return architecture_.spec; }
  // The layer-by-layer description the modules were built from (names resolve with find_module).
  const Architecture& architecture() const { return architecture_; }
  // Training needs no gradient w.r.t. the images: switching it off skips the stem's backward-data pass,
  // and backward() then returns an undefined tensor. On by default (Grad-CAM, adversarial examples).
  void set_input_gradient(bool on);

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  Architecture architecture_;            // holds the spec too: one description of the network
  std::vector<nn::Module*> body_order_;  // the registered children, in execution order
};

// torchvision's ImageNet builders by name: resnet18, resnet34, resnet50, resnet101, resnet152,
// resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2.
// Throws UserError listing the names for an unknown one.
// shortcut = none gives the plain twin (plain18/plain34 of the paper's Fig. 4).
std::unique_ptr<ResNet> torchvision_resnet(const std::string& name, int64_t num_classes = 1000,
                                           int64_t in_channels = 3,
                                           nn::ShortcutKind shortcut = nn::ShortcutKind::B);

// depth = 6n + 2 (20, 32, 44, 56, 110, 1202). Throws UserError for other depths. Not initialised: call
// nn::init_torchvision (or load weights).
std::unique_ptr<ResNet> cifar_resnet(int depth, int64_t num_classes = 10, int64_t in_channels = 3,
                                     nn::ShortcutKind shortcut = nn::ShortcutKind::A);

// Pre-activation ResNets (He et al. 2016). CIFAR: depth 110 (basic, 6n+2) or 164 (bottleneck, 9n+2) at
// 16/32/64 planes; "ImageNet-width" 18/34 at 64…512 planes with the small-image 3×3 stem (the common CIFAR
// variant). Wide ResNet WRN-d-k (Zagoruyko & Komodakis 2016): depth = 6n+4, widths 16k/32k/64k, dropout
// between the convs.
std::unique_ptr<ResNet> preact_resnet(int depth, int64_t num_classes = 10, int64_t in_channels = 3);
std::unique_ptr<ResNet> wide_resnet(int depth, int widen, double dropout = 0.0, int64_t num_classes = 10,
                                    int64_t in_channels = 3);

}  // namespace resnet::models
