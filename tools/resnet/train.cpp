// `resnet train`: a run from a config file and flags (or --resume of a stopped one).
#include <algorithm>
#include <cstdio>
#include <optional>

#include "commands.h"
#include "resnet/train/trainer.h"

namespace resnet::cli {
namespace {

struct TrainOptions {
  std::string config_file, resume;
  std::optional<std::string> model, dataset, name, dir, backend, precision, init_from;
  std::optional<int64_t> epochs, batch_size, threads, workers, stop_after_steps;
  std::optional<double> lr;
  std::optional<int64_t> seed;  // signed, so that a negative seed is refused, not wrapped
  std::vector<std::string> set;
  bool print_config = false, allow_thread_change = false;
};

int run_train(const TrainOptions& o) {
  train::Config overrides = nlohmann::json::object();
  auto put = [&](const char* section, const char* key, const auto& value) {
    if (value) overrides[section][key] = *value;
  };
  put("model", "name", o.model);
  put("model", "init_from", o.init_from);
  put("data", "dataset", o.dataset);
  put("data", "workers", o.workers);
  put("optim", "epochs", o.epochs);
  put("optim", "batch_size", o.batch_size);
  put("optim", "lr", o.lr);
  put("run", "name", o.name);
  put("run", "dir", o.dir);
  put("run", "seed", o.seed);
  put("run", "threads", o.threads);
  put("run", "backend", o.backend);
  put("run", "precision", o.precision);
  put("run", "stop_after_steps", o.stop_after_steps);

  if (!o.resume.empty()) {
    if (!o.config_file.empty())
      throw UserError("--resume continues a run with its own config: drop --config");
    // Exactly what the flags and --set name, as a sparse tree, even where a value equals the default:
    // `--stop-after-steps 0` must lift a stop the run was started with.
    train::Config changes = train::default_config();
    train::merge_config(changes, overrides, "flags");
    train::Config sparse = overrides.is_null() ? nlohmann::json::object() : overrides;
    for (const auto& assignment : o.set) {
      train::set_config_value(changes, assignment);  // checks the key and the value's type
      std::string path = "/" + assignment.substr(0, assignment.find('='));
      std::replace(path.begin(), path.end(), '.', '/');
      const nlohmann::json::json_pointer pointer(path);
      sparse[pointer] = changes[pointer];
    }
    return train::resume(o.resume, sparse, o.allow_thread_change).exit_code;
  }
  train::Config config = train::default_config();
  if (!o.config_file.empty())
    train::merge_config(config, train::read_toml_config(o.config_file), o.config_file);
  train::merge_config(config, overrides, "flags");
  for (const auto& assignment : o.set) train::set_config_value(config, assignment);
  train::validate_config(config);
  if (o.print_config) {
    // The data set is opened (not measured) so that the image size and the transforms shown are the ones
    // that will run.
    const train::Config resolved = train::resolve_inputs(config);
    std::printf("%s\n", resolved.dump(2).c_str());
    bool bare_normalize = false;
    for (const char* key : {"train_transforms", "eval_transforms"})
      for (const auto& spec : resolved["data"][key]) bare_normalize |= spec == "normalize";
    if (bare_normalize)
      std::fprintf(stderr,
                   "note: \"normalize\" takes data.mean and data.std, or when they are unset the init_from "
                   "weights' normalisation or the training split's statistics, measured at start\n");
    return 0;
  }
  return train::train(config).exit_code;
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "Train a ResNet: config file, then flags; writes runs/<name>/");
  cmd->footer(
      "Every setting of the config (see configs/*.toml and --print-config) can be set with --set "
      "section.key=value.\nExamples:\n"
      "  resnet train --config configs/fashion_mnist_resnet20.toml\n"
      "  resnet train --model resnet56 --dataset cifar10:/data/cifar --epochs 180 --set optim.lr=0.1\n"
      "  resnet train --resume runs/resnet20-fashion-mnist");
  cmd->add_option("--config", o->config_file, "TOML config file (defaults: --print-config)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", o->model, "Model name (resnet models); default resnet20");
  cmd->add_option("--init-from", o->init_from,
                  "Fine-tune: start from these weights (run directory, checkpoint, .onnx, converted .pth); "
                  "their architecture, a new classifier when the class count differs");
  cmd->add_option("--dataset", o->dataset,
                  "fashion-mnist | idx:DIR | cifar10:DIR | cifar100:DIR | folder:DIR; default fashion-mnist");
  cmd->add_option("--epochs", o->epochs, "Passes over the training set; default 15");
  cmd->add_option("--batch-size", o->batch_size, "Images per step; default 128");
  cmd->add_option("--lr", o->lr, "Peak learning rate; default 0.1");
  cmd->add_option("--name", o->name,
                  "Run name: the run directory is <dir>/<name>; default <model>-<dataset>");
  cmd->add_option("--dir", o->dir, "Directory of runs; default runs");
  cmd->add_option("--seed", o->seed, "Random seed (order, augmentation, initialisation); default 1");
  cmd->add_option("--threads", o->threads, "Compute threads; default 0 = all cores");
  cmd->add_option("--workers", o->workers, "Data loader threads; default 1");
  cmd->add_option("--backend", o->backend, "cpu (oneDNN) or ref (reference loops, slow)")
      ->check(CLI::IsMember({"cpu", "ref"}));
  cmd->add_option("--precision", o->precision,
                  "fp32, or bf16 (bf16 activations and convolutions, f32 master weights, "
                  "statistics and optimiser; needs AVX-512); default fp32")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--stop-after-steps", o->stop_after_steps,
                  "Stop (checkpointed, resumable) after this many steps of this process");
  cmd->add_option("--set", o->set, "section.key=value, repeatable (e.g. --set optim.nesterov=true)");
  cmd->add_option("--resume", o->resume, "Continue the run in this directory from its last checkpoint")
      ->check(CLI::ExistingDirectory);
  cmd->add_flag("--allow-thread-change", o->allow_thread_change,
                "With --resume: accept another thread count than the run's (the result then differs in "
                "the last bits from an uninterrupted run)");
  cmd->add_flag("--print-config", o->print_config,
                "Print the resolved config as JSON (the image size and transforms that will run) and exit");
  cmd->callback([o] { exit_status() = run_train(*o); });
}

}  // namespace resnet::cli
