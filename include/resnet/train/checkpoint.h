// Writing checkpoints, and restoring the optimiser state they hold. The file layout, the reader and the
// weights-only loading are models/checkpoint.h (inference needs them without the trainer); what only a
// training run needs — the SGD momentum buffers and where training stands — is written and read back here.
//
// One file, written atomically (temporary file, fsync, rename — io/atomic_file.h), so a kill at any moment
// leaves the previous checkpoint or the new one, never a torn mix of weights and state.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "resnet/models/checkpoint.h"
#include "resnet/optim/sgd.h"

namespace resnet::train {

// `sgd` and `ema` may be null; `config`/`state` null for a weights-only checkpoint. `epoch` >= 0 is
// recorded as the metadata record "epoch" (a run's best.safetensors: the epoch whose weights it holds).
void save_checkpoint(const std::string& path, nn::Module& model, const optim::Sgd* sgd, nn::Module* ema,
                     const models::ModelCard& card, const nlohmann::json& config, const nlohmann::json& state,
                     int64_t epoch = -1);

// Restores SGD momentum buffers saved by save_checkpoint. `state` carries which buffers were initialised.
void load_optimizer(optim::Sgd& sgd, nn::Module& model, const models::Checkpoint& checkpoint);

}  // namespace resnet::train
