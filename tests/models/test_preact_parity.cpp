// Pre-activation blocks against PyTorch: a WRN-10-1 (identity and projection shortcuts, the projection
// reading the pre-activated input, no ReLU after the sum, final BN-ReLU) in training mode — logits, loss
// and every parameter gradient, from tests/fixtures/generate.py (float64). Tolerances as for ResNet-20:
// loss 1e-5 relative, logits 1e-5, gradients 1e-4 of their largest magnitude.
#include <gtest/gtest.h>

#include "fixture_fill.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/loss.h"
#include "test_util.h"

using namespace resnet;

namespace {

class PreActParity : public ::testing::TestWithParam<ops::Backend> {};

TEST_P(PreActParity, Wrn10LogitsLossAndGradients) {
  const io::TensorFile fx = io::load_safetensors(RESNET_FIXTURES_DIR "/wrn.safetensors");
  auto model = models::wide_resnet(10, 1, 0.0, 10, 3);  // WRN in generate.py
  model->set_backend(GetParam());
  resnet::testing::fill_module(*model);
  model->train();
  const Tensor x = resnet::testing::fill_input({4, 3, 8, 8});
  nn::CrossEntropyLoss loss_fn;
  loss_fn.set_backend(GetParam());
  const Tensor& logits = model->forward(x);
  const double loss = loss_fn.forward(logits, resnet::testing::fill_targets(4, 10));
  model->backward(loss_fn.backward());
  const double expected = fx.at("loss").get_flat(0);
  EXPECT_NEAR(loss, expected, 1e-5 * std::abs(expected));
  EXPECT_CLOSE(logits, fx.at("logits"), 1e-5);
  size_t compared = 0;
  for (auto& [name, p] : model->named_parameters()) {
    SCOPED_TRACE(name);
    EXPECT_CLOSE(p->grad(), fx.at("grad." + name), 1e-4);
    ++compared;
  }
  EXPECT_EQ(compared, fx.tensors.size() - 2);  // every gradient in the fixture has a parameter here
}

INSTANTIATE_TEST_SUITE_P(Backends, PreActParity, ::testing::Values(ops::Backend::ref, ops::Backend::cpu),
                         [](const auto& info) { return std::string(ops::backend_name(info.param)); });

TEST(Models, PreActivationAndWideParameterCounts) {
  // preact_resnet18: the common CIFAR PreActResNet18 has 11,171,146 parameters without the final BN that
  // the paper's design (and ours) ends with: + 2 × 512. WRN-28-10: 36.5 M in Zagoruyko & Komodakis.
  EXPECT_EQ(models::create_model("preact_resnet18")->num_parameters(), 11171146 + 1024);
  EXPECT_EQ(models::create_model("wrn_28_10")->num_parameters(), 36479194);
  EXPECT_NEAR(models::create_model("preact_resnet164")->num_parameters() / 1e6, 1.70, 0.01);
  EXPECT_THROW(models::wide_resnet(27, 10), UserError);
}

}  // namespace
