#include "resnet/train/checkpoint.h"

#include <filesystem>

#include "resnet/nn/state_dict.h"
#include "resnet/onnx/import.h"

namespace resnet::train {
namespace {

constexpr const char* kMomentumPrefix = "optimizer.momentum.";
constexpr const char* kEmaPrefix = "ema.";

nlohmann::json parse_metadata(const io::TensorFile& file, const std::string& key) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end()) return nullptr;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  if (j.is_discarded())
    throw UserError("checkpoint '" + file.path + "' has a corrupt '" + key +
                    "' record (not JSON): the file was damaged; use the run's other checkpoint");
  return j;
}

}  // namespace

bool Checkpoint::has_ema() const {
  for (const auto& [name, t] : file.tensors)
    if (name.rfind(kEmaPrefix, 0) == 0) return true;
  return false;
}

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
  std::map<std::string, std::string> metadata{{"format", kCheckpointFormat},
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

Checkpoint load_checkpoint(const std::string& path, bool prefer_last) {
  namespace fs = std::filesystem;
  if (fs::path(path).extension() == ".onnx") {
    // An ONNX ResNet stands in for a checkpoint: its weights under torchvision names, its spec in info.
    onnx::ImportedModel imported = onnx::import_onnx(path);
    Checkpoint c;
    c.file.path = path;
    c.file.tensors = std::move(imported.tensors);
    c.card = std::move(imported.card);
    return c;
  }
  std::string file = path;
  if (fs::is_directory(path)) {
    const std::string best = path + "/best.safetensors", last = path + "/last.safetensors";
    file = (!prefer_last && fs::exists(best)) || !fs::exists(last) ? best : last;
    if (!fs::exists(file))
      throw UserError(
          "run directory '" + path +
          "' holds no checkpoint (best.safetensors / last.safetensors): did its training save one?");
  } else if (!fs::exists(path)) {
    throw UserError("checkpoint '" + path +
                    "' does not exist (pass a run directory such as runs/NAME or a "
                    ".safetensors file written by resnet train)");
  }
  return checkpoint_from_file(io::load_safetensors(file));
}

Checkpoint checkpoint_from_file(io::TensorFile tensors) {
  Checkpoint c;
  c.file = std::move(tensors);
  const std::string& file = c.file.path;
  const auto format = c.file.metadata.find("format");
  if (format == c.file.metadata.end() || format->second != kCheckpointFormat)
    throw UserError("'" + file + "' is a safetensors file but not a resnet.cpp checkpoint (no '" +
                    kCheckpointFormat +
                    "' format record): for bare weights use `resnet forward --weights` "
                    "with --model");
  const nlohmann::json info = parse_metadata(c.file, "info");
  c.config = parse_metadata(c.file, "config");
  c.state = parse_metadata(c.file, "state");
  if (!info.is_object() || !info.contains("model") || !info.at("model").is_string())
    throw UserError("checkpoint '" + file + "' lacks its model description ('info'): it was damaged");
  c.card = models::model_card_from_json(info, file);
  return c;
}

void load_weights(nn::Module& model, const Checkpoint& checkpoint, const std::string& prefix) {
  io::TensorFile view;
  view.path = checkpoint.file.path;
  for (const auto& [name, t] : checkpoint.file.tensors) {
    const bool is_extra = name.rfind(kMomentumPrefix, 0) == 0 || name.rfind(kEmaPrefix, 0) == 0;
    if (prefix.empty() ? !is_extra : name.rfind(prefix, 0) == 0)
      view.tensors.emplace_back(name.substr(prefix.size()), t);
  }
  nn::load_state_dict(model, view);
}

void load_optimizer(optim::Sgd& sgd, nn::Module& model, const Checkpoint& checkpoint) {
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

std::unique_ptr<models::ResNet> model_from_checkpoint(const Checkpoint& checkpoint, bool use_ema) {
  std::unique_ptr<models::ResNet> model = models::network_from_card(checkpoint.card, checkpoint.path());
  if (use_ema && !checkpoint.has_ema())
    throw UserError("checkpoint '" + checkpoint.path() +
                    "' holds no EMA weights (train with optim.ema_decay > 0)");
  load_weights(*model, checkpoint, use_ema ? kEmaPrefix : "");
  model->eval();
  return model;
}

}  // namespace resnet::train
