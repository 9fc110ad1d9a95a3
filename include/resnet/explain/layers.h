// Which layers an explanation can read: the outputs of torchvision's modules that hold a feature map —
// a stage ("layer3", the tap) or one block of it ("layer3.1").
#pragma once

#include <string>
#include <vector>

#include "resnet/models/architecture.h"

namespace resnet::explain {

// Every stage, then every block, by torchvision name.
std::vector<std::string> layer_names(const models::Architecture& architecture);

// "" → the last stage (Grad-CAM's usual choice: the deepest map that still has a spatial extent). An
// unknown name throws UserError listing the stages and the blocks' naming.
std::string resolve_layer(const models::Architecture& architecture, const std::string& name);

}  // namespace resnet::explain
