// Every torchvision ImageNet builder against torchvision 0.14 itself: same formula-filled weights (with
// non-trivial BN running statistics), eval-mode logits on a 2×3×64×64 formula input, computed by
// tests/fixtures/generate.py in float64. Tolerance 1e-4 of the largest logit (the bar): f32
// through up to 152 layers, measured below.
#include <gtest/gtest.h>

#include "fixture_fill.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "test_util.h"

using namespace resnet;

namespace {

class TorchvisionParity : public ::testing::TestWithParam<const char*> {};

TEST_P(TorchvisionParity, EvalLogitsMatchTorchvision) {
  static const io::TensorFile fx = io::load_safetensors(RESNET_FIXTURES_DIR "/torchvision.safetensors");
  const std::string name = GetParam();
  auto model = models::create_model(name);
  resnet::testing::fill_module(*model);
  model->eval();
  const Tensor& logits = model->forward(resnet::testing::fill_input({2, 3, 64, 64}));
  const double err = resnet::testing::max_rel_error(logits, fx.at(name + ".logits"));
  EXPECT_LE(err, 1e-4);
  std::printf("[ torchvision ] %-18s max |ours - torch| / max |torch| = %.1e\n", name.c_str(), err);
}

INSTANTIATE_TEST_SUITE_P(Builders, TorchvisionParity,
                         ::testing::Values("resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                                           "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
                                           "wide_resnet50_2", "wide_resnet101_2"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace

#include "resnet/models/summary.h"

namespace {

TEST(Summary, MacsAndParametersMatchPublishedFigures) {
  // torchvision's model tables: ResNet-18 1.81 GFLOPS, ResNet-50 4.09 (they count MACs); the paper's
  // CIFAR ResNet-20 is 40.55 M MACs (ANCHORS.md: 81.1 MFLOP).
  const auto r50 = models::summarize(*models::create_model("resnet50"), {3, 224, 224});
  EXPECT_NEAR(r50.macs / 1e9, 4.09, 0.01);
  EXPECT_EQ(r50.parameters, 25557032);
  const auto r18 = models::summarize(*models::create_model("resnet18"), {3, 224, 224});
  EXPECT_NEAR(r18.macs / 1e9, 1.81, 0.01);
  const auto r20 = models::summarize(*models::create_model("resnet20"), {3, 32, 32});
  EXPECT_NEAR(r20.macs / 1e6, 40.55, 0.1);
  EXPECT_EQ(r20.layers.back().name, "fc");
  EXPECT_EQ(r20.layers.back().output, (Shape{1, 10}));
}

}  // namespace
