#include "resnet/models/checkpoint.h"

#include <filesystem>
#include <map>
#include <mutex>

#include "resnet/nn/state_dict.h"

namespace resnet::models {
namespace {

nlohmann::json parse_metadata(const io::TensorFile& file, const std::string& key) {
  const auto it = file.metadata.find(key);
  if (it == file.metadata.end()) return nullptr;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  if (j.is_discarded())
    throw UserError("checkpoint '" + file.path + "' has a corrupt '" + key +
                    "' record (not JSON): the file was damaged; use the run's other checkpoint");
  return j;
}

struct Readers {
  std::mutex mutex;
  std::map<std::string, CheckpointReader> by_extension;
};
Readers& readers() {
  static Readers r;
  return r;
}

}  // namespace

bool Checkpoint::has_ema() const {
  for (const auto& [name, t] : file.tensors)
    if (name.rfind(kEmaPrefix, 0) == 0) return true;
  return false;
}

void register_checkpoint_reader(const std::string& extension, CheckpointReader reader) {
  Readers& r = readers();
  std::lock_guard lock(r.mutex);
  r.by_extension[extension] = std::move(reader);
}

Checkpoint load_checkpoint(const std::string& path, bool prefer_last) {
  namespace fs = std::filesystem;
  const std::string extension = fs::path(path).extension().string();
  if (!extension.empty() && !fs::is_directory(path)) {
    CheckpointReader reader;
    {
      Readers& r = readers();
      std::lock_guard lock(r.mutex);
      const auto it = r.by_extension.find(extension);
      if (it != r.by_extension.end()) reader = it->second;
    }
    if (reader) return reader(path);
    if (extension == ".onnx")
      throw UserError("'" + path +
                      "' is an ONNX file, but this program was linked without resnet.cpp's ONNX importer: "
                      "call resnet::onnx::register_checkpoint_reader() once (resnet/onnx/import.h)");
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
  c.card = model_card_from_json(info, file);
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

std::unique_ptr<ResNet> model_from_checkpoint(const Checkpoint& checkpoint, bool use_ema) {
  std::unique_ptr<ResNet> model = network_from_card(checkpoint.card, checkpoint.path());
  if (use_ema && !checkpoint.has_ema())
    throw UserError("checkpoint '" + checkpoint.path() +
                    "' holds no EMA weights (train with optim.ema_decay > 0)");
  load_weights(*model, checkpoint, use_ema ? kEmaPrefix : "");
  model->eval();
  return model;
}

}  // namespace resnet::models
