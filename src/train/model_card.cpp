#include "resnet/train/model_card.h"

#include <limits>

#include "resnet/core/check.h"
#include "resnet/core/memory_budget.h"
#include "resnet/data/transforms.h"

namespace resnet::train {
namespace {

class CardReader {
 public:
  CardReader(const nlohmann::json& info, const std::string& path) : info_(info), path_(path) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw UserError("checkpoint '" + path_ + "': its model card (the 'info' metadata) " + problem + " '" +
                    key + "'" +
                    ": the file was damaged or written by another tool; re-create it (resnet train, "
                    "convert or import) or correct the key");
  }

  const nlohmann::json& need(const std::string& key) const {
    if (!info_.contains(key)) fail(key, "lacks the key");
    return info_.at(key);
  }

  int64_t positive(const std::string& key, const nlohmann::json& v, int64_t most) const {
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > most)
      fail(key, "holds " + v.dump() + " (not an integer from 1 to " + std::to_string(most) + ") in");
    return v.get<int64_t>();
  }

 private:
  const nlohmann::json& info_;
  const std::string& path_;
};

}  // namespace

void validate_model_card(const nlohmann::json& info, const std::string& path) {
  const CardReader card(info, path);
  if (!info.is_object()) card.fail("info", "is not a JSON object:");
  if (!card.need("model").is_string()) card.fail("model", "holds no string in");
  constexpr int64_t kMaxClasses = 100'000'000, kMaxChannels = 1'000'000;
  int64_t classes = 0, in_channels = 0;
  if (info.contains("num_classes"))
    classes = card.positive("num_classes", info.at("num_classes"), kMaxClasses);
  if (info.contains("in_channels"))
    in_channels = card.positive("in_channels", info.at("in_channels"), kMaxChannels);
  if (info.contains("width_multiplier") &&
      !(info.at("width_multiplier").is_number() && info.at("width_multiplier").get<double>() > 0))
    card.fail("width_multiplier",
              "holds " + info.at("width_multiplier").dump() + " (not a positive number) in");

  if (info.contains("input_size")) {
    const auto& size = info.at("input_size");
    if (!size.is_array() || size.size() != 3)
      card.fail("input_size", "holds " + size.dump() + " (not [channels, height, width]) in");
    const int64_t c = card.positive("input_size", size[0], kMaxChannels);
    const int64_t h = card.positive("input_size", size[1], data::kMaxImageSide);
    const int64_t w = card.positive("input_size", size[2], data::kMaxImageSide);
    if (in_channels > 0 && c != in_channels)
      card.fail("input_size", "gives " + std::to_string(c) + " channels where in_channels is " +
                                  std::to_string(in_channels) + " in");
    check_memory_budget(4.0 * static_cast<double>(c) * static_cast<double>(h) * static_cast<double>(w),
                        "one " + std::to_string(c) + "×" + std::to_string(h) + "×" + std::to_string(w) +
                            " input image of checkpoint '" + path + "' (its 'input_size')",
                        "the file was damaged or written by another tool; correct 'input_size'");
  }
  if (info.contains("class_names")) {
    const auto& names = info.at("class_names");
    if (!names.is_array()) card.fail("class_names", "holds no list in");
    for (const auto& n : names)
      if (!n.is_string()) card.fail("class_names", "holds a non-string name " + n.dump() + " in");
    if (classes > 0 && static_cast<int64_t>(names.size()) != classes)
      card.fail("class_names", "holds " + std::to_string(names.size()) + " names for " +
                                   std::to_string(classes) + " classes in");
  }
  if (info.contains("eval_transforms")) {
    const auto& transforms = info.at("eval_transforms");
    if (!transforms.is_array()) card.fail("eval_transforms", "holds no list in");
    for (const auto& t : transforms)
      if (!t.is_string()) card.fail("eval_transforms", "holds a non-string transform " + t.dump() + " in");
  }
  if (info.contains("dataset") && !info.at("dataset").is_string()) card.fail("dataset", "holds no string in");
}

void require_model_card_keys(const nlohmann::json& info, const std::string& path,
                             std::vector<std::string> keys, const std::string& command) {
  validate_model_card(info, path);
  if (!info.contains("spec")) {  // the network is rebuilt from its name, classes and channels
    keys.insert(keys.begin(), "in_channels");
    keys.insert(keys.begin(), "num_classes");
  }
  for (const auto& key : keys)
    if (!info.contains(key))
      throw UserError("checkpoint '" + path + "': its model card (the 'info' metadata) lacks the key '" +
                      key + "' that " + command +
                      " needs (a bare model description: re-create the checkpoint with resnet train, convert "
                      "or import, which write the whole card)");
}

}  // namespace resnet::train
