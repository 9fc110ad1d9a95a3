// `resnet demo`: the short end-to-end demonstration — train a CIFAR-style ResNet on Fashion-MNIST (from
// Debian's dataset-fashion-mnist), evaluate it on the test set, save the weights and predict a few images.
// The full trainer (schedules, checkpoints, resume, plots) is `resnet train`, a later milestone.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "commands.h"
#include "resnet/core/parallel.h"
#include "resnet/data/idx.h"
#include "resnet/io/safetensors.h"
#include "resnet/io/state_dict.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/init.h"
#include "resnet/nn/loss.h"
#include "resnet/optim/sgd.h"
#include "resnet/train/progress.h"

namespace resnet::cli {
namespace {

struct DemoOptions {
  int depth = 20;
  int epochs = 3;
  int64_t batch = 128;
  double lr = 0.2;
  int64_t train_limit = 0;
  uint64_t seed = 1;
  int threads = 0;
  std::string backend = "cpu";
  std::string data_dir = data::kFashionMnistDir;
  std::string out = "runs/demo";
};

constexpr float kMean = 0.2860f, kStd = 0.3530f;  // Fashion-MNIST training-set statistics

// Writes images[indices[0..B)] into `batch` ([B, 1, H, W] f32, normalised). With `augment`, each image is
// shifted by up to 2 pixels (zero padding, as pad-2 + random crop) and flipped left-right with p = 0.5.
void make_batch(const data::ImageSet& set, const std::vector<int64_t>& indices, size_t first, Tensor& batch,
                Tensor& labels, bool augment, Rng& rng) {
  const int64_t B = batch.size(0), H = batch.size(2), W = batch.size(3);
  const uint8_t* src = set.images.data<uint8_t>();
  float* dst = batch.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t index = indices[first + b];
    labels.data<int64_t>()[b] = set.labels.data<int64_t>()[index];
    int64_t dy = 0, dx = 0;
    bool flip = false;
    if (augment) {
      dy = static_cast<int64_t>(rng.below(5)) - 2;
      dx = static_cast<int64_t>(rng.below(5)) - 2;
      flip = rng.below(2) == 1;
    }
    const uint8_t* image = src + index * H * W;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        const int64_t sh = h + dy, sw = (flip ? W - 1 - w : w) + dx;
        const float v = (sh >= 0 && sh < H && sw >= 0 && sw < W) ? image[sh * W + sw] / 255.f : 0.f;
        dst[(b * H + h) * W + w] = (v - kMean) / kStd;
      }
  }
}

int64_t count_correct(const Tensor& logits, const Tensor& labels, int64_t n) {
  const int64_t K = logits.size(1);
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits.data<float>() + i * K;
    correct += (std::max_element(row, row + K) - row) == labels.data<int64_t>()[i];
  }
  return correct;
}

double evaluate(models::ResNet& model, const data::ImageSet& set, Rng& rng) {
  model.eval();
  const int64_t n = set.images.size(0), B = 500;
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Tensor batch = Tensor::empty({B, 1, set.images.size(2), set.images.size(3)});
  Tensor labels = Tensor::empty({B}, DType::i64);
  int64_t correct = 0;
  train::ProgressBar bar("eval", n);
  for (int64_t first = 0; first < n; first += B) {
    const int64_t b = std::min(B, n - first);
    Tensor xb = batch.narrow(0, 0, b), yb = labels.narrow(0, 0, b);
    make_batch(set, order, first, xb, yb, false, rng);
    correct += count_correct(model.forward(xb), yb, b);
    bar.update(first + b);
  }
  const double accuracy = 100.0 * correct / n;
  char status[64];
  std::snprintf(status, sizeof status, "accuracy %.2f%%", accuracy);
  bar.finish(status);
  return accuracy;
}

