// Shared by the issue-23 CLI tests: a small untrained Fashion-MNIST checkpoint to evaluate, predict with
// and quantise (written directly, so no test spends time training).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "card_util.h"
#include "resnet/core/rng.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/train/checkpoint.h"

namespace resnet::testing {

// An untrained ResNet-20 for Fashion-MNIST (1×28×28, 10 classes) written as a checkpoint at `path`.
inline std::string write_fashion_checkpoint(const std::filesystem::path& path) {
  const nlohmann::json card = fashion_card();
  auto model = models::create_model("resnet20", 10, 1);
  Rng rng(3);
  nn::init_torchvision(*model, rng);
  train::save_checkpoint(path.string(), *model, nullptr, nullptr, card_of(card), nullptr, nullptr);
  return path.string();
}

}  // namespace resnet::testing
