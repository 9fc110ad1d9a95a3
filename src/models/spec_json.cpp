#include "resnet/models/spec_json.h"

#include "resnet/core/check.h"

namespace resnet::models {
namespace {

const char* block_name(BlockKind k) {
  switch (k) {
    case BlockKind::basic:
      return "basic";
    case BlockKind::bottleneck:
      return "bottleneck";
    case BlockKind::preact_basic:
      return "preact_basic";
    case BlockKind::preact_bottleneck:
      return "preact_bottleneck";
  }
  return "?";
}

const char* shortcut_name(nn::ShortcutKind k) {
  switch (k) {
    case nn::ShortcutKind::A:
      return "A";
    case nn::ShortcutKind::B:
      return "B";
    case nn::ShortcutKind::none:
      return "none";
  }
  return "?";
}

}  // namespace

nlohmann::json spec_to_json(const ResNetSpec& s) {
  return {{"block", block_name(s.block)},
          {"blocks_per_stage", s.blocks_per_stage},
          {"widths", s.widths},
          {"groups", s.groups},
          {"width_per_group", s.width_per_group},
          {"stride_in_1x1", s.stride_in_1x1},
          {"dropout", s.dropout},
          {"stem_width", s.stem_width},
          {"imagenet_stem", s.imagenet_stem},
          {"shortcut", shortcut_name(s.shortcut)},
          {"in_channels", s.in_channels},
          {"num_classes", s.num_classes}};
}

ResNetSpec spec_from_json(const nlohmann::json& j, const std::string& source) {
  try {
    ResNetSpec s;
    const std::string block = j.at("block");
    if (block == "basic")
      s.block = BlockKind::basic;
    else if (block == "bottleneck")
      s.block = BlockKind::bottleneck;
    else if (block == "preact_basic")
      s.block = BlockKind::preact_basic;
    else if (block == "preact_bottleneck")
      s.block = BlockKind::preact_bottleneck;
    else
      throw std::invalid_argument("unknown block kind '" + block + "'");
    s.blocks_per_stage = j.at("blocks_per_stage").get<std::vector<int>>();
    s.widths = j.at("widths").get<std::vector<int64_t>>();
    s.groups = j.at("groups");
    s.width_per_group = j.at("width_per_group");
    s.stride_in_1x1 = j.at("stride_in_1x1");
    s.dropout = j.at("dropout");
    s.stem_width = j.at("stem_width");
    s.imagenet_stem = j.at("imagenet_stem");
    const std::string shortcut = j.at("shortcut");
    if (shortcut == "A")
      s.shortcut = nn::ShortcutKind::A;
    else if (shortcut == "B")
      s.shortcut = nn::ShortcutKind::B;
    else if (shortcut == "none")
      s.shortcut = nn::ShortcutKind::none;
    else
      throw std::invalid_argument("unknown shortcut kind '" + shortcut + "'");
    s.in_channels = j.at("in_channels");
    s.num_classes = j.at("num_classes");
    if (s.blocks_per_stage.empty() || s.blocks_per_stage.size() != s.widths.size() || s.groups < 1 ||
        s.width_per_group < 1 || s.stem_width < 1 || s.in_channels < 1 || s.num_classes < 1)
      throw std::invalid_argument("inconsistent sizes");
    return s;
  } catch (const std::exception& e) {
    throw UserError("'" + source + "' holds a damaged network description ('spec': " + e.what() +
                    "): re-export or re-import the model");
  }
}

}  // namespace resnet::models
