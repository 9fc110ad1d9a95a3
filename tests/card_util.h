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

}  // namespace resnet::testing
