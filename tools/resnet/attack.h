// `resnet attack`'s options and the helpers its two modes share: adversarial attacks (attack.cpp) and
// common corruptions (corruptions.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "output.h"
#include "resnet/data/dataset.h"
#include "resnet/infer/predict.h"

namespace resnet::cli {

struct AttackCliOptions {
  std::string checkpoint, model, weights, input, output_file, dataset, split = "test", out, norm = "linf";
  std::vector<std::string> attacks{"pgd"}, engines, corruptions;
  std::vector<double> eps{8.0 / 255}, mean, std;
  std::string transfer_from, reference;
  int64_t steps = 10, restarts = 1, targets = 9, limit = 0, batch = 250, classes = 0, check_images = 200;
  double alpha = 0;
  bool random_start = false, no_checks = false, ema = false;
  uint64_t seed = 0;
  int threads = 0;
  CLI::Option* corruptions_flag = nullptr;  // --corruptions given (with or without names)
  Output output;
};

std::vector<float> floats(const std::vector<double>& v);

// The inputs an attack or a corruption starts from: [0, 1] pixels with their labels.
struct Batch {
  Tensor x;
  std::vector<int64_t> labels;
};

// Images start..start+count of `set` through the card's preprocessing, normalisation undone: the [0, 1]
// pixels the model's first step sees.
Batch load_batch(const data::Dataset& set, const infer::CardPreprocessing& pre, int64_t start, int64_t count,
                 const std::vector<float>& mean, const std::vector<float>& std);

// Row i of x ([N, C, H, W] in [0, 1]) as an 8-bit image, each pixel repeated scale×scale times.
data::Image to_image(const Tensor& x, int64_t i, int64_t scale);

// `resnet attack --corruptions`: accuracy under every common corruption and severity (corruptions.cpp).
void run_corruptions(const AttackCliOptions& o);

}  // namespace resnet::cli
