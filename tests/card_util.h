// Model cards in tests: written and compared in their JSON form, as checkpoint files hold them.
#pragma once

#include <nlohmann/json.hpp>

#include "resnet/models/model_card.h"

namespace resnet::testing {

inline models::ModelCard card_of(const nlohmann::json& j) {
  return models::model_card_from_json(j, "test card");
}
inline nlohmann::json json_of(const models::ModelCard& card) {
  return models::model_card_to_json(card);
}

// The card of an untrained ResNet-20 for Fashion-MNIST (1×28×28, 10 classes named class0…class9).
inline nlohmann::json fashion_card() {
  nlohmann::json names = nlohmann::json::array();
  for (int k = 0; k < 10; ++k) names.push_back("class" + std::to_string(k));
  return {{"model", "resnet20"},
          {"width_multiplier", 1.0},
          {"num_classes", 10},
          {"in_channels", 1},
          {"input_size", {1, 28, 28}},
          {"class_names", names},
          {"mean", {0.286}},
          {"std", {0.353}},
          {"eval_transforms", {"normalize(mean=0.286, std=0.353)"}},
          {"dataset", "fashion-mnist"}};
}

}  // namespace resnet::testing
