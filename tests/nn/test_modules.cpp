// Module system: names, counts, gradient accumulation, hooks, the parameter arena, initialisation,
// SGD's update rule, train/eval semantics and determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "fixture_fill.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/init.h"
#include "resnet/nn/loss.h"
#include "resnet/optim/sgd.h"
#include "test_util.h"

using namespace resnet;

namespace {

// One training step's loss and gradients on a small CIFAR ResNet with fixture-filled parameters.
double step_once(models::ResNet& model, const Tensor& x, const Tensor& targets) {
  nn::CrossEntropyLoss loss_fn;
  loss_fn.set_backend(model.backend());
  const double loss = loss_fn.forward(model.forward(x), targets);
  model.backward(loss_fn.backward());
  return loss;
}

TEST(Modules, ResNet20NamesAndParameterCountMatchTorch) {
  auto model = models::cifar_resnet(20);
  // From tests/fixtures/generate.py's CifarResNet(3, 10, 3): sum(p.numel()) = 269,722 (the paper's 0.27 M).
  EXPECT_EQ(model->num_parameters(), 269722);
  const auto params = model->named_parameters();
  ASSERT_EQ(params.size(), 59u);  // conv1, bn1 (2), 9 blocks × 6, fc (2)
  EXPECT_EQ(params[0].first, "conv1.weight");
  EXPECT_EQ(params[1].first, "bn1.weight");
  EXPECT_EQ(params[3].first, "layer1.0.conv1.weight");
  EXPECT_EQ(params.back().first, "fc.bias");
  const auto buffers = model->named_buffers();
  EXPECT_EQ(buffers[0].first, "bn1.running_mean");
  EXPECT_EQ(buffers[2].first, "bn1.num_batches_tracked");
  EXPECT_NE(model->find_module("layer2.0.downsample"), nullptr);
  EXPECT_EQ(model->find_module("layer9"), nullptr);
  EXPECT_THROW(models::cifar_resnet(21), UserError);
}

TEST(Modules, GradientsAccumulateUntilZeroGrad) {
  auto model = models::cifar_resnet(8, 10, 1);
  resnet::testing::fill_module(*model);
  const Tensor x = resnet::testing::fill_input({2, 1, 8, 8});
  const Tensor t = resnet::testing::fill_targets(2, 10);
  model->eval();  // eval: the two passes see identical statistics
  step_once(*model, x, t);
  std::vector<Tensor> first;
  for (auto& [name, p] : model->named_parameters()) first.push_back(p->grad().clone());
  step_once(*model, x, t);
  size_t i = 0;
  for (auto& [name, p] : model->named_parameters()) {
    Tensor twice = first[i++].clone();
    for (int64_t k = 0; k < twice.numel(); ++k) twice.data<float>()[k] *= 2;
    EXPECT_LE(resnet::testing::max_rel_error(p->grad(), twice), 1e-6) << name;
  }
  model->zero_grad();
  for (auto& [name, p] : model->named_parameters()) EXPECT_FALSE(p->has_grad()) << name;
  step_once(*model, x, t);
  i = 0;
  for (auto& [name, p] : model->named_parameters())
    EXPECT_LE(resnet::testing::max_rel_error(p->grad(), first[i++]), 0.0) << name;
}

TEST(Modules, SkippingTheInputGradientLeavesParameterGradientsAlone) {
  auto model = models::cifar_resnet(8, 10, 1);
  resnet::testing::fill_module(*model);
  const Tensor x = resnet::testing::fill_input({2, 1, 8, 8});
  const Tensor t = resnet::testing::fill_targets(2, 10);
  model->eval();
  step_once(*model, x, t);
  std::vector<Tensor> with;
  for (auto& [name, p] : model->named_parameters()) with.push_back(p->grad().clone());
  model->zero_grad();
  model->set_input_gradient(false);
  nn::CrossEntropyLoss loss_fn;
  loss_fn.forward(model->forward(x), t);
  EXPECT_FALSE(model->backward(loss_fn.backward()).defined());
  size_t i = 0;
  for (auto& [name, p] : model->named_parameters())
    EXPECT_LE(resnet::testing::max_rel_error(p->grad(), with[i++]), 0.0) << name;
}

TEST(Modules, HooksSeeActivationsAndTheirGradients) {
  auto model = models::cifar_resnet(8, 10, 1);
  resnet::testing::fill_module(*model);
  nn::Module* layer3 = model->find_module("layer3");
  ASSERT_NE(layer3, nullptr);
  Shape seen_out, seen_grad;
  Tensor activation;
  const int f = layer3->add_forward_hook([&](const nn::Module& m, const Tensor& y) {
    seen_out = y.shape();
    activation = y.clone();
  });
  const int b =
      layer3->add_backward_hook([&](const nn::Module&, const Tensor& dy) { seen_grad = dy.shape(); });
  const Tensor x = resnet::testing::fill_input({3, 1, 12, 12});
  step_once(*model, x, resnet::testing::fill_targets(3, 10));
  EXPECT_EQ(seen_out, (Shape{3, 64, 3, 3}));
  EXPECT_EQ(seen_grad, (Shape{3, 64, 3, 3}));
  EXPECT_GT(resnet::testing::max_abs(activation), 0.0);
  layer3->remove_hook(f);
  layer3->remove_hook(b);
  seen_out = Shape{};
  step_once(*model, x, resnet::testing::fill_targets(3, 10));
  EXPECT_EQ(seen_out.ndim(), 0);
}

TEST(Init, TorchvisionScalesAndZeroInitResidual) {
  auto model = models::cifar_resnet(20);
  Rng rng(7);
  nn::init_torchvision(*model, rng, /*zero_init_residual=*/true);
  for (auto& [name, p] : model->named_parameters()) {
    const Tensor& v = p->value();
    if (name == "layer3.1.conv2.weight") {  // [64, 64, 3, 3]: std sqrt(2 / (64·9)) = 0.0589
      double sum = 0, sq = 0;
      for (int64_t i = 0; i < v.numel(); ++i) sum += v.get_flat(i), sq += v.get_flat(i) * v.get_flat(i);
      const double mean = sum / v.numel(), sd = std::sqrt(sq / v.numel() - mean * mean);
      EXPECT_NEAR(sd, std::sqrt(2.0 / (64 * 9)), 0.03 * std::sqrt(2.0 / (64 * 9)));  // 36864 draws: ±0.4 % sd
      EXPECT_NEAR(mean, 0.0, 0.002);
    }
    if (name == "fc.weight") {
      EXPECT_LE(resnet::testing::max_abs(v), 1.0 / 8.0);  // ±1/sqrt(64)
    }
    if (name.ends_with("bn2.weight")) {
      EXPECT_EQ(resnet::testing::max_abs(v), 0.0) << name;
    }
    if (name == "bn1.weight") {
      EXPECT_EQ(v.get_flat(0), 1.0);
    }
  }
  // Same seed, same bits; another seed, other bits.
  auto again = models::cifar_resnet(20);
  Rng rng2(7);
  nn::init_torchvision(*again, rng2, true);
  auto other = models::cifar_resnet(20);
  Rng rng3(8);
  nn::init_torchvision(*other, rng3, true);
  const Tensor& w1 = model->named_parameters()[0].second->value();
  EXPECT_EQ(std::memcmp(w1.raw(), again->named_parameters()[0].second->value().raw(), w1.nbytes()), 0);
  EXPECT_NE(std::memcmp(w1.raw(), other->named_parameters()[0].second->value().raw(), w1.nbytes()), 0);
}

TEST(Sgd, MatchesPyTorchUpdateRuleByHand) {
  // Two steps on one parameter, computed by hand from torch.optim.SGD's documented rule.
  nn::Parameter p("w", Tensor::full({1}, 1.0));
  for (bool nesterov : {false, true}) {
    p.value().fill(1.0);
    optim::Sgd sgd({&p}, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.01, .nesterov = nesterov});
    double w = 1.0, b = 0.0;
    for (int step = 0; step < 2; ++step) {
      const double g = 0.5 + step;  // gradient of this step
      p.zero_grad();
      p.grad_target().fill(g);
      p.accumulate();
      sgd.step();
      const double d = g + 0.01 * w;
      b = step == 0 ? d : 0.9 * b + d;
      w -= 0.1 * (nesterov ? d + 0.9 * b : b);
      EXPECT_NEAR(p.value().get_flat(0), w, 1e-6) << "nesterov " << nesterov << " step " << step;
    }
  }
  // No decay on BN/bias parameters when asked.
  nn::Parameter bias("bias", Tensor::full({1}, 1.0));
  bias.is_norm_or_bias = true;
  optim::Sgd sgd({&bias}, {.lr = 0.1, .weight_decay = 0.5, .decay_norm_and_bias = false});
  bias.grad_target().fill(0.0);
  bias.accumulate();
  sgd.step();
  EXPECT_EQ(bias.value().get_flat(0), 1.0);
}

