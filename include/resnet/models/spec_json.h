// A ResNetSpec as JSON, so that a checkpoint can describe a network that is no zoo name (an imported ONNX
// file): {"block": "basic"|"bottleneck"|"preact_basic"|"preact_bottleneck", "blocks_per_stage": [..],
// "widths": [..], "groups", "width_per_group", "stride_in_1x1", "dropout", "stem_width", "imagenet_stem",
// "shortcut": "A"|"B"|"none", "in_channels", "num_classes"}. Every key is required on reading; a bad record
// throws UserError naming `source` (the file it came from).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "resnet/models/resnet.h"

namespace resnet::models {

nlohmann::json spec_to_json(const ResNetSpec& spec);
ResNetSpec spec_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace resnet::models
