#include "resnet/train/config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <toml++/toml.h>

#include "resnet/core/check.h"
#include "resnet/core/suggest.h"
#include "resnet/data/sources.h"
#include "resnet/data/transforms.h"
#include "resnet/models/registry.h"

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
        {"image_size", 0},  // image folders: side of the square the model sees (0 = by the first image)
        {"channels", 0},    // image folders: 1 grey, 3 RGB, 0 = as the first image
        {"mean", nlohmann::json::array()},  // normalisation; empty = measured on the training set
        {"std", nlohmann::json::array()},
        // Empty = the data set's defaults: Fashion-MNIST random_crop(28, padding=2), hflip, normalize;
        // CIFAR the same at 32 with padding 4; IDX without the flip; image folders random_resized_crop,
        // hflip, normalize (evaluation: resize, center_crop, normalize).
        {"train_transforms", nlohmann::json::array()},
        {"eval_transforms", nlohmann::json::array()},
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
      {"adv",
       {{"kind", "none"},       // adversarial training: none | pgd | fgsm_rs | fgsm (train/adversarial.h)
        {"eps", 0.1},           // L∞ radius in [0, 1] pixel units
        {"steps", 7},           // pgd's steps
        {"alpha", 0.0},         // step size; 0: pgd 2.5·eps/steps, fgsm_rs 1.25·eps (fgsm: eps)
        {"eval_images", 1000},  // each epoch: clean, FGSM and PGD accuracy of the first N evaluation images
        {"eval_steps", 10},     // PGD steps of that evaluation
        {"stop_on_overfit", false}}},  // on catastrophic overfitting, restore the best robust weights, stop
  };
}

namespace {

// A value by dotted path ("optim.lr"); the schema guarantees presence (CheckError otherwise).
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
  namespace fs = std::filesystem;
  std::error_code error;
  const auto status = fs::status(path, error);
  if (!fs::exists(status))
    throw UserError("config file '" + path + "' does not exist (the shipped ones are in configs/)");
  if (!fs::is_regular_file(status))
    throw UserError("config file '" + path + "' is not a regular file (a device, pipe or directory): " +
                    "pass a TOML file such as configs/fashion_mnist_resnet20.toml");
  constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;
  if (fs::file_size(path, error) > kMaxConfigBytes)
    throw UserError("config file '" + path + "' is larger than 1 MiB: a config is a short TOML file; " +
                    "is this the right file?");
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

namespace {

// One setting being checked: its path for messages and its value.
struct Setting {
  std::string path;
  const nlohmann::json& value;

  [[noreturn]] void refuse(const std::string& allowed) const {
    throw UserError("setting " + path + " = " + value.dump() + " is not allowed: " + allowed);
  }
  double number() const {
    const double v = value.get<double>();
    if (!std::isfinite(v)) refuse("it must be a finite number");
    return v;
  }
  // lo <= v (< or <=) hi.
  void in(double lo, double hi, bool hi_inclusive, const std::string& allowed) const {
    const double v = number();
    if (v < lo || v > hi || (!hi_inclusive && v == hi)) refuse(allowed);
  }
  void at_least(double lo, const std::string& allowed) const { in(lo, HUGE_VAL, true, allowed); }
  void one_of(const std::vector<std::string>& names) const {
    const auto& v = value.get_ref<const std::string&>();
    if (std::find(names.begin(), names.end(), v) != names.end()) return;
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) list += (i ? ", " : "") + names[i];
    refuse("use one of " + list);
  }
  // A list whose every element satisfies `ok` (named by `what` in the message).
  template <class Ok>
  void each(const std::string& what, Ok ok) const {
    for (size_t i = 0; i < value.size(); ++i)
      if (!ok(value[i]))
        throw UserError("setting " + path + " = " + value.dump() + " is not allowed: element " +
                        std::to_string(i) + " (" + value[i].dump() + ") must be " + what);
  }
};

bool finite_number(const nlohmann::json& v) {
  return v.is_number() && std::isfinite(v.get<double>());
}

}  // namespace

