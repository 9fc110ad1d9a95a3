// The model card: what a checkpoint says about its network beyond the weights — how to rebuild it (a zoo
// name with its options, or a full architecture spec), what its outputs mean (class names), how to feed it
// (input size, normalisation, evaluation transforms) and where it came from (data set, source file and
// format, recipe, the resnet.cpp version that wrote it).
//
// One reader (model_card_from_json) and one writer (model_card_to_json); everything else uses the struct.
// On disk it is the JSON "info" record of a checkpoint (models/checkpoint.h) and the "resnet.cpp.info"
// metadata of an exported ONNX file, with flat keys:
//   "card_version" 2 (absent in version 1, the cards written before versions, which read the same way),
//   "model", "spec", "num_classes", "in_channels", "width_multiplier", "input_size" [c, h, w],
//   "class_names", "mean", "std", "eval_transforms", "dataset",
//   "source" {"file", "format"}, "recipe", "written_by" (version 2); version 1 named the source file
//   "imported_from" (ONNX) or "converted_from" (.pth).
//
// Everything in a card comes from a file, so the reader validates before any size in it is used: a value
// of the wrong type, an input size beyond data::kMaxImageSide or this machine, class names that do not
// match the class count, or a card from a newer resnet.cpp is a UserError naming the file and the key.
// Only "model" is required on reading: a card may hold only what its writer knew. The commands that need
// more require it by name (require), so a bare card fails with the key and the command that needs it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "resnet/models/resnet.h"

namespace resnet::models {

inline constexpr int kModelCardVersion = 2;

struct InputSize {
  int64_t channels = 0, height = 0, width = 0;
  bool operator==(const InputSize&) const = default;
};

struct Preprocessing {
  std::optional<InputSize> input_size{};  // the images the network was trained on
  std::vector<double> mean{}, std{};      // per-channel normalisation; empty when unknown
  // The evaluation pipeline (data/transforms.h syntax); unset when unknown, empty when images go in as
  // they are.
  std::optional<std::vector<std::string>> eval_transforms{};
};

struct Provenance {
  std::string dataset{};        // the data set it was trained on (data/sources.h syntax); "" unknown
  std::string source_file{};    // the file it was converted or imported from; "" when trained here
  std::string source_format{};  // "pth", "onnx", … ; "" when trained here
  std::string recipe{};         // how it was made, in words (e.g. the training command and its settings)
  std::string written_by{};     // "resnet.cpp <version>"; "" in version-1 cards
};

struct ModelCard {
  int version = kModelCardVersion;
  std::string model{};  // a zoo name (models/registry.h), or a display name when `spec` is given
  // The full architecture. When present it decides the network; otherwise the network is
  // model_spec(model, {num_classes, in_channels, width_multiplier}).
  std::optional<ResNetSpec> spec{};
  int64_t num_classes = 0, in_channels = 0;  // 0: unknown (a bare card)
  double width_multiplier = 1.0;
  std::vector<std::string> class_names{};  // empty: unknown
  Preprocessing preprocessing{};
  Provenance provenance{};
};

// What a command may need of a card beyond its model name; require() names the first one missing.
enum class CardField { num_classes, in_channels, input_size, class_names, eval_transforms, dataset };

// Reads and validates a card (see the top of this file). `path` names the file in errors.
ModelCard model_card_from_json(const nlohmann::json& info, const std::string& path);
// The card as JSON, always at kModelCardVersion; model_card_from_json(model_card_to_json(c)) == c up to
// the version and written_by, which the writer sets.
nlohmann::json model_card_to_json(const ModelCard& card);

// Throws UserError naming `path`, the first of `fields` the card lacks and the `command` that needs it.
// Without a spec, the class and channel counts are required as well: the network is rebuilt from them.
void require(const ModelCard& card, const std::string& path, std::vector<CardField> fields,
             const std::string& command);

// The network the card describes, not initialised: its spec, or its zoo name with the class and channel
// counts and the width multiplier. Throws UserError naming `path` when the card cannot say (a bare card).
std::unique_ptr<ResNet> network_from_card(const ModelCard& card, const std::string& path);

// "resnet.cpp <version>", what a card's written_by records.
std::string resnet_version_string();

}  // namespace resnet::models
