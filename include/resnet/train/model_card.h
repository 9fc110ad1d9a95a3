// The model card: the "info" record of a checkpoint (train/checkpoint.h) that says how to rebuild and
// feed the network — model name, classes, input channels and size, class names, evaluation transforms.
// Everything in it comes from a file, so it is validated on reading, before any size in it is used:
// a missing key, a value of the wrong type, an input size beyond data::kMaxImageSide or beyond what this
// machine can hold, or class names that do not match the class count is a UserError naming the file and
// the key, instead of a raw JSON exception or std::bad_alloc later on. load_checkpoint validates every
// card it reads; the commands that need more of the card than the network require those keys.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace resnet::train {

// Throws UserError naming `path` and the key when `info` is not a usable model card: "model" must be
// present; every other key the commands read ("num_classes", "in_channels", "input_size", "class_names",
// "eval_transforms", "width_multiplier", "dataset") is checked when present, and required by the commands
// that use it (require_model_card_keys), since a card may hold only what its writer needed.
void validate_model_card(const nlohmann::json& info, const std::string& path);

// validate_model_card, then throws UserError naming the first of `keys` that `info` lacks and the `command`
// that needs it. Without a "spec", "num_classes" and "in_channels" are required as well: the network is
// rebuilt from them.
void require_model_card_keys(const nlohmann::json& info, const std::string& path,
                             std::vector<std::string> keys, const std::string& command);

}  // namespace resnet::train