void run_demo(const DemoOptions& o) {
  set_num_threads(o.threads);
  const auto backend = ops::parse_backend(o.backend);
  std::fprintf(stderr, "Loading Fashion-MNIST from %s\n", o.data_dir.c_str());
  data::ImageSet train_set = data::load_idx_split(o.data_dir, "train");
  const data::ImageSet test_set = data::load_idx_split(o.data_dir, "test");
  const int64_t n_train =
      o.train_limit > 0 ? std::min(o.train_limit, train_set.images.size(0)) : train_set.images.size(0);
  if (o.batch < 2 || o.batch > n_train)
    throw UserError("--batch-size " + std::to_string(o.batch) + " must be in [2, " + std::to_string(n_train) +
                    "]");

  auto model = models::cifar_resnet(o.depth, 10, 1);
  model->set_backend(backend);
  model->set_input_gradient(false);  // training needs no gradient w.r.t. the images
  Rng rng(o.seed);
  nn::init_torchvision(*model, rng);
  std::vector<nn::Parameter*> params;
  for (auto& [name, p] : model->named_parameters()) params.push_back(p);
  optim::Sgd sgd(
      params,
      {.lr = o.lr, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true, .decay_norm_and_bias = false});
  nn::CrossEntropyLoss loss_fn(0.1);
  loss_fn.set_backend(backend);
  std::fprintf(
      stderr,
      "ResNet-%d (%lld parameters), %lld training images, batch %lld, %d epoch(s), %d threads, %s backend\n",
      o.depth, static_cast<long long>(model->num_parameters()), static_cast<long long>(n_train),
      static_cast<long long>(o.batch), o.epochs, num_threads(), o.backend.c_str());

  const int64_t steps_per_epoch = n_train / o.batch;
  const int64_t total_steps = steps_per_epoch * o.epochs;
  const int64_t warmup = std::max<int64_t>(1, total_steps / 10);
  Tensor batch = Tensor::empty({o.batch, 1, train_set.images.size(2), train_set.images.size(3)});
  Tensor labels = Tensor::empty({o.batch}, DType::i64);
  std::vector<int64_t> order(n_train);  // the first n_train images, reshuffled every epoch
  int64_t step = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    model->train();
    std::iota(order.begin(), order.end(), 0);
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    train::ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(o.epochs),
                           steps_per_epoch);
    const auto epoch_start = std::chrono::steady_clock::now();
    for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
      // Linear warm-up for the first 10 % of steps, then cosine decay to zero.
      const double lr = step < warmup
                            ? o.lr * (step + 1) / warmup
                            : 0.5 * o.lr * (1 + std::cos(M_PI * (step - warmup) / (total_steps - warmup)));
      sgd.set_lr(lr);
      make_batch(train_set, order, static_cast<size_t>(s * o.batch), batch, labels, true, rng);
      model->zero_grad();
      const Tensor& logits = model->forward(batch);
      const double loss = loss_fn.forward(logits, labels);
      if (!std::isfinite(loss))
        throw UserError("the loss became " + std::to_string(loss) + " at step " + std::to_string(step) +
                        ": lower --lr");
      correct += count_correct(logits, labels, o.batch);
      model->backward(loss_fn.backward());
      sgd.step();
      loss_sum += loss;
      seen += o.batch;
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      char status[128];
      std::snprintf(status, sizeof status, "loss %.3f  acc %.1f%%  %.0f img/s", loss_sum / (s + 1),
                    100.0 * correct / seen, seen / secs);
      if (s + 1 == steps_per_epoch) {
        bar.finish(status);
      } else {
        bar.update(s + 1, status);
      }
    }
  }
  const double train_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double accuracy = evaluate(*model, test_set, rng);

  std::filesystem::create_directories(o.out);
  const std::string weights = o.out + "/weights.safetensors";
  io::save_safetensors(weights, io::state_dict(*model),
                       {{"model", "resnet" + std::to_string(o.depth)}, {"dataset", "fashion-mnist"}});

  // Predict: the first 8 test images, with the softmax probability of the chosen class.
  std::printf("\nPredictions on the first test images:\n");
  const int64_t k = 8;
  std::vector<int64_t> first(k);
  std::iota(first.begin(), first.end(), 0);
  Tensor xb = Tensor::empty({k, 1, test_set.images.size(2), test_set.images.size(3)});
  Tensor yb = Tensor::empty({k}, DType::i64);
  make_batch(test_set, first, 0, xb, yb, false, rng);
  const Tensor& logits = model->forward(xb);
  for (int64_t i = 0; i < k; ++i) {
    const float* row = logits.data<float>() + i * 10;
    const int64_t best = std::max_element(row, row + 10) - row;
    double z = 0;
    for (int c = 0; c < 10; ++c) z += std::exp(row[c] - row[best]);
    const int64_t truth = yb.data<int64_t>()[i];
    std::printf("  test image %lld: %-12s -> predicted %-12s (%.1f%%) %s\n", static_cast<long long>(i),
                data::kFashionMnistClasses[truth], data::kFashionMnistClasses[best], 100.0 / z,
                best == truth ? "ok" : "WRONG");
  }
  std::printf("\nTrained ResNet-%d on %lld Fashion-MNIST images in %s (%.0f img/s); weights: %s\n", o.depth,
              static_cast<long long>(n_train), train::format_duration(train_secs).c_str(),
              static_cast<double>(total_steps * o.batch) / train_secs, weights.c_str());
  std::printf("Final test accuracy: %.2f%%\n", accuracy);
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  auto* cmd =
      app.add_subcommand("demo", "Train a ResNet on Fashion-MNIST, evaluate it and predict a few images");
  cmd->add_option("--depth", options->depth, "CIFAR ResNet depth, 6n+2")->capture_default_str();
  cmd->add_option("--epochs", options->epochs, "Passes over the training set")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", options->batch, "Images per step")->capture_default_str();
  cmd->add_option("--lr", options->lr, "Peak learning rate (warm-up then cosine)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--train-limit", options->train_limit, "Use only this many training images (0 = all)")
      ->capture_default_str();
  cmd->add_option("--seed", options->seed, "Random seed")->capture_default_str();
  cmd->add_option("--threads", options->threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--backend", options->backend, "cpu (oneDNN) or ref (reference loops, slow)")
      ->capture_default_str();
  cmd->add_option("--data", options->data_dir, "Directory of the IDX files")->capture_default_str();
  cmd->add_option("--out", options->out, "Output directory")->capture_default_str();
  cmd->callback([options] { run_demo(*options); });
}

}  // namespace resnet::cli