TEST(BatchNorm, EvalModeLeavesRunningStatisticsAlone) {
  auto model = models::cifar_resnet(8, 10, 1);
  resnet::testing::fill_module(*model);
  auto& bn = *dynamic_cast<nn::BatchNorm2d*>(model->find_module("bn1"));
  const Tensor mean = bn.running_mean().clone();
  model->eval();
  model->forward(resnet::testing::fill_input({2, 1, 8, 8}));
  EXPECT_LE(resnet::testing::max_rel_error(bn.running_mean(), mean), 0.0);
  model->train();
  model->forward(resnet::testing::fill_input({2, 1, 8, 8}));
  EXPECT_GT(resnet::testing::max_rel_error(bn.running_mean(), mean), 1e-4);
}

TEST(Determinism, SameSeedSameThreadsBitIdenticalTraining) {
  auto run = [] {
    auto model = models::cifar_resnet(8, 10, 1);
    Rng rng(3);
    nn::init_torchvision(*model, rng);
    std::vector<nn::Parameter*> params;
    for (auto& [n, p] : model->named_parameters()) params.push_back(p);
    optim::Sgd sgd(params, {.lr = 0.05, .momentum = 0.9});
    for (int s = 0; s < 3; ++s) {
      model->zero_grad();
      step_once(*model, resnet::testing::fill_input({16, 1, 12, 12}, 0.1 * s),
                resnet::testing::fill_targets(16, 10));
      sgd.step();
    }
    std::vector<float> out;
    for (auto& [n, p] : model->named_parameters())
      out.insert(out.end(), p->value().data<float>(), p->value().data<float>() + p->value().numel());
    return out;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace

namespace {

TEST(Models, TorchvisionParameterCounts) {
  // torchvision 0.14: sum(p.numel() for p in model.parameters()) at 1000 classes.
  const std::pair<const char*, int64_t> expected[] = {
      {"resnet18", 11689512},          {"resnet34", 21797672},         {"resnet50", 25557032},
      {"resnet101", 44549160},         {"resnet152", 60192808},        {"resnext50_32x4d", 25028904},
      {"resnext101_32x8d", 88791336},  {"resnext101_64x4d", 83455272}, {"wide_resnet50_2", 68883240},
      {"wide_resnet101_2", 126886696},
  };
  for (const auto& [name, count] : expected)
    EXPECT_EQ(models::torchvision_resnet(name)->num_parameters(), count) << name;
  EXPECT_THROW(models::torchvision_resnet("resnet19"), UserError);
}

}  // namespace
