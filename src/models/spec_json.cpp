#include "resnet/models/spec_json.h"

#include <algorithm>

#include "resnet/core/check.h"
#include "resnet/models/architecture.h"

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
  nlohmann::json j = {{"block", block_name(s.block)},
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
  if (!s.conv_widths.empty()) j["conv_widths"] = s.conv_widths;  // files of unpruned nets stay as they were
  return j;
}

double spec_parameter_bound(const ResNetSpec& s) {
  double total = 0, widest = static_cast<double>(std::max(s.stem_width, s.in_channels));
  for (const auto& [name, w] : s.conv_widths) widest = std::max(widest, static_cast<double>(w));
  for (size_t i = 0; i < s.widths.size() && i < s.blocks_per_stage.size(); ++i) {
    const double w = static_cast<double>(s.widths[i]);
    const double inner = w * static_cast<double>(s.width_per_group) / 64.0 * static_cast<double>(s.groups);
    widest = std::max({widest, 4 * w, inner, w});
    // Each block holds at most three 3x3 convolutions plus a projection between `widest`-channel tensors.
    total += std::max(0.0, static_cast<double>(s.blocks_per_stage[i])) * 4 * 9 * widest * widest;
  }
  return total + 9 * widest * static_cast<double>(s.in_channels + s.stem_width) +
         (widest + 1) * static_cast<double>(s.num_classes);
}

void check_spec_bounds(const ResNetSpec& s) {
  auto within = [](const char* what, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi))
      throw UserError(std::string(what) + " " + std::to_string(v) + " is outside [" + std::to_string(lo) +
                      ", " + std::to_string(hi) + "]");
  };
  within("stages", static_cast<double>(s.widths.size()), 1, kMaxSpecStages);
  for (int b : s.blocks_per_stage) within("blocks per stage", b, 1, kMaxSpecBlocks);
  for (int64_t w : s.widths) within("stage width", static_cast<double>(w), 1, kMaxSpecWidth);
  within("groups", static_cast<double>(s.groups), 1, kMaxSpecWidth);
  within("width_per_group", static_cast<double>(s.width_per_group), 1, kMaxSpecWidth);
  within("stem_width", static_cast<double>(s.stem_width), 1, kMaxSpecWidth);
  within("in_channels", static_cast<double>(s.in_channels), 1, kMaxSpecWidth);
  within("num_classes", static_cast<double>(s.num_classes), 1, kMaxSpecClasses);
  within("dropout", s.dropout, 0, 0.999);
  within("conv_widths entries", static_cast<double>(s.conv_widths.size()), 0,
         kMaxSpecBlocks * kMaxSpecStages * 4);
  for (const auto& [name, w] : s.conv_widths)
    within(("width of " + name).c_str(), static_cast<double>(w), 1, kMaxSpecWidth);
  const double bound = spec_parameter_bound(s);
  if (bound > kMaxSpecParameters)
    throw UserError("a network of up to " + std::to_string(static_cast<int64_t>(bound)) +
                    " parameters, beyond the " + std::to_string(static_cast<int64_t>(kMaxSpecParameters)) +
                    " resnet.cpp builds");
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
    // Integers must be JSON integers that fit (a float such as 1e300 would convert with undefined result).
    auto integer = [](const nlohmann::json& v, const std::string& key) -> int64_t {
      if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t{1} << 62)))
        throw std::invalid_argument("'" + key + "' is not an integer of sensible size");
      return v.get<int64_t>();
    };
    auto integers = [&](const std::string& key) {
      const auto& a = j.at(key);
      if (!a.is_array() || a.size() > kMaxSpecStages)
        throw std::invalid_argument("'" + key + "' is not a list of at most " +
                                    std::to_string(static_cast<int>(kMaxSpecStages)) + " integers");
      std::vector<int64_t> out;
      for (const auto& v : a) out.push_back(integer(v, key));
      return out;
    };
    for (int64_t b : integers("blocks_per_stage"))
      s.blocks_per_stage.push_back(static_cast<int>(std::clamp<int64_t>(b, -1, kMaxSpecBlocks + 1)));
    s.widths = integers("widths");
    s.groups = integer(j.at("groups"), "groups");
    s.width_per_group = integer(j.at("width_per_group"), "width_per_group");
    s.stride_in_1x1 = j.at("stride_in_1x1");
    s.dropout = j.at("dropout");
    s.stem_width = integer(j.at("stem_width"), "stem_width");
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
    s.in_channels = integer(j.at("in_channels"), "in_channels");
    s.num_classes = integer(j.at("num_classes"), "num_classes");
    // Optional: files written before per-layer widths have none.
    if (j.contains("conv_widths")) {
      const auto& widths = j.at("conv_widths");
      if (!widths.is_object() || widths.size() > kMaxSpecBlocks * kMaxSpecStages * 4)
        throw std::invalid_argument("'conv_widths' is not an object of conv names and widths");
      for (const auto& [name, w] : widths.items()) s.conv_widths[name] = integer(w, "conv_widths." + name);
    }
    if (s.blocks_per_stage.empty() || s.blocks_per_stage.size() != s.widths.size() || s.groups < 1 ||
        s.width_per_group < 1 || s.stem_width < 1 || s.in_channels < 1 || s.num_classes < 1)
      throw std::invalid_argument("inconsistent sizes");
    check_spec_bounds(s);
    architecture_of(s);  // conv_widths name this network's convs and keep its coupling groups
    return s;
  } catch (const UserError& e) {
    throw UserError("'" + source + "' holds an implausible network description ('spec': " + e.what() +
                    "): re-export or re-import the model");
  } catch (const std::exception& e) {
    throw UserError("'" + source + "' holds a damaged network description ('spec': " + e.what() +
                    "): re-export or re-import the model");
  }
}

}  // namespace resnet::models
