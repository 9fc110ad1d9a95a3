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
  double int8_tolerance = 5e-2;  // see the int8 test; pre-activation nets have no int8 path
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
       8e-2,
       1.2e-1},
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
    if (infer::precision_supported(infer::Precision::bf16)) {
      infer::Engine bf16(*model, c.input, infer::Precision::bf16);
      EXPECT_CLOSE(bf16.run(x), expected, c.bf16_tolerance);
      std::printf("    %-32s fp32 %.2g  bf16 %.2g  (max |engine - modules| / max |logit|)\n", c.name,
                  resnet::testing::max_rel_error(fp32.run(x), expected),
                  resnet::testing::max_rel_error(bf16.run(x), expected));
    } else {
      std::printf("    %-32s fp32 %.2g  bf16 NOT CHECKED: this CPU has no AVX-512\n", c.name,
                  resnet::testing::max_rel_error(fp32.run(x), expected));
      EXPECT_THROW(infer::Engine(*model, c.input, infer::Precision::bf16), UserError);
    }
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

// int8 against the module network, for every post-activation case above (the pre-activation ones are
// refused: Int8NeedsAFittingCalibrationAndSaysSo). The calibration
// sees four batches (phases of the input formula), the test batch among them. Tolerance, relative to the
// largest |logit| (measured worst on an AVX2 CPU without VNNI, where weights get 7 bits, in brackets):
//   5e-2 (2.1e-2, option B) — each activation is rounded to 1/255 (u8) or 1/127 (s8) of its calibrated
//   range and each weight to 1/63 (1/127 with VNNI) of its channel's largest: a few tenths of a per cent
//   of noise per layer, which the formula weights (not trained, so not quantisation-friendly) amplify.
//   The plain twin 1.2e-1 (7.7e-2): as for bf16, with no identity path every rounding passes through
//   every later layer. ResNet-50 and ResNeXt-50 measure 3.3e-3 and 7.8e-3.
//   Without the 7-bit weights on such a CPU, oneDNN's s16 pair sums saturate: ResNet-50 then errs by 0.19.
infer::Calibration calibrate(models::ResNet& model, const Shape& input) {
  infer::Engine fp32(model, input);
  infer::Calibration c;
  for (double phase : {0.5, 1.7, 2.9, 4.1}) fp32.observe(resnet::testing::fill_input(input, phase), c);
  return c;
}

constexpr double kInt8Tolerance = 5e-2;

TEST(InferenceEngine, Int8MatchesTheModuleNetworkWithinQuantisationError) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto model = c.make();
    const auto block = model->spec().block;
    if (block == models::BlockKind::preact_basic || block == models::BlockKind::preact_bottleneck) continue;
    resnet::testing::fill_module(*model);
    const Tensor x = resnet::testing::fill_input(c.input);
    const Tensor expected = module_logits(*model, x);
    const infer::Calibration calibration = calibrate(*model, c.input);
    EXPECT_EQ(calibration.images, 4 * c.input[0]);
    infer::Engine int8(*model, c.input, infer::Precision::int8, &calibration);
    EXPECT_CLOSE(int8.run(x), expected, c.int8_tolerance);
    std::printf("    %-32s int8 %.2g  (max |engine - modules| / max |logit|)\n", c.name,
                resnet::testing::max_rel_error(int8.run(x), expected));
    EXPECT_EQ(int8.describe().find("ref:"), std::string::npos) << int8.describe();
  }
}

// The tolerance is tight enough to see a bad calibration: ranges a quarter of the truth saturate
// (measured 0.73).
TEST(InferenceEngine, Int8ToleranceCatchesASaturatingCalibration) {
  auto model = models::cifar_resnet(20, 10, 1);
  resnet::testing::fill_module(*model);
  const Shape input{3, 1, 28, 28};
  const Tensor x = resnet::testing::fill_input(input);
  const Tensor expected = module_logits(*model, x);
  infer::Calibration calibration = calibrate(*model, input);
  for (auto& [key, r] : calibration.ranges) r = {r.min / 4, r.max / 4};
  infer::Engine int8(*model, input, infer::Precision::int8, &calibration);
  EXPECT_GT(resnet::testing::max_rel_error(int8.run(x), expected), kInt8Tolerance);
}

