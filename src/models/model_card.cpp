#include "resnet/models/model_card.h"

#include <cmath>

#include "resnet/core/check.h"
#include "resnet/core/memory_budget.h"
#include "resnet/data/transforms.h"
#include "resnet/models/registry.h"
#include "resnet/models/spec_json.h"
#include "resnet/version.h"

namespace resnet::models {
namespace {

constexpr int64_t kMaxClasses = 100'000'000, kMaxChannels = 1'000'000;

const char* field_key(CardField f) {
  switch (f) {
    case CardField::num_classes:
      return "num_classes";
    case CardField::in_channels:
      return "in_channels";
    case CardField::input_size:
      return "input_size";
    case CardField::class_names:
      return "class_names";
    case CardField::eval_transforms:
      return "eval_transforms";
    case CardField::dataset:
      return "dataset";
  }
  return "?";
}

bool has_field(const ModelCard& card, CardField f) {
  switch (f) {
    case CardField::num_classes:
      return card.num_classes > 0;
    case CardField::in_channels:
      return card.in_channels > 0;
    case CardField::input_size:
      return card.preprocessing.input_size.has_value();
    case CardField::class_names:
      return !card.class_names.empty();
    case CardField::eval_transforms:
      return card.preprocessing.eval_transforms.has_value();
    case CardField::dataset:
      return !card.provenance.dataset.empty();
  }
  return false;
}

// Reads the keys of one card, each checked for its type and range before use.
class CardReader {
 public:
  CardReader(const nlohmann::json& info, const std::string& path) : info_(info), path_(path) {}

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    throw UserError("checkpoint '" + path_ + "': its model card (the 'info' metadata) " + problem + " '" +
                    key + "'" +
                    ": the file was damaged or written by another tool; re-create it (resnet train, "
                    "convert or import) or correct the key");
  }

  bool has(const std::string& key) const { return info_.contains(key); }
  const nlohmann::json& at(const std::string& key) const { return info_.at(key); }

  int64_t positive(const std::string& key, const nlohmann::json& v, int64_t most) const {
    if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > most)
      fail(key, "holds " + v.dump() + " (not an integer from 1 to " + std::to_string(most) + ") in");
    return v.get<int64_t>();
  }
  std::string string(const std::string& key) const {
    if (!at(key).is_string()) fail(key, "holds no string in");
    return at(key).get<std::string>();
  }
  std::vector<std::string> strings(const std::string& key, const char* what) const {
    const auto& list = at(key);
    if (!list.is_array()) fail(key, "holds no list in");
    std::vector<std::string> out;
    for (const auto& s : list) {
      if (!s.is_string()) fail(key, std::string("holds a non-string ") + what + " " + s.dump() + " in");
      out.push_back(s.get<std::string>());
    }
    return out;
  }
  std::vector<double> numbers(const std::string& key, bool positive_only) const {
    const auto& list = at(key);
    if (!list.is_array() || list.size() > static_cast<size_t>(kMaxChannels))
      fail(key, "holds " + list.dump().substr(0, 80) + " (not a list of numbers, one per channel) in");
    std::vector<double> out;
    for (const auto& v : list) {
      if (!v.is_number() || !std::isfinite(v.get<double>()) || (positive_only && !(v.get<double>() > 0)))
        fail(key, "holds " + v.dump() +
                      (positive_only ? " (not a positive number)" : " (not a finite number)") + " in");
      out.push_back(v.get<double>());
    }
    return out;
  }

 private:
  const nlohmann::json& info_;
  const std::string& path_;
};

}  // namespace

std::unique_ptr<ResNet> network_from_card(const ModelCard& card, const std::string& path) {
  if (card.spec) return std::make_unique<ResNet>(*card.spec);
  // A card without its counts is named, not a json exception (found by fuzz_model_card).
  require(card, path, {}, "rebuilding the network");
  return create_model(card.model, {.num_classes = card.num_classes,
                                   .in_channels = card.in_channels,
                                   .width_multiplier = card.width_multiplier});
}

