#include "resnet/train/config.h"

#include <filesystem>

#include <toml++/toml.h>

#include "resnet/core/check.h"
#include "resnet/core/suggest.h"

namespace resnet::train {

Config default_config() {
  return {
      {"model",
       {{"name", "resnet20"},           // any `resnet models` name
        {"width_multiplier", 1.0},      // scales every stage's channels
        {"zero_init_residual", false},  // last BN of each residual branch starts at 0
        // Fine-tuning: start from these weights (run directory, checkpoint, .onnx, converted .pth). The
        // architecture is theirs (model.name is ignored); a classifier for another class count starts fresh.
        {"init_from", ""}}},
      {"data",
       {{"dataset", "fashion-mnist"},  // fashion-mnist | idx:DIR | cifar10:DIR | cifar100:DIR | folder:DIR
        {"val_fraction", 0.0},         // hold out this fraction of the training set for validation
        {"train_limit", 0},            // use only the first N training / test samples (0 = all)
        {"test_limit", 0},
        {"image_size", 0},                  // image folders: side of the square the model sees (0 = 224)
        {"channels", 0},                    // image folders: 1 grey, 3 RGB, 0 = as the first image
        {"mean", nlohmann::json::array()},  // normalisation; empty = measured on the training set
        {"std", nlohmann::json::array()},
        {"train_transforms", {"random_crop(28, padding=2)", "hflip", "normalize"}},
        {"eval_transforms", {"normalize"}},
        {"mixup_alpha", 0.0},  // batch mixing (0 = off); with both on, each batch picks one
        {"cutmix_alpha", 0.0},
        {"mix_prob", 1.0},  // fraction of batches that are mixed
        {"workers", 1},     // loader threads (0 = on the training thread)
        {"prefetch", 4},    // batches decoded ahead
        {"skip_bad_samples", false}}},
      {"optim",
       {{"epochs", 15},
        {"steps", 0},  // stop after this many optimiser steps instead (the paper counts iterations)
        {"batch_size", 128},
        {"lr", 0.1},
        {"momentum", 0.9},
        {"nesterov", false},
        {"weight_decay", 5e-4},
        {"decay_norm_and_bias", true},
        {"label_smoothing", 0.0},
        {"grad_clip", 0.0},    // clip the global gradient norm to this (0 = off)
        {"ema_decay", 0.0}}},  // exponential moving average of the weights, evaluated alongside (0 = off)
      {"schedule",
       {{"kind", "cosine"},  // constant | multistep | cosine | onecycle
        {"warmup_epochs", 0.0},
        {"warmup_steps", 0},   // overrides warmup_epochs when > 0
        {"warmup", "linear"},  // linear | constant (at warmup_lr: the paper's ResNet-110 warm-up)
        {"warmup_lr", 0.01},
        {"milestones", nlohmann::json::array()},       // multistep, in epochs
        {"milestone_steps", nlohmann::json::array()},  // multistep, in steps (wins when given)
        {"gamma", 0.1},
        {"min_lr", 0.0},
        {"pct_start", 0.25}}},
      {"run",
       {{"name", ""},  // run directory name under dir (default: model-dataset)
        {"dir", "runs"},
        {"seed", 1},
        {"threads", 0},  // 0 = all cores
        {"backend", "cpu"},
        {"precision", "fp32"},  // fp32, or bf16: convolutions in bf16, f32 master weights (cpu only)
        {"eval_batch_size", 500},
        {"checkpoint_every", 0},  // also checkpoint every N steps (0 = once per epoch)
        {"stop_after_steps", 0},  // stop (checkpointed, resumable) after this many steps of this process
        {"log_every_steps", 0},   // also record the training loss/accuracy of every N steps (0 = off)
        {"eval_every_steps", 0},  // also evaluate every N steps, between epoch ends (0 = off)
        {"plots", true}}},
  };
}

namespace {

std::vector<std::string> keys_of(const nlohmann::json& object) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : object.items()) keys.push_back(k);
  return keys;
}

bool same_kind(const nlohmann::json& schema, const nlohmann::json& value) {
  if (schema.is_number_float()) return value.is_number();
  if (schema.is_number_integer()) return value.is_number_integer();
  if (schema.is_array()) return value.is_array();
  return schema.type() == value.type();
}

std::string kind_name(const nlohmann::json& v) {
  if (v.is_number_float()) return "a number";
  if (v.is_number_integer()) return "an integer";
  if (v.is_boolean()) return "true or false";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "a list";
  return v.type_name();
}

void merge(nlohmann::json& config, const nlohmann::json& overrides, const std::string& prefix,
           const std::string& origin) {
  for (const auto& [key, value] : overrides.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (!config.contains(key)) {
      std::vector<std::string> candidates;
      for (const auto& k : keys_of(config)) candidates.push_back(prefix.empty() ? k : prefix + "." + k);
      throw UserError(origin + ": unknown setting '" + path + "': did you mean " +
                      closest_names(path, candidates) +
                      "? (`resnet train --help` and configs/*.toml show them all)");
    }
    nlohmann::json& target = config[key];
    if (target.is_object()) {
      if (!value.is_object())
        throw UserError(origin + ": '" + path + "' is a section ([" + path + "]), not a value");
      merge(target, value, path, origin);
    } else {
      if (!same_kind(target, value))
        throw UserError(origin + ": '" + path + "' must be " + kind_name(target) + ", got " + value.dump());
      target = target.is_number_float() ? nlohmann::json(value.get<double>()) : value;
    }
  }
}

nlohmann::json to_json(const toml::node& node) {
  if (auto* t = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [k, v] : *t) out[std::string(k.str())] = to_json(v);
    return out;
  }
  if (auto* a = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : *a) out.push_back(to_json(v));
    return out;
  }
  if (auto* v = node.as_string()) return v->get();
  if (auto* v = node.as_integer()) return v->get();
  if (auto* v = node.as_floating_point()) return v->get();
  if (auto* v = node.as_boolean()) return v->get();
  throw UserError("unsupported TOML value (dates and times are not settings)");
}

}  // namespace

void merge_config(Config& config, const Config& overrides, const std::string& origin) {
  merge(config, overrides, "", origin);
}

Config read_toml_config(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw UserError("config file '" + path + "' does not exist (the shipped ones are in configs/)");
  try {
    return to_json(toml::parse_file(path));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw UserError("config file '" + path + "' line " + std::to_string(where.line) + ", column " +
                    std::to_string(where.column) + ": " + std::string(e.description()));
  }
}

void set_config_value(Config& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UserError("--set '" + assignment + "': write section.key=value, e.g. --set optim.lr=0.05");
  const std::string path = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;
  nlohmann::json overrides = value;
  for (size_t end = path.size();;) {
    const auto dot = path.rfind('.', end - 1);
    const std::string key =
        path.substr(dot == std::string::npos ? 0 : dot + 1, end - (dot == std::string::npos ? 0 : dot + 1));
    overrides = nlohmann::json{{key, overrides}};
    if (dot == std::string::npos) break;
    end = dot;
  }
  merge_config(config, overrides, "--set " + assignment);
}

const nlohmann::json& config_at(const Config& config, const std::string& dotted) {
  const nlohmann::json* node = &config;
  size_t begin = 0;
  for (;;) {
    const auto dot = dotted.find('.', begin);
    const std::string key = dotted.substr(begin, dot == std::string::npos ? std::string::npos : dot - begin);
    RESNET_CHECK(node->is_object() && node->contains(key)) << "config has no '" << dotted << "'";
    node = &(*node)[key];
    if (dot == std::string::npos) return *node;
    begin = dot + 1;
  }
}

}  // namespace resnet::train
