// The names a command line gives (models, data sets), checked before any work so that a typo costs
// nothing; the library's own messages list the valid choices, and the flag is put in front of them.
#include "commands.h"
#include "resnet/data/sources.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/state_dict.h"

namespace resnet::cli {
namespace {

template <typename Check>
void for_flag(const std::string& flag, Check check) {
  try {
    check();
  } catch (const UserError& e) {
    throw UserError(flag + ": " + e.what());
  }
}

}  // namespace

void check_model_flag(const std::string& name, const std::string& flag) {
  const auto& zoo = models::registered_models();
  if (std::any_of(zoo.begin(), zoo.end(), [&](const models::ModelInfo& m) { return m.name == name; })) return;
  for_flag(flag, [&] { models::model_spec(name, {}); });  // throws, naming the closest models
}

void check_dataset_flag(const std::string& spec, const std::string& flag) {
  for_flag(flag, [&] { data::source_kind(spec); });
}

std::unique_ptr<models::ResNet> model_from_weights(const std::string& model, const std::string& weights,
                                                   int64_t classes, int64_t in_channels) {
  check_model_flag(model);
  auto network = models::create_model(model, classes, in_channels);
  nn::load_state_dict(*network, io::load_safetensors(weights));
  network->eval();
  return network;
}

}  // namespace resnet::cli
