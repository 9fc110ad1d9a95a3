// A ResNetSpec as JSON, so that a checkpoint can describe a network that is no zoo name (an imported ONNX
// file): {"block": "basic"|"bottleneck"|"preact_basic"|"preact_bottleneck", "blocks_per_stage": [..],
// "widths": [..], "groups", "width_per_group", "stride_in_1x1", "dropout", "stem_width", "imagenet_stem",
// "shortcut": "A"|"B"|"none", "in_channels", "num_classes", "conv_widths": {"layer1.0.conv1": 40, …}}.
// Every key but conv_widths (written only when some conv has its own width) is required on reading; a bad
// record throws UserError naming `source` (the file it came from).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "resnet/models/resnet.h"

namespace resnet::models {

nlohmann::json spec_to_json(const ResNetSpec& spec);
ResNetSpec spec_from_json(const nlohmann::json& j, const std::string& source);

// Plausibility limits for a network described by a file (checkpoint info, imported models): far above
// every zoo model (the widest, Wide ResNet-101-2, has 127 M parameters), far below what would exhaust
// memory. spec_from_json applies them; a damaged record then names the field instead of ending in bad_alloc.
inline constexpr double kMaxSpecStages = 16, kMaxSpecBlocks = 1024, kMaxSpecWidth = 16384,
                        kMaxSpecClasses = 1 << 20, kMaxSpecParameters = 2e9;
// An upper bound on the parameter count of the network `spec` describes (cheap, never overflows).
double spec_parameter_bound(const ResNetSpec& spec);
// Throws UserError naming the first field outside the limits above.
void check_spec_bounds(const ResNetSpec& spec);

}  // namespace resnet::models