ModelCard model_card_from_json(const nlohmann::json& info, const std::string& path) {
  const CardReader r(info, path);
  if (!info.is_object()) r.fail("info", "is not a JSON object:");
  ModelCard card;
  card.version = 1;  // cards written before versions carry no "card_version"
  if (r.has("card_version")) {
    const auto& v = r.at("card_version");
    if (!v.is_number_integer() || v.get<int64_t>() < 1)
      r.fail("card_version", "holds " + v.dump() + " (not a version number) in");
    if (v.get<int64_t>() > kModelCardVersion)
      throw UserError("checkpoint '" + path + "': its model card is version " + v.dump() + ", written by " +
                      (info.contains("written_by") && info.at("written_by").is_string()
                           ? info.at("written_by").get<std::string>()
                           : std::string("a newer resnet.cpp")) +
                      "; this " + resnet_version_string() + " reads versions up to " +
                      std::to_string(kModelCardVersion) + ": use a newer resnet.cpp to read it");
    card.version = static_cast<int>(v.get<int64_t>());
  }
  if (!r.has("model")) r.fail("model", "lacks the key");
  card.model = r.string("model");

  if (r.has("num_classes")) card.num_classes = r.positive("num_classes", r.at("num_classes"), kMaxClasses);
  if (r.has("in_channels")) card.in_channels = r.positive("in_channels", r.at("in_channels"), kMaxChannels);
  if (r.has("width_multiplier")) {
    const auto& w = r.at("width_multiplier");
    if (!(w.is_number() && w.get<double>() > 0 && std::isfinite(w.get<double>())))
      r.fail("width_multiplier", "holds " + w.dump() + " (not a positive number) in");
    card.width_multiplier = w.get<double>();
  }
  if (r.has("spec")) {
    card.spec = spec_from_json(r.at("spec"), path);
    // The spec decides the network; the flat counts, when present, must agree with it.
    if (card.num_classes > 0 && card.num_classes != card.spec->num_classes)
      r.fail("num_classes", "gives " + std::to_string(card.num_classes) + " classes where its spec has " +
                                std::to_string(card.spec->num_classes) + " in");
    if (card.in_channels > 0 && card.in_channels != card.spec->in_channels)
      r.fail("in_channels", "gives " + std::to_string(card.in_channels) + " channels where its spec has " +
                                std::to_string(card.spec->in_channels) + " in");
    card.num_classes = card.spec->num_classes;
    card.in_channels = card.spec->in_channels;
  }

  Preprocessing& pre = card.preprocessing;
  if (r.has("input_size")) {
    const auto& size = r.at("input_size");
    if (!size.is_array() || size.size() != 3)
      r.fail("input_size", "holds " + size.dump() + " (not [channels, height, width]) in");
    const InputSize s{.channels = r.positive("input_size", size[0], kMaxChannels),
                      .height = r.positive("input_size", size[1], data::kMaxImageSide),
                      .width = r.positive("input_size", size[2], data::kMaxImageSide)};
    if (card.in_channels > 0 && s.channels != card.in_channels)
      r.fail("input_size", "gives " + std::to_string(s.channels) + " channels where in_channels is " +
                               std::to_string(card.in_channels) + " in");
    check_memory_budget(
        4.0 * static_cast<double>(s.channels) * static_cast<double>(s.height) * static_cast<double>(s.width),
        "one " + std::to_string(s.channels) + "×" + std::to_string(s.height) + "×" + std::to_string(s.width) +
            " input image of checkpoint '" + path + "' (its 'input_size')",
        "the file was damaged or written by another tool; correct 'input_size'");
    pre.input_size = s;
  }
  if (r.has("class_names")) {
    card.class_names = r.strings("class_names", "name");
    if (card.num_classes > 0 && static_cast<int64_t>(card.class_names.size()) != card.num_classes)
      r.fail("class_names", "holds " + std::to_string(card.class_names.size()) + " names for " +
                                std::to_string(card.num_classes) + " classes in");
  }
  if (r.has("mean")) pre.mean = r.numbers("mean", false);
  if (r.has("std")) pre.std = r.numbers("std", true);
  if (pre.mean.size() != pre.std.size())
    r.fail(pre.mean.size() < pre.std.size() ? "mean" : "std",
           "holds " + std::to_string(std::min(pre.mean.size(), pre.std.size())) + " values where " +
               (pre.mean.size() < pre.std.size() ? "'std'" : "'mean'") + " holds " +
               std::to_string(std::max(pre.mean.size(), pre.std.size())) + " in");
  if (r.has("eval_transforms")) pre.eval_transforms = r.strings("eval_transforms", "transform");

  Provenance& from = card.provenance;
  if (r.has("dataset")) from.dataset = r.string("dataset");
  if (r.has("recipe")) from.recipe = r.string("recipe");
  if (r.has("written_by")) from.written_by = r.string("written_by");
  if (r.has("imported_from")) {  // version 1: an ONNX import's source
    from.source_file = r.string("imported_from");
    from.source_format = "onnx";
  }
  if (r.has("converted_from")) {  // version 1: a converted PyTorch checkpoint
    from.source_file = r.string("converted_from");
    from.source_format = "pth";
  }
  if (r.has("source")) {
    const auto& source = r.at("source");
    if (!source.is_object()) r.fail("source", "holds no {\"file\", \"format\"} object in");
    const CardReader s(source, path);
    if (s.has("file")) from.source_file = s.string("file");
    if (s.has("format")) from.source_format = s.string("format");
  }
  return card;
}

nlohmann::json model_card_to_json(const ModelCard& card) {
  nlohmann::json j = {{"card_version", kModelCardVersion}, {"model", card.model}};
  if (card.spec) j["spec"] = spec_to_json(*card.spec);
  if (card.num_classes > 0) j["num_classes"] = card.num_classes;
  if (card.in_channels > 0) j["in_channels"] = card.in_channels;
  j["width_multiplier"] = card.width_multiplier;
  const Preprocessing& pre = card.preprocessing;
  if (pre.input_size)
    j["input_size"] = {pre.input_size->channels, pre.input_size->height, pre.input_size->width};
  if (!card.class_names.empty()) j["class_names"] = card.class_names;
  if (!pre.mean.empty()) j["mean"] = pre.mean;
  if (!pre.std.empty()) j["std"] = pre.std;
  if (pre.eval_transforms) j["eval_transforms"] = *pre.eval_transforms;
  const Provenance& from = card.provenance;
  if (!from.dataset.empty()) j["dataset"] = from.dataset;
  if (!from.source_file.empty() || !from.source_format.empty())
    j["source"] = {{"file", from.source_file}, {"format", from.source_format}};
  if (!from.recipe.empty()) j["recipe"] = from.recipe;
  j["written_by"] = resnet_version_string();
  return j;
}

void require(const ModelCard& card, const std::string& path, std::vector<CardField> fields,
             const std::string& command) {
  if (!card.spec) {  // the network is rebuilt from its name, classes and channels
    fields.insert(fields.begin(), CardField::in_channels);
    fields.insert(fields.begin(), CardField::num_classes);
  }
  for (const CardField f : fields)
    if (!has_field(card, f))
      throw UserError("checkpoint '" + path + "': its model card (the 'info' metadata) lacks the key '" +
                      field_key(f) + "' that " + command +
                      " needs (a bare model description: re-create the checkpoint with resnet train, convert "
                      "or import, which write the whole card)");
}

std::string resnet_version_string() {
  return std::string("resnet.cpp ") + version();
}

}  // namespace resnet::models
