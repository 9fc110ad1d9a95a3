#include "resnet/train/checkpoint.h"

#include "resnet/nn/state_dict.h"

namespace resnet::train {

using models::kEmaPrefix;
using models::kMomentumPrefix;

void save_checkpoint(const std::string& path, nn::Module& model, const optim::Sgd* sgd, nn::Module* ema,
                     const models::ModelCard& card, const nlohmann::json& config, const nlohmann::json& state,
                     int64_t epoch) {
  auto tensors = nn::state_dict(model);
  if (sgd) {
    const auto params = model.named_parameters();
    const auto& buffers = sgd->momentum_buffers();
    RESNET_CHECK(buffers.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i)
      tensors.emplace_back(kMomentumPrefix + params[i].first, buffers[i]);
  }
  if (ema)
    for (auto& [name, t] : nn::state_dict(*ema)) tensors.emplace_back(kEmaPrefix + name, t);
  std::map<std::string, std::string> metadata{{"format", models::kCheckpointFormat},
                                              {"info", models::model_card_to_json(card).dump()}};
  if (!config.is_null()) metadata["config"] = config.dump();
  if (epoch >= 0) metadata["epoch"] = std::to_string(epoch);
  if (!state.is_null()) {
    nlohmann::json s = state;
    if (sgd) {
      s["optimizer"] = {{"momentum_initialised", sgd->buffer_initialised()}, {"steps", sgd->steps()}};
    }
    metadata["state"] = s.dump();
  }
  io::save_safetensors(path, tensors, metadata);
}

void load_optimizer(optim::Sgd& sgd, nn::Module& model, const models::Checkpoint& checkpoint) {
  const auto params = model.named_parameters();
  const auto& buffers = sgd.momentum_buffers();
  const auto& flags = checkpoint.state.at("optimizer").at("momentum_initialised");
  RESNET_CHECK(flags.size() == params.size()) << "optimizer state of " << flags.size() << " parameters";
  for (size_t i = 0; i < params.size(); ++i) {
    buffers[i].copy_from(checkpoint.file.at(kMomentumPrefix + params[i].first));
    sgd.buffer_initialised()[i] = flags[i].get<bool>();
  }
  sgd.set_steps(checkpoint.state.at("optimizer").at("steps").get<int64_t>());
}

}  // namespace resnet::train
