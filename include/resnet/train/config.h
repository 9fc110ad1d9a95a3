// Training configuration: one JSON tree whose defaults are the schema.
//
// Sources, later ones winning: the defaults below → a TOML file (`--config configs/x.toml`, sections
// [model] [data] [optim] [schedule] [run]) → command-line flags (`--epochs 5`, `--set optim.lr=0.05`).
// Every key a file or flag names must exist in the defaults (else UserError with the closest keys), and
// its value must have the default's type (an integer may stand for a float). The resolved tree is written
// to the run directory as config.json and is what a resumed run reads back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace resnet::train {

using Config = nlohmann::json;

Config default_config();

// Merges `overrides` into `config`, checking keys and types; `origin` names the source in errors
// ("configs/x.toml", "--set").
void merge_config(Config& config, const Config& overrides, const std::string& origin);

// Reads a TOML file into a JSON tree (no schema check; merge_config does that).
Config read_toml_config(const std::string& path);

// Applies one "section.key=value" assignment. The value is read as JSON when it parses (numbers, true,
// [1, 2], "text"), else as a bare string.
void set_config_value(Config& config, const std::string& assignment);

// Checks every value against its allowed range and form (positive batch size, momentum in [0, 1), known
// schedule kinds, numeric ascending milestones, a bounded number of loader threads …). Throws UserError
// naming the setting, the value and what is allowed. train() and resume() call it on the resolved tree,
// so no setting is read anywhere before it has passed here.
void validate_config(const Config& config);

// The resolved config as types, one struct per section, read once: what the trainer and the studies use
// (nothing outside this module looks a setting up by its name). The meaning and default of each field is
// given where default_config() defines it (src/train/config.cpp); the field names are the keys.
struct ModelSettings {
  std::string name, init_from;
  double width_multiplier = 1;
  bool zero_init_residual = false;
};
struct DataSettings {
  std::string dataset;
  double val_fraction = 0;
  int64_t train_limit = 0, test_limit = 0, image_size = 0, channels = 0;
  std::vector<double> mean, std_dev;  // std_dev is the key "std"
  std::vector<std::string> train_transforms, eval_transforms;
  double mixup_alpha = 0, cutmix_alpha = 0, mix_prob = 1;
  int workers = 0;
  int64_t prefetch = 0;
  bool skip_bad_samples = false;
};
struct OptimSettings {
  int64_t epochs = 0, steps = 0, batch_size = 0;
  double lr = 0, momentum = 0, weight_decay = 0, label_smoothing = 0, grad_clip = 0, ema_decay = 0;
  bool nesterov = false, decay_norm_and_bias = true;
};
struct ScheduleSettings {
  std::string kind, warmup;
  double warmup_epochs = 0, warmup_lr = 0, gamma = 0, min_lr = 0, pct_start = 0;
  int64_t warmup_steps = 0;
  std::vector<double> milestones;
  std::vector<int64_t> milestone_steps;
};
struct RunSettings {
  std::string name, dir, backend, precision;
  uint64_t seed = 0;
  int threads = 0;
  int64_t eval_batch_size = 0, checkpoint_every = 0, stop_after_steps = 0, log_every_steps = 0,
          eval_every_steps = 0;
  bool plots = true;
};
// Adversarial training (train/adversarial.h). kind: none | pgd | fgsm_rs | fgsm.
struct AdvSettings {
  std::string kind;
  double eps = 0, alpha = 0;
  int64_t steps = 0, eval_images = 0, eval_steps = 0;
  bool stop_on_overfit = false;
};
struct Settings {
  ModelSettings model;
  DataSettings data;
  OptimSettings optim;
  ScheduleSettings schedule;
  RunSettings run;
  AdvSettings adv;
};

// validate_config, then every value as its type. Throws UserError as validate_config does.
Settings settings_of(const Config& config);

}  // namespace resnet::train
