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