void validate_config(const Config& config) {
  auto s = [&](const std::string& dotted) { return Setting{dotted, config_at(config, dotted)}; };
  constexpr int kMaxThreads = 1024, kMaxWorkers = 256;

  s("model.width_multiplier").in(0, HUGE_VAL, true, "it must be a positive number (1 = the paper's widths)");
  if (config_at(config, "model.width_multiplier").get<double>() == 0)
    s("model.width_multiplier").refuse("it must be a positive number (1 = the paper's widths)");

  s("data.val_fraction").in(0, 1, false, "use a fraction in [0, 1), e.g. 0.1");
  for (const char* k : {"data.train_limit", "data.test_limit"})
    s(k).at_least(0, "use 0 (all samples) or a positive count");
  s("data.image_size").in(0, 16384, true, "use 0 (by the first image) or a side of 1 to 16384 pixels");
  if (const int64_t c = config_at(config, "data.channels"); c != 0 && c != 1 && c != 3)
    s("data.channels").refuse("use 0 (as the first image), 1 (grey) or 3 (RGB)");
  const auto& mean = config_at(config, "data.mean");
  const auto& stdev = config_at(config, "data.std");
  s("data.mean").each("a finite number", finite_number);
  s("data.std").each("a positive number", [](const nlohmann::json& v) {
    return finite_number(v) && v.get<double>() > 0;
  });
  if (mean.size() != stdev.size())
    throw UserError("settings data.mean (" + mean.dump() + ") and data.std (" + stdev.dump() +
                    ") must have one value per channel each: set both, or neither");
  for (const char* k : {"data.train_transforms", "data.eval_transforms"})
    s(k).each("a transform spec string such as \"hflip\"",
              [](const nlohmann::json& v) { return v.is_string(); });
  for (const char* k : {"data.mixup_alpha", "data.cutmix_alpha"})
    s(k).at_least(0, "use 0 (off) or a positive alpha");
  s("data.mix_prob").in(0, 1, true, "use a probability in [0, 1]");
  s("data.workers")
      .in(0, kMaxWorkers, true,
          "use 0 (load on the training thread) up to " + std::to_string(kMaxWorkers) +
              " loader threads (1 or 2 keep up with training on most machines)");
  s("data.prefetch").in(1, 1024, true, "use 1 to 1024 batches decoded ahead");

  s("optim.epochs").at_least(0, "use a positive number of epochs (or optim.steps)");
  s("optim.steps").at_least(0, "use 0 (count epochs) or a positive number of steps");
  s("optim.batch_size").at_least(1, "use a positive batch size, e.g. 128");
  s("optim.lr").at_least(0, "use a non-negative learning rate, e.g. 0.1");
  s("optim.momentum").in(0, 1, false, "use a momentum in [0, 1), e.g. 0.9");
  s("optim.weight_decay").at_least(0, "use a non-negative weight decay, e.g. 5e-4");
  s("optim.label_smoothing").in(0, 1, false, "use a smoothing in [0, 1), e.g. 0.1");
  s("optim.grad_clip").at_least(0, "use 0 (off) or a positive gradient norm");
  s("optim.ema_decay").in(0, 1, false, "use 0 (off) or a decay in (0, 1), e.g. 0.999");

  s("schedule.kind").one_of({"constant", "multistep", "cosine", "onecycle"});
  s("schedule.warmup").one_of({"linear", "constant"});
  s("schedule.warmup_epochs").at_least(0, "use 0 (none) or a positive number of epochs");
  s("schedule.warmup_steps").at_least(0, "use 0 (none) or a positive number of steps");
  s("schedule.warmup_lr").at_least(0, "use a non-negative learning rate");
  s("schedule.milestones").each("a non-negative number of epochs", [](const nlohmann::json& v) {
    return finite_number(v) && v.get<double>() >= 0;
  });
  s("schedule.milestone_steps").each("a non-negative whole number of steps", [](const nlohmann::json& v) {
    return v.is_number_integer() && v.get<int64_t>() >= 0;
  });
  for (const char* k : {"schedule.milestones", "schedule.milestone_steps"}) {
    const auto& list = config_at(config, k);
    for (size_t i = 1; i < list.size(); ++i)
      if (list[i].get<double>() < list[i - 1].get<double>())
        s(k).refuse("milestones must be in ascending order");
  }
  s("schedule.gamma").in(0, HUGE_VAL, true, "use a positive factor, e.g. 0.1");
  if (config_at(config, "schedule.gamma").get<double>() == 0)
    s("schedule.gamma").refuse("use a positive factor, e.g. 0.1");
  s("schedule.min_lr").at_least(0, "use a non-negative learning rate");
  s("schedule.pct_start").in(0, 1, false, "use a fraction in (0, 1), e.g. 0.25");

  s("adv.kind").one_of({"none", "pgd", "fgsm_rs", "fgsm"});
  s("adv.eps").in(0, 1, true, "use a radius in (0, 1] pixel units, e.g. 0.1");
  if (config_at(config, "adv.eps").get<double>() == 0)
    s("adv.eps").refuse("use a radius in (0, 1], e.g. 0.1");
  s("adv.steps").in(1, 1000, true, "use 1 to 1000 PGD steps, e.g. 7");
  s("adv.alpha").in(0, 1, true, "use 0 (the kind's default) or a step in (0, 1]");
  s("adv.eval_images").at_least(0, "use 0 (off) or a number of evaluation images, e.g. 1000");
  s("adv.eval_steps").in(1, 1000, true, "use 1 to 1000 PGD steps, e.g. 10");
  if (config_at(config, "adv.kind") != "none" && (config_at(config, "data.mixup_alpha").get<double>() > 0 ||
                                                  config_at(config, "data.cutmix_alpha").get<double>() > 0))
    s("adv.kind")
        .refuse(
            "adversarial training does not mix batches: set data.mixup_alpha and "
            "data.cutmix_alpha to 0");

  s("run.seed").at_least(0, "use a non-negative integer");
  s("run.threads")
      .in(0, kMaxThreads, true,
          "use 0 (all cores) or 1 to " + std::to_string(kMaxThreads) + " compute threads");
  s("run.precision").one_of({"fp32", "bf16"});
  s("run.eval_batch_size").at_least(1, "use a positive batch size, e.g. 500");
  for (const char* k :
       {"run.checkpoint_every", "run.stop_after_steps", "run.log_every_steps", "run.eval_every_steps"})
    s(k).at_least(0, "use 0 (off) or a positive number of steps");
  if (config_at(config, "run.dir").get<std::string>().empty())
    s("run.dir").refuse("name a directory, e.g. runs");

  // Names last: a misspelt model, data set or transform is refused here, before any data is read, with
  // the valid choices (the registry's, the data sources' and the transforms' own messages).
  auto named = [&](const std::string& setting, const std::string& flag, auto check) {
    try {
      check();
    } catch (const UserError& e) {
      throw UserError("setting " + setting + (flag.empty() ? "" : " (" + flag + ")") + ": " + e.what());
    }
  };
  const auto& model = config_at(config, "model.name").get_ref<const std::string&>();
  const auto& zoo = models::registered_models();
  // With model.init_from the architecture is the weights' own and model.name is not used.
  if (config_at(config, "model.init_from").get_ref<const std::string&>().empty() &&
      std::none_of(zoo.begin(), zoo.end(), [&](const models::ModelInfo& m) { return m.name == model; }))
    named("model.name", "--model", [&] { models::model_spec(model, {}); });
  named("data.dataset", "--dataset",
        [&] { data::source_kind(config_at(config, "data.dataset").get_ref<const std::string&>()); });
  for (const char* k : {"data.train_transforms", "data.eval_transforms"})
    for (const auto& spec : config_at(config, k))
      // A bare "normalize" is bound to the run's mean and std by the trainer.
      if (spec != "normalize") named(k, "", [&] { data::parse_transform(spec.get<std::string>()); });
}

