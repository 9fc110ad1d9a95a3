// `resnet study degradation|gradients`: the paper's residual-learning experiments, one command each.
#include <memory>

#include "commands.h"
#include "output.h"
#include "resnet/study/studies.h"

namespace resnet::cli {
namespace {

void add_common_options(CLI::App* cmd, study::StudyCommon& o) {
  add_list_option(cmd, "--depths", o.depths, "CIFAR-style depths, e.g. 20 32 44 56 110");
  cmd->add_option(
         "--dataset", o.dataset,
         "Any data set the trainer takes: fashion-mnist | idx:DIR | cifar10:DIR | cifar100:DIR | folder:DIR")
      ->capture_default_str();
  cmd->add_option("--out", o.out_dir, "Study directory: one run directory per network, plus the comparison")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed shared by every network (data order, augmentation, initialisation)")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "Compute threads; 0 = all cores")->capture_default_str();
  cmd->add_option("--precision", o.precision,
                  "fp32, or bf16: mixed precision, f32 master weights (AVX512-BF16 CPUs: ~1.5x faster)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--set", o.set,
                  "Override the shared recipe: section.key=value as in `resnet train` (repeatable)");
}

}  // namespace

void add_study_commands(CLI::App& app) {
  auto* study = app.add_subcommand("study", "The residual-learning experiments: degradation, gradients");
  study->require_subcommand(1);

  auto d = std::make_shared<study::DegradationOptions>();
  auto* deg = study->add_subcommand(
      "degradation", "Plain vs residual nets at two or more depths, same recipe: the paper's Fig. 6");
  deg->footer(
      "Default budget: plain-20, plain-56, ResNet-20, ResNet-56 for 1 epoch of Fashion-MNIST each (under 30 "
      "minutes on 2 cores; docs/studies.md has the times and longer budgets).\nExamples:\n"
      "  resnet study degradation\n"
      "  resnet study degradation --depths 20,32,44,56 --epochs 30\n"
      "  resnet study degradation --kinds residual --epochs 40 --precision bf16   # the residual pair only\n"
      "  resnet study degradation --full --dataset cifar10:/data/cifar-10-batches-bin   # 64k iterations");
  add_common_options(deg, *d);
  deg->add_option("--epochs", d->epochs, "Epochs per network")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  deg->add_option("--steps", d->steps,
                  "An iteration budget per network instead of --epochs (lr ÷10 at 50%, 75%)");
  deg->add_flag("--full", d->full, "The paper's CIFAR schedule: 64k iterations, lr ÷10 at 32k and 48k");
  deg->add_option("--log-every", d->log_every_steps,
                  "Record the training error of each window of N iterations")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  deg->add_option("--eval-every", d->eval_every_steps,
                  "Test error every N iterations too (0 = twice an epoch)")
      ->capture_default_str();
  add_list_option(deg, "--kinds", d->kinds, "Which nets of each depth: plain, residual (default both)")
      ->check(CLI::IsMember({"plain", "residual"}));
  deg->callback([d] { exit_status() = study::run_degradation_study(*d); });

  auto g = std::make_shared<study::GradientOptions>();
  auto* grad = study->add_subcommand(
      "gradients", "Per-layer gradient norms and residual-response std, at init and after training: Fig. 7");
  grad->footer(
      "Default: plain and residual nets of depth 20, 56 and 110, 200 iterations each on Fashion-MNIST\n"
      "(under 30 minutes on 2 cores; docs/studies.md has the times).\n"
      "Examples:\n"
      "  resnet study gradients\n"
      "  resnet study gradients --depths 20,56 --steps 2000");
  add_common_options(grad, *g);
  grad->add_option("--steps", g->steps, "Training iterations before the second measurement")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  grad->add_option("--measure-batches", g->measure_batches,
                   "Batches of 128 training images the statistics average over")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  grad->callback([g] { exit_status() = study::run_gradient_study(*g); });
}

}  // namespace resnet::cli
