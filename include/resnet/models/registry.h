// Every network the zoo builds, by name: the paper's CIFAR nets (resnet20 … resnet1202), their plain twins
// (plain20 … plain110) and torchvision's ImageNet family (resnet18 … wide_resnet101_2).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "resnet/models/resnet.h"

namespace resnet::models {

struct ModelInfo {
  std::string name;
  std::string description;
  int64_t default_classes;
  int64_t default_size;  // input height/width the model was designed for
};

const std::vector<ModelInfo>& registered_models();

// Options every builder takes. Zeros and unset fields keep the named model's own design.
struct ModelOptions {
  int64_t num_classes = 0;              // default: 10 (CIFAR-style) or 1000 (ImageNet)
  int64_t in_channels = 0;              // default 3; 1 for grey images, any N
  std::optional<bool> imagenet_stem{};  // true: 7×7/2 conv + max-pool; false: 3×3/1 conv (small images)
  double width_multiplier = 1.0;        // scales every stage's and the stem's channels
  bool stride_in_1x1 = false;           // bottlenecks: stride on the first 1×1 (the paper's Caffe placement)
  std::optional<nn::ShortcutKind> shortcut{};  // post-activation nets: A, B (projection) or none (plain)
};

// An unknown name throws UserError listing the closest registered names. Not initialised: call
// nn::init_torchvision (zero_init_residual is its option) or load weights.
std::unique_ptr<ResNet> create_model(const std::string& name, const ModelOptions& options);
// The spec create_model builds, without building it (memory estimates: models/memory_estimate.h).
ResNetSpec model_spec(const std::string& name, const ModelOptions& options);
inline std::unique_ptr<ResNet> create_model(const std::string& name, int64_t num_classes = 0,
                                            int64_t in_channels = 0) {
  return create_model(name, ModelOptions{.num_classes = num_classes, .in_channels = in_channels});
}

}  // namespace resnet::models
