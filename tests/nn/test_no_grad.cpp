// No-grad forwards (nn/module.h, NoGradScope): the same logits bit for bit as an ordinary forward, in
// eval mode and in training mode (where a fused BN+ReLU makes the ReLU pass its input through, the case
// that must not free a tensor still being read), for every block kind; a few activations held at a time
// instead of the whole network's; and no backward afterwards.
#include <gtest/gtest.h>

#include <cstring>
#include <optional>

#include "fixture_fill.h"
#include "resnet/core/memory.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"

using namespace resnet;

namespace {

struct Case {
  const char* name;
  double width;
};

std::unique_ptr<models::ResNet> build(const Case& c) {
  auto model =
      models::create_model(c.name, {.num_classes = 10, .in_channels = 3, .width_multiplier = c.width});
  Rng rng(3);
  nn::init_torchvision(*model, rng);
  return model;
}

Tensor logits_of(models::ResNet& model, const Tensor& x, bool no_grad) {
  std::optional<nn::NoGradScope> scope;
  if (no_grad) scope.emplace();
  return model.forward(x).clone(Layout::contiguous);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data<float>(), b.data<float>(), a.numel() * sizeof(float)) == 0;
}

// option-A CIFAR net, plain twin, pre-activation (its projection reads a branch layer's output), bottleneck
// with projections and the ImageNet stem, ResNeXt's grouped convs.
const Case kCases[] = {{"resnet20", 1.0},
                       {"plain20", 1.0},
                       {"preact_resnet18", 0.25},
                       {"resnet50", 0.125},
                       {"resnext50_32x4d", 0.25}};

}  // namespace

TEST(NoGrad, EvalForwardGivesTheSameLogits) {
  const Tensor x = resnet::testing::fill_input({2, 3, 32, 32});
  for (const Case& c : kCases) {
    auto model = build(c);
    model->eval();
    const Tensor plain = logits_of(*model, x, false);
    const Tensor no_grad = logits_of(*model, x, true);
    EXPECT_TRUE(same_bits(plain, no_grad)) << c.name;
    EXPECT_TRUE(same_bits(logits_of(*model, x, false), plain)) << c.name << ": a later ordinary forward";
  }
}

TEST(NoGrad, TrainingModeForwardWithFusedReluPassThroughGivesTheSameLogits) {
  const Tensor x = resnet::testing::fill_input({4, 3, 32, 32});
  for (const Case& c : kCases) {
    auto a = build(c), b = build(c);  // two copies: a training forward updates the running statistics
    a->train();
    b->train();
    EXPECT_TRUE(same_bits(logits_of(*a, x, false), logits_of(*b, x, true))) << c.name;
  }
}

TEST(NoGrad, AForwardHoldsAFewActivationsNotTheNetworks) {
  auto model = build({"resnet20", 1.0});
  model->eval();
  const Tensor x = resnet::testing::fill_input({64, 3, 32, 32});
  const int64_t activation = 64 * 16 * 32 * 32 * 4;  // the largest: a stage-1 feature map, 4 MiB
  int64_t peak = 0, base = 0;
  model->add_forward_hook(
      [&](const nn::Module&, const Tensor&) { peak = std::max(peak, memory_stats().bytes_in_use - base); });
  for (auto& [name, m] : model->named_modules())
    if (!name.empty())
      m->add_forward_hook([&](const nn::Module&, const Tensor&) {
        peak = std::max(peak, memory_stats().bytes_in_use - base);
      });
  const auto held_by_forward = [&](bool no_grad) {
    model->forward(x);  // warm-up: primitive caches, pool blocks
    std::optional<nn::NoGradScope> scope;
    if (no_grad) scope.emplace();
    {
      nn::NoGradScope drop;  // start from nothing held
      model->forward(x);
    }
    model->drop_output();
    base = memory_stats().bytes_in_use;
    peak = 0;
    model->forward(x);
    return std::make_pair(peak, memory_stats().bytes_in_use - base);
  };
  const auto [peak_plain, kept_plain] = held_by_forward(false);
  const auto [peak_no_grad, kept_no_grad] = held_by_forward(true);
  std::printf(
      "[ memory ] eval forward of resnet20 b64: peak %lld, kept %lld bytes; no-grad: peak %lld, kept %lld\n",
      static_cast<long long>(peak_plain), static_cast<long long>(kept_plain),
      static_cast<long long>(peak_no_grad), static_cast<long long>(kept_no_grad));
  // An ordinary forward keeps every layer's input for a backward: dozens of feature maps.
  EXPECT_GT(kept_plain, 20 * activation);
  // Without grad, a block's input, its branch's current and previous outputs and its sum are live at
  // most: 4 feature maps (stage 1's are the largest); at the end only the logits remain.
  EXPECT_LE(peak_no_grad, 4 * activation);
  EXPECT_LT(kept_no_grad, 64 * 1024);
}

TEST(NoGrad, BackwardAfterANoGradForwardIsRefused) {
  auto model = build({"resnet20", 1.0});
  const Tensor x = resnet::testing::fill_input({2, 3, 32, 32});
  nn::NoGradScope scope;
  const Tensor& y = model->forward(x);
  EXPECT_THROW(model->backward(Tensor::zeros(y.shape())), CheckError);
}
