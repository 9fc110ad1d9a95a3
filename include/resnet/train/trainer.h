// The trainer: one run of `resnet train`, from a resolved config to a run directory.
//
// runs/<name>/
//   config.json        the resolved config (what --resume reads back)
//   last.safetensors   training checkpoint: weights + optimiser + state (train/checkpoint.h), every epoch
//                      and every run.checkpoint_every steps
//   best.safetensors   weights of the epoch with the best per-epoch evaluation accuracy
//   metrics.jsonl/csv  one record per epoch (rewritten whole from the checkpoint's history, so a resumed
//                      run never duplicates a line)
//   curves.png         loss and accuracy against epoch;  confusion.png  the final evaluation's matrix
//   summary.json       final numbers
//
// Exactness: every random draw derives from run.seed and a counter (sample order, augmentation, mixing),
// the schedule is a function of the step, and the checkpoint holds the rest (weights, BN statistics,
// momentum, running metrics, dropout generators). A run stopped at any step and resumed ends bit-identical
// to one that never stopped (tested).
//
// Stops: SIGINT (Ctrl-C) or SIGTERM finishes the current step, checkpoints and returns 130 or 143 (a second
// signal kills);
// run.stop_after_steps stops the same way and returns 0; a non-finite loss throws UserError and leaves
// the last good checkpoint untouched.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "resnet/train/config.h"

namespace resnet::train {

struct RunResult {
  int exit_code = 0;  // 0 finished or stopped on request, 130 interrupted
  bool finished = false;
  nlohmann::json summary;  // summary.json's content when finished
};

// A fresh run: `config` resolved (defaults ← file ← flags). The run directory is run.dir/run.name (or
// run.dir/<model>-<dataset> when the name is empty); it must not already hold a run. Both train() and
// resume() hold the directory's lock throughout and commit its files in the order of run_directory.h.
RunResult train(const Config& config);
// Continues the run in `run_dir` from its last checkpoint, with its own config.json; `overrides` may
// change only settings that do not alter the trajectory (threads, workers, stop_after_steps, epochs of
// a finished run …). The thread count is part of the run: resuming with another one is refused unless
// `allow_thread_change` (the result then differs in the last bits from an uninterrupted run).
RunResult resume(const std::string& run_dir, const Config& overrides = nullptr,
                 bool allow_thread_change = false);

// The directory a config trains into.
std::string run_directory(const Config& config);

// `config` (validated) as a run resolves it before its first step, from the training split: data.image_size
// is the side images are trained at (for image files of any size, the first image's side when it is at most
// data::kLargestSmallImage, else 224), and data.train_transforms / data.eval_transforms hold the pipelines
// that will run (an empty "auto" list replaced by the data set's recipe, data/presets.h). The data set is
// opened, not measured: a bare "normalize" stays bare, and the run binds it at start to data.mean/data.std,
// the init_from weights' normalisation or the training split's statistics. What `train --print-config`
// prints; a run's config.json holds the same with the normalisation bound.
Config resolve_inputs(Config config);

// Asks a running train()/resume() to stop at the next step boundary (what SIGINT does); for tests.
void request_stop();

}  // namespace resnet::train
