// Every network the zoo builds, by name: the paper's CIFAR nets (resnet20 … resnet1202), their plain twins
// (plain20 … plain110) and torchvision's ImageNet family (resnet18 … wide_resnet101_2).
#pragma once

#include <memory>
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

// num_classes / in_channels <= 0 take the model's defaults (10 or 1000 classes; 3 channels). An unknown
// name throws UserError listing the closest registered names.
std::unique_ptr<ResNet> create_model(const std::string& name, int64_t num_classes = 0,
                                     int64_t in_channels = 0);

}  // namespace resnet::models
