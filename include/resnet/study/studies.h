// The residual-learning studies (He et al. 2015, Sec. 4.1–4.2): a study is a set of ordinary training runs
// with one shared recipe, plus the comparison.
//
//   out_dir/<model>/   one `resnet train` run directory per network (plain20, resnet20, …)
//   out_dir/*.csv      the comparison's data, long format (one row per network and point)
//   out_dir/summary.json, out_dir/*.png
//
// Runs are reused: a network whose run directory holds a finished run with the same recipe is not trained
// again, an interrupted one is resumed (rerun the same command after Ctrl-C), and a directory holding a
// different recipe is refused with the fix. Everything derives from the seed: the same command gives the
// same numbers.
#pragma once

#include <string>
#include <vector>

#include "resnet/models/model_card.h"
#include "resnet/train/config.h"

namespace resnet::study {

struct StudyCommon {
  std::vector<int> depths;  // CIFAR-style depths: 20, 32, 44, 56, 110 (plain and residual)
  std::string dataset = "fashion-mnist";
  std::string out_dir;
  uint64_t seed = 1;
  int threads = 0;                 // 0 = all cores
  std::string precision = "fp32";  // run.precision of every network: fp32, or bf16 (cpu mixed precision)
  std::vector<std::string> set;    // "section.key=value" overrides of the shared recipe
};

// Degradation (the paper's Fig. 6): plain-N and ResNet-N at each depth, same recipe, data and seed.
struct DegradationOptions : StudyCommon {
  DegradationOptions() { depths = {20, 56}, out_dir = "runs/study-degradation"; }
  int64_t epochs = 1;            // the default budget (see docs/studies.md); ignored when steps > 0
  int64_t steps = 0;             // an iteration budget instead of epochs
  bool full = false;             // the paper's CIFAR schedule: 64k iterations, lr ÷10 at 32k and 48k
  int64_t log_every_steps = 20;  // training error of each window of this many iterations
  int64_t eval_every_steps = 0;  // test error between epoch ends too (0 = twice an epoch)
  std::vector<std::string> kinds = {"plain", "residual"};  // which nets of each depth: plain, residual
};

// Gradients and responses (Sec. 4.1's vanishing-gradient argument, Fig. 7): per-layer gradient norms and
// residual-function response std at initialisation and after `steps` iterations of the same recipe.
struct GradientOptions : StudyCommon {
  GradientOptions() { depths = {20, 56, 110}, out_dir = "runs/study-gradients"; }
  int64_t steps = 200;          // the default budget (see docs/studies.md)
  int64_t measure_batches = 4;  // training images (eval transforms) the statistics average over, ×batch
};

// Both return the process exit code: 0 done, 130 interrupted (rerun to continue).
int run_degradation_study(const DegradationOptions& options);
int run_gradient_study(const GradientOptions& options);

// --- shared by the two studies (study_runs.cpp) ---

// "plain56" / "resnet56"; UserError for a depth the zoo lacks.
std::string cifar_model_name(bool residual, int depth);

// Trains `config` into its run directory, resumes it, or reuses it when finished with the same recipe.
// Returns 0 when the run is finished, 130 when interrupted.
int train_or_reuse(const train::Config& config);

// The finished run's training state (its last checkpoint's "state": history, step_history, …), model card
// and summary.
struct RunRecord {
  nlohmann::json state;
  models::ModelCard card;
  nlohmann::json summary;
};
RunRecord read_run(const std::string& run_dir);

// The machine a study ran on, for its summary: CPU model, cores used.
nlohmann::json machine_description();

// Writes OUT_DIR/summary.json atomically: the study's name, the data set and depths, its recipe (optim,
// schedule, data, precision, seed), the machine and this invocation's wall time, plus `results` (the
// study's own fields: networks, verdicts, …).
void write_study_summary(const std::string& out_dir, const std::string& study, const train::Config& recipe,
                         const std::vector<int>& depths, const nlohmann::json& results, double wall_seconds);

}  // namespace resnet::study
