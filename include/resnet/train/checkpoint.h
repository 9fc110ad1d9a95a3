// Checkpoints: one safetensors file that is both a plain weights file and a full training state.
//
//   tensors   the model's state_dict under torchvision names (loadable by any safetensors reader),
//             "optimizer.momentum.<param>"  SGD momentum buffers (training checkpoints only),
//             "ema.<name>"                  the weight average, when optim.ema_decay > 0;
//   metadata  "format"  "resnet.cpp checkpoint 1"
//             "info"    JSON: the model card (models/model_card.h): how to rebuild and feed the model and
//                       where it came from;
//             "config"  JSON: the resolved training config (training checkpoints);
//             "state"   JSON: where training stands (epoch, batch, step, running metrics, history, best).
//             "epoch"   the epoch a best.safetensors holds the weights of (run_directory.h).
//
// One file, written atomically (temporary file, fsync, rename — io/atomic_file.h), so a kill at any moment
// leaves the previous checkpoint or the new one, never a torn mix of weights and state.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "resnet/io/safetensors.h"
#include "resnet/models/model_card.h"
#include "resnet/models/resnet.h"
#include "resnet/optim/sgd.h"

namespace resnet::train {

inline constexpr const char* kCheckpointFormat = "resnet.cpp checkpoint 1";

struct Checkpoint {
  io::TensorFile file;
  models::ModelCard card;
  nlohmann::json config, state;  // null in weights-only checkpoints
  const std::string& path() const { return file.path; }
  bool has_training_state() const { return !state.is_null(); }
  bool has_ema() const;
};

// `sgd` and `ema` may be null; `config`/`state` null for a weights-only checkpoint. `epoch` >= 0 is
// recorded as the metadata record "epoch" (a run's best.safetensors: the epoch whose weights it holds).
void save_checkpoint(const std::string& path, nn::Module& model, const optim::Sgd* sgd, nn::Module* ema,
                     const models::ModelCard& card, const nlohmann::json& config, const nlohmann::json& state,
                     int64_t epoch = -1);

// `path` is a checkpoint file or a run directory (then its best.safetensors, or last.safetensors when
// `prefer_last` or no best exists), or an ONNX ResNet (*.onnx, imported by onnx/import.h: weights under
// torchvision names, a card with the recognised spec; no training state). Throws UserError naming the file
// when it is missing, corrupt, or not a resnet.cpp checkpoint.
Checkpoint load_checkpoint(const std::string& path, bool prefer_last = false);
// The checkpoint a parsed safetensors file holds (format record checked, card read, config/state parsed).
Checkpoint checkpoint_from_file(io::TensorFile file);

// The model the card describes, with the checkpoint's weights (or its EMA weights) loaded, in eval mode.
std::unique_ptr<models::ResNet> model_from_checkpoint(const Checkpoint& checkpoint, bool use_ema = false);

// Loads weights ("" prefix) or EMA weights ("ema.") of a checkpoint into `model`; strict.
void load_weights(nn::Module& model, const Checkpoint& checkpoint, const std::string& prefix = "");
// Restores SGD momentum buffers saved by save_checkpoint. `state` carries which buffers were initialised.
void load_optimizer(optim::Sgd& sgd, nn::Module& model, const Checkpoint& checkpoint);

}  // namespace resnet::train
