// Reading checkpoints: one safetensors file that is both a plain weights file and a full training state.
//
//   tensors   the model's state_dict under torchvision names (loadable by any safetensors reader),
//             "optimizer.momentum.<param>"  SGD momentum buffers (training checkpoints only),
//             "ema.<name>"                  the weight average, when optim.ema_decay > 0;
//   metadata  "format"  "resnet.cpp checkpoint 1"
//             "info"    JSON: the model card (models/model_card.h): how to rebuild and feed the model and
//                       where it came from;
//             "config"  JSON: the resolved training config (training checkpoints);
//             "state"   JSON: where training stands (epoch, batch, step, running metrics, history, best).
//             "epoch"   the epoch a best.safetensors holds the weights of (train/run_directory.h).
//
// The writer is train/checkpoint.h (it saves optimiser state, which is the trainer's). This reader is here,
// below training, so inference, export and studies load a model without the trainer. Other model files
// (an ONNX ResNet) are read by the room that parses them, registered by file extension
// (register_checkpoint_reader): the ONNX importer registers ".onnx" (onnx/import.h), so load_checkpoint
// accepts an .onnx file wherever a checkpoint is wanted without models depending on onnx.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "resnet/io/safetensors.h"
#include "resnet/models/model_card.h"
#include "resnet/models/resnet.h"

namespace resnet::models {

inline constexpr const char* kCheckpointFormat = "resnet.cpp checkpoint 1";
// Name prefixes of the tensors that are not the model's own weights.
inline constexpr const char* kMomentumPrefix = "optimizer.momentum.";
inline constexpr const char* kEmaPrefix = "ema.";

struct Checkpoint {
  io::TensorFile file;
  ModelCard card;
  nlohmann::json config, state;  // null in weights-only checkpoints
  const std::string& path() const { return file.path; }
  bool has_training_state() const { return !state.is_null(); }
  bool has_ema() const;
};

// `path` is a checkpoint file or a run directory (then its best.safetensors, or last.safetensors when
// `prefer_last` or no best exists), or a file whose extension has a registered reader (an ONNX ResNet:
// weights under torchvision names, a card with the recognised spec; no training state). Throws UserError
// naming the file when it is missing, corrupt, or not a resnet.cpp checkpoint.
Checkpoint load_checkpoint(const std::string& path, bool prefer_last = false);
// The checkpoint a parsed safetensors file holds (format record checked, card read, config/state parsed).
Checkpoint checkpoint_from_file(io::TensorFile file);

// Reads a model file of another format as a weights-only checkpoint. Registering an extension again
// replaces its reader. Thread-safe; meant to be called once, at start-up.
using CheckpointReader = std::function<Checkpoint(const std::string& path)>;
void register_checkpoint_reader(const std::string& extension, CheckpointReader reader);

// The model the card describes, with the checkpoint's weights (or its EMA weights) loaded, in eval mode.
std::unique_ptr<ResNet> model_from_checkpoint(const Checkpoint& checkpoint, bool use_ema = false);

// Loads weights ("" prefix) or EMA weights (kEmaPrefix) of a checkpoint into `model`; strict.
void load_weights(nn::Module& model, const Checkpoint& checkpoint, const std::string& prefix = "");

}  // namespace resnet::models
