// Whole networks on both backends: every block kind and shortcut kind the zoo builds (option A, option B
// projections, plain twins, bottlenecks, grouped bottlenecks) gives the same logits and parameter
// gradients on the oneDNN path as on the reference path. Parameters come from the fixture formula.
// Tolerance: 1e-4 of each tensor's largest magnitude, the whole-network gradient bar of the PyTorch test.
//
// The deep ImageNet nets run in eval mode: in training mode, batch norm over these formula-filled weights
// divides by batch deviations that are tiny next to the means, and f32 itself cannot hold the answer —
// PyTorch's own f32 ResNet-50 differs from its f64 one by 2.4e-2 in the logits there (measured with
// torchvision 0.14, 8×3×64×64), as ours does from ref. Eval mode (running statistics, and the inference
// backward of batch norm) is well conditioned; the CIFAR nets check training mode.
#include <gtest/gtest.h>

#include "fixture_fill.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/loss.h"
#include "test_util.h"

using namespace resnet;

namespace {

struct Result {
  Tensor logits, dx;
  std::vector<Tensor> grads;
};

Result run(nn::Module& model, ops::Backend backend, const Tensor& x, const Tensor& targets, bool training) {
  model.set_backend(backend);
  resnet::testing::fill_module(model);
  model.train(training);
  model.zero_grad();
  nn::CrossEntropyLoss loss(0.1);
  loss.set_backend(backend);
  Result r;
  r.logits = model.forward(x).clone();
  loss.forward(r.logits, targets);
  r.dx = model.backward(loss.backward()).clone();
  for (auto& [name, p] : model.named_parameters()) r.grads.push_back(p->grad().clone());
  return r;
}

void expect_backends_agree(nn::Module& model, const Shape& input, int64_t classes, bool training) {
  const Tensor x = resnet::testing::fill_input(input);
  const Tensor t = resnet::testing::fill_targets(input[0], classes);
  const Result ref = run(model, ops::Backend::ref, x, t, training);
  const Result cpu = run(model, ops::Backend::cpu, x, t, training);
  EXPECT_CLOSE(cpu.logits, ref.logits, 1e-4);
  EXPECT_CLOSE(cpu.dx, ref.dx, 1e-4);
  size_t i = 0;
  for (auto& [name, p] : model.named_parameters()) {
    SCOPED_TRACE(name);
    EXPECT_CLOSE(cpu.grads[i], ref.grads[i], 1e-4);
    ++i;
  }
}

TEST(NetworkBackends, CifarOptionBProjections) {
  auto model = models::cifar_resnet(8, 10, 3, nn::ShortcutKind::B);
  ASSERT_NE(model->find_module("layer2.0.downsample.0"), nullptr);
  expect_backends_agree(*model, {4, 3, 12, 12}, 10, /*training=*/true);
}

TEST(NetworkBackends, CifarPlainTwin) {
  auto model = models::cifar_resnet(8, 10, 1, nn::ShortcutKind::none);
  EXPECT_EQ(model->find_module("layer2.0.downsample"), nullptr);
  expect_backends_agree(*model, {4, 1, 12, 12}, 10, /*training=*/true);
}

TEST(NetworkBackends, Resnet50BottlenecksAndImageNetStem) {
  auto model = models::torchvision_resnet("resnet50", 10);
  expect_backends_agree(*model, {2, 3, 32, 32}, 10, /*training=*/false);
}

TEST(NetworkBackends, ResNeXtGroupedBottlenecks) {
  auto model = models::torchvision_resnet("resnext50_32x4d", 7, 1);
  expect_backends_agree(*model, {2, 1, 32, 32}, 7, /*training=*/false);
}

}  // namespace

// Fused BN + ReLU (training): every bn → relu pair of a net is fused, the fused net computes what the
// unfused one does (the same ops in fewer passes: 1e-5 of each tensor's largest magnitude covers oneDNN's
// different summation order), and a BN frozen in eval mode inside a training net — as when fine-tuning —
// falls back to a separate ReLU instead of skipping it.
namespace fusion {

// The BNs that fuse_norm_relu fused (those followed by a ReLU), seen after a fused training forward.
std::vector<nn::BatchNorm2d*> fused_norms(nn::Module& model) {
  std::vector<nn::BatchNorm2d*> norms;
  for (auto& [name, m] : model.named_modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m); bn && bn->last_forward_fused()) norms.push_back(bn);
  return norms;
}

void set_fusion(const std::vector<nn::BatchNorm2d*>& norms, bool on) {
  for (nn::BatchNorm2d* bn : norms) bn->set_fused_relu(on);
}

int count_fused(nn::Module& model) {
  int n = 0;
  for (auto& [name, m] : model.named_modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m)) n += bn->last_forward_fused();
  return n;
}

}  // namespace fusion

TEST(NetworkFusion, FusedAndUnfusedTrainingAgreeAndAFrozenNormKeepsItsRelu) {
  auto model = models::cifar_resnet(8, 10, 3);  // stem + 3 blocks: 4 pairs
  const Shape input{4, 3, 8, 8};
  const Tensor x = resnet::testing::fill_input(input);
  const Tensor t = resnet::testing::fill_targets(4, 10);
  const Result fused = run(*model, ops::Backend::cpu, x, t, true);
  EXPECT_EQ(fusion::count_fused(*model), 4);
  const auto norms = fusion::fused_norms(*model);
  fusion::set_fusion(norms, false);
  const Result plain = run(*model, ops::Backend::cpu, x, t, true);
  EXPECT_EQ(fusion::count_fused(*model), 0);
  EXPECT_CLOSE(fused.logits, plain.logits, 1e-5);
  for (size_t i = 0; i < fused.grads.size(); ++i) EXPECT_CLOSE(fused.grads[i], plain.grads[i], 1e-5);

  // Freeze layer1.0.bn1 (eval mode inside a training net): its ReLU must run on its own.
  auto frozen_run = [&](bool fuse) {
    fusion::set_fusion(norms, fuse);
    resnet::testing::fill_module(*model);
    model->train(true);
    model->find_module("layer1.0.bn1")->eval();
    model->zero_grad();
    return model->forward(x).clone();
  };
  const Tensor frozen_fused = frozen_run(true);
  EXPECT_EQ(fusion::count_fused(*model), 3);
  const Tensor frozen_plain = frozen_run(false);
  EXPECT_CLOSE(frozen_fused, frozen_plain, 1e-5);
}