Settings settings_of(const Config& config) {
  validate_config(config);
  Settings s;
  size_t reads = 0;
  auto read = [&](const char* dotted, auto& field) {
    field = config_at(config, dotted).get<std::remove_reference_t<decltype(field)>>();
    ++reads;
  };
  ModelSettings& m = s.model;
  read("model.name", m.name);
  read("model.width_multiplier", m.width_multiplier);
  read("model.zero_init_residual", m.zero_init_residual);
  read("model.init_from", m.init_from);
  DataSettings& d = s.data;
  read("data.dataset", d.dataset);
  read("data.val_fraction", d.val_fraction);
  read("data.train_limit", d.train_limit);
  read("data.test_limit", d.test_limit);
  read("data.image_size", d.image_size);
  read("data.channels", d.channels);
  read("data.mean", d.mean);
  read("data.std", d.std_dev);
  read("data.train_transforms", d.train_transforms);
  read("data.eval_transforms", d.eval_transforms);
  read("data.mixup_alpha", d.mixup_alpha);
  read("data.cutmix_alpha", d.cutmix_alpha);
  read("data.mix_prob", d.mix_prob);
  read("data.workers", d.workers);
  read("data.prefetch", d.prefetch);
  read("data.skip_bad_samples", d.skip_bad_samples);
  OptimSettings& o = s.optim;
  read("optim.epochs", o.epochs);
  read("optim.steps", o.steps);
  read("optim.batch_size", o.batch_size);
  read("optim.lr", o.lr);
  read("optim.momentum", o.momentum);
  read("optim.nesterov", o.nesterov);
  read("optim.weight_decay", o.weight_decay);
  read("optim.decay_norm_and_bias", o.decay_norm_and_bias);
  read("optim.label_smoothing", o.label_smoothing);
  read("optim.grad_clip", o.grad_clip);
  read("optim.ema_decay", o.ema_decay);
  ScheduleSettings& sc = s.schedule;
  read("schedule.kind", sc.kind);
  read("schedule.warmup_epochs", sc.warmup_epochs);
  read("schedule.warmup_steps", sc.warmup_steps);
  read("schedule.warmup", sc.warmup);
  read("schedule.warmup_lr", sc.warmup_lr);
  read("schedule.milestones", sc.milestones);
  read("schedule.milestone_steps", sc.milestone_steps);
  read("schedule.gamma", sc.gamma);
  read("schedule.min_lr", sc.min_lr);
  read("schedule.pct_start", sc.pct_start);
  RunSettings& r = s.run;
  read("run.name", r.name);
  read("run.dir", r.dir);
  read("run.seed", r.seed);
  read("run.threads", r.threads);
  read("run.backend", r.backend);
  read("run.precision", r.precision);
  read("run.eval_batch_size", r.eval_batch_size);
  read("run.checkpoint_every", r.checkpoint_every);
  read("run.stop_after_steps", r.stop_after_steps);
  read("run.log_every_steps", r.log_every_steps);
  read("run.eval_every_steps", r.eval_every_steps);
  read("run.plots", r.plots);
  AdvSettings& a = s.adv;
  read("adv.kind", a.kind);
  read("adv.eps", a.eps);
  read("adv.steps", a.steps);
  read("adv.alpha", a.alpha);
  read("adv.eval_images", a.eval_images);
  read("adv.eval_steps", a.eval_steps);
  read("adv.stop_on_overfit", a.stop_on_overfit);
  // Every setting of the schema has its field: a key added to default_config() must be read here too.
  size_t settings = 0;
  for (const auto& [section, keys] : config.items()) settings += keys.size();
  RESNET_CHECK(reads == settings) << "settings_of reads " << reads << " of the config's " << settings
                                  << " settings";
  return s;
}

}  // namespace resnet::train