TEST(InferenceEngine, Int8PlanIsFusedAndRunAllocatesNothing) {
  auto model = models::torchvision_resnet("resnet50", 1000);
  resnet::testing::fill_module(*model);
  const Shape input{1, 3, 64, 64};
  const infer::Calibration calibration = calibrate(*model, input);
  infer::Engine engine(*model, input, infer::Precision::int8, &calibration);
  // The fp32 plan's 56 steps, plus the input's quantisation and the last feature map's dequantisation.
  EXPECT_EQ(engine.primitives() - engine.reorders(), 53 + 3) << engine.describe();
  EXPECT_LE(engine.reorders(), 2) << engine.describe();
  const Tensor x = resnet::testing::fill_input(input);
  const Tensor first = engine.run(x).clone();
  const int64_t allocations = memory_stats().system_allocations;
  const Tensor& second = engine.run(x);
  EXPECT_EQ(memory_stats().system_allocations, allocations);
  EXPECT_EQ(resnet::testing::max_rel_error(second, first), 0.0);
}

TEST(InferenceEngine, Int8NeedsAFittingCalibrationAndSaysSo) {
  auto model = models::cifar_resnet(8, 10, 3);
  resnet::testing::fill_module(*model);
  const Shape input{2, 3, 16, 16};
  EXPECT_THROW(infer::Engine(*model, input, infer::Precision::int8), UserError);
  infer::Calibration calibration = calibrate(*model, input);
  calibration.ranges.erase("layer2.0.conv1");
  try {
    infer::Engine(*model, input, infer::Precision::int8, &calibration);
    ADD_FAILURE() << "a calibration without layer2.0.conv1 was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.0.conv1"), std::string::npos) << e.what();
  }
  auto preact = models::preact_resnet(18, 10);
  resnet::testing::fill_module(*preact);
  EXPECT_THROW(infer::Engine(*preact, input, infer::Precision::int8, &calibration), UserError);
  if (infer::precision_supported(infer::Precision::bf16)) {
    EXPECT_THROW(infer::Engine(*model, input, infer::Precision::bf16)
                     .observe(resnet::testing::fill_input(input), calibration),
                 std::exception);
  }
}

TEST(InferenceEngine, CalibrationFileRoundTripsAndBadFilesAreNamed) {
  infer::Calibration c;
  c.images = 12;
  c.ranges["input"] = {-1.5f, 2.25f};
  c.ranges["layer1.0.conv1"] = {0.f, 7.125f};
  const infer::Calibration back = infer::Calibration::from_json(c.to_json(), "c.json");
  EXPECT_EQ(back.images, 12);
  ASSERT_EQ(back.ranges.size(), 2u);
  EXPECT_EQ(back.ranges.at("input").min, -1.5f);
  EXPECT_EQ(back.ranges.at("layer1.0.conv1").max, 7.125f);
  for (const char* bad : {"", "{", "[]", R"({"ranges": {"a": [1]}})", R"({"ranges": {"a": [2, 1]}})",
                          R"({"ranges": {"a": ["x", 1]}})"}) {
    try {
      infer::Calibration::from_json(bad, "bad.json");
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
    }
  }
}

TEST(InferenceEngine, WrongInputShapeOrPrecisionNameIsAClearError) {
  auto model = models::cifar_resnet(8, 10, 3);
  resnet::testing::fill_module(*model);
  infer::Engine engine(*model, {2, 3, 16, 16});
  EXPECT_THROW(engine.run(Tensor::zeros({1, 3, 16, 16})), std::exception);
  EXPECT_THROW(infer::Engine(*model, {2, 1, 16, 16}), std::exception);
  EXPECT_THROW(infer::parse_precision("fp16"), UserError);
  EXPECT_EQ(infer::parse_precision("bf16"), infer::Precision::bf16);
  EXPECT_EQ(infer::parse_precision("int8"), infer::Precision::int8);
}

}  // namespace
