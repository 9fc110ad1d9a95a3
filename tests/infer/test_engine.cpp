// The inference engine against the module network it was built from (eval mode, cpu backend), for every
// block and shortcut kind of the zoo, in fp32 and bf16; and the shape of its plan (what got fused, how
// many reorders, no allocation per run).
//
// Tolerances, relative to the largest |logit| (measured worst in brackets):
//   fp32 1e-5 (7e-7) — folding BN into the weights rounds w·γ/σ once more in f32 and oneDNN sums in
//              another order: a few f32 ulps per layer.
//   bf16 3e-2 (1.3e-2, preact-164) — bf16 keeps 8 significant bits (relative rounding 2^-9 ≈ 0.2 %) on
//              every weight and activation; over up to 164 layers the errors add up, as a random walk, to
//              about a per cent of the logits' range. The plain twin gets 8e-2 (5.3e-2): with no identity
//              path every layer's rounding passes through every later layer.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>

#include "fixture_fill.h"
#include "resnet/core/memory.h"
#include "resnet/infer/engine.h"
#include "resnet/models/resnet.h"
#include "test_util.h"

using namespace resnet;

namespace {

struct Case {
  const char* name;
  std::function<std::unique_ptr<models::ResNet>()> make;
  Shape input;
  double bf16_tolerance = 3e-2;
};

std::vector<Case> cases() {
  return {
      {"resnet20 (option A, 1 channel)", [] { return models::cifar_resnet(20, 10, 1); }, {3, 1, 28, 28}},
      {"cifar resnet8 option B",
       [] { return models::cifar_resnet(8, 10, 3, nn::ShortcutKind::B); },
       {2, 3, 16, 16}},
      {"cifar plain8",
       [] { return models::cifar_resnet(8, 10, 3, nn::ShortcutKind::none); },
       {2, 3, 16, 16},
       8e-2},
      {"resnet18", [] { return models::torchvision_resnet("resnet18", 10); }, {2, 3, 64, 64}},
      {"resnet50", [] { return models::torchvision_resnet("resnet50", 10); }, {2, 3, 64, 64}},
      {"resnext50_32x4d", [] { return models::torchvision_resnet("resnext50_32x4d", 10); }, {2, 3, 64, 64}},
      {"preact resnet18", [] { return models::preact_resnet(18, 10); }, {2, 3, 16, 16}},
      {"preact resnet164 (bottleneck)", [] { return models::preact_resnet(164, 10); }, {2, 3, 8, 8}},
      {"wrn-16-2 with dropout", [] { return models::wide_resnet(16, 2, 0.3); }, {2, 3, 16, 16}},
  };
}

Tensor module_logits(models::ResNet& model, const Tensor& x) {
  model.eval();
  return model.forward(x).clone();
}

TEST(InferenceEngine, MatchesTheModuleNetworkForEveryBlockKind) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto model = c.make();
    resnet::testing::fill_module(*model);
    const Tensor x = resnet::testing::fill_input(c.input);
    const Tensor expected = module_logits(*model, x);
    infer::Engine fp32(*model, c.input, infer::Precision::f32);
    EXPECT_CLOSE(fp32.run(x), expected, 1e-5);
    infer::Engine bf16(*model, c.input, infer::Precision::bf16);
    EXPECT_CLOSE(bf16.run(x), expected, c.bf16_tolerance);
    std::printf("    %-32s fp32 %.2g  bf16 %.2g  (max |engine - modules| / max |logit|)\n", c.name,
                resnet::testing::max_rel_error(fp32.run(x), expected),
                resnet::testing::max_rel_error(bf16.run(x), expected));
    // NHWC input gives the same answer.
    EXPECT_CLOSE(fp32.run(x.to(Layout::channels_last)), expected, 1e-5);
  }
}

// A wrong plan must not pass: dropping one block's residual sum moves the logits far beyond 1e-4.
TEST(InferenceEngine, ToleranceCatchesAMissingResidualSum) {
  auto model = models::cifar_resnet(8, 10, 3);
  resnet::testing::fill_module(*model);
  const Shape input{2, 3, 16, 16};
  const Tensor x = resnet::testing::fill_input(input);
  const Tensor expected = module_logits(*model, x);
  // Zeroing layer1.0's last BN makes its branch zero: the block becomes relu(identity), which is what a
  // plan without the branch would compute; the logits must then differ from the intact net's.
  model->find_module("layer1.0.bn2")->named_parameters()[0].second->value().zero();
  infer::Engine broken(*model, input);
  EXPECT_GT(resnet::testing::max_rel_error(broken.run(x), expected), 1e-3);
}

TEST(InferenceEngine, PlanIsFusedReorderFreeAndRunAllocatesNothing) {
  auto model = models::torchvision_resnet("resnet50", 1000);
  resnet::testing::fill_module(*model);
  const Shape input{1, 3, 64, 64};
  infer::Engine engine(*model, input);
  // 49 branch convs + 4 projections, maxpool, avgpool, fc: BN, ReLU and the sums are all inside the convs.
  EXPECT_EQ(engine.primitives() - engine.reorders(), 53 + 3) << engine.describe();
  EXPECT_LE(engine.reorders(), 1) << engine.describe();  // at most the input edge
  EXPECT_EQ(engine.describe().find("ref:"), std::string::npos) << engine.describe();
  const Tensor x = resnet::testing::fill_input(input);
  const Tensor first = engine.run(x).clone();
  const int64_t allocations = memory_stats().system_allocations;
  const int64_t in_use = memory_stats().bytes_in_use;
  const Tensor& second = engine.run(x);
  EXPECT_EQ(memory_stats().system_allocations, allocations);
  EXPECT_EQ(memory_stats().bytes_in_use, in_use);
  EXPECT_EQ(resnet::testing::max_rel_error(second, first), 0.0);  // deterministic
}

TEST(InferenceEngine, WrongInputShapeOrPrecisionNameIsAClearError) {
  auto model = models::cifar_resnet(8, 10, 3);
  resnet::testing::fill_module(*model);
  infer::Engine engine(*model, {2, 3, 16, 16});
  EXPECT_THROW(engine.run(Tensor::zeros({1, 3, 16, 16})), std::exception);
  EXPECT_THROW(infer::Engine(*model, {2, 1, 16, 16}), std::exception);
  EXPECT_THROW(infer::parse_precision("fp16"), UserError);
  EXPECT_EQ(infer::parse_precision("bf16"), infer::Precision::bf16);
}

}  // namespace
