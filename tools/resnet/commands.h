// Subcommands of the `resnet` tool. Each registers its options on the CLI11 app and runs when chosen.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "resnet/data/loader.h"
#include "resnet/infer/engine.h"
#include "resnet/models/checkpoint.h"

namespace resnet::cli {

// The process exit status a command asks for (0 unless set; errors throw instead).
inline int& exit_status() {
  static int status = 0;
  return status;
}

void add_train_command(CLI::App& app);  // train
void add_eval_commands(CLI::App& app);  // eval, predict
void add_images_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_model_commands(CLI::App& app);        // models, forward
void add_study_commands(CLI::App& app);        // study degradation, study gradients
void add_convert_command(CLI::App& app);       // convert (PyTorch .pth)
void add_interchange_commands(CLI::App& app);  // export, import (ONNX)
void add_quantize_command(CLI::App& app);      // quantize (int8 calibration)
void add_explain_command(CLI::App& app);       // explain (attribution maps)
void add_attack_command(CLI::App& app);        // attack (adversarial robustness)

// An evaluation loader over `split` ("train"/"test", first `limit` images, 0 = all) of the data set a
// checkpoint was trained on, or of `dataset`, with its evaluation transforms (evaluate.cpp); the class
// count is checked against the checkpoint.
std::unique_ptr<data::DataLoader> checkpoint_loader(const models::Checkpoint& c, const std::string& dataset,
                                                    const std::string& split, int64_t limit,
                                                    int64_t batch_size, int workers);

// Names given on the command line, checked before any file or data is read: an unknown one is refused
// (UserError, exit 2) with the flag and the valid choices (names.cpp).
void check_model_flag(const std::string& name, const std::string& flag = "--model");
void check_dataset_flag(const std::string& spec, const std::string& flag = "--dataset");

// Bare weights (safetensors with torchvision names, no card) on the architecture a command line names,
// as forward, export, attack and explain take them (--model M --weights W): the network in eval mode.
// classes 0: the model's; in_channels: of the input.
std::unique_ptr<models::ResNet> model_from_weights(const std::string& model, const std::string& weights,
                                                   int64_t classes, int64_t in_channels);

}  // namespace resnet::cli
