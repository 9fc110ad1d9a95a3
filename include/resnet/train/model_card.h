// The model card: the "info" record of a checkpoint (train/checkpoint.h) that says how to rebuild and
// feed the network — model name, classes, input channels and size, class names, evaluation transforms.
// Everything in it comes from a file, so it is validated on reading, before any size in it is used:
// a missing key, a value of the wrong type, an input size beyond data::kMaxImageSide or beyond what this
// machine can hold, or class names that do not match the class count is a UserError naming the file and
// the key, instead of a raw JSON exception or std::bad_alloc later on.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace resnet::train {

// Throws UserError naming `path` and the key when `info` is not a usable model card.
void validate_model_card(const nlohmann::json& info, const std::string& path);

}  // namespace resnet::train
