// The names a command line gives (models, data sets), checked before any work so that a typo costs
// nothing; the library's own messages list the valid choices, and the flag is put in front of them.
#include "commands.h"
#include "resnet/data/sources.h"
#include "resnet/models/registry.h"

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

}  // namespace resnet::cli
