// PyTorch parity: every op and a whole CIFAR ResNet-20 against fixtures written by
// tests/fixtures/generate.py (Debian's torch 1.13), on both backends.
//
// Tolerances (relative to the largest magnitude of the reference tensor):
//  - single ops: 1e-5. Both sides compute in f32; the longest reduction here is ~150 terms, whose
//    rounding stays below ~1e-6 relative; 1e-5 leaves room for differing summation orders.
//  - ResNet-20: loss 1e-5 relative, every gradient 1e-4 (the bar: 20 layers of f32 rounding,
//    amplified by batch-norm's division by the batch standard deviation); the parameter update of two
//    SGD-momentum steps max(1e-3, 10 × PyTorch-f32's own error) (see below); the parameters
//    themselves 1e-4; BN running statistics 1e-5 (means and variances of activations, no backward pass).
//  The fixtures are float64 results rounded to f32: we are measured against the truth.
#include <gtest/gtest.h>

#include "fixture_fill.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/loss.h"
#include "resnet/optim/sgd.h"
#include "test_util.h"

using namespace resnet;
using resnet::testing::max_rel_error;

namespace {

const io::TensorFile& op_fixtures() {
  static const io::TensorFile file = io::load_safetensors(RESNET_FIXTURES_DIR "/ops.safetensors");
  return file;
}

class TorchOps : public ::testing::TestWithParam<ops::Backend> {
 protected:
  const ops::OpTable& ops() const { return ops::op_table(GetParam()); }
  const Tensor& fx(const std::string& name) const { return op_fixtures().at(name); }
  static Tensor like(const Tensor& t) { return Tensor::full(t.shape(), NAN); }
};

constexpr double kOpTol = 1e-5;

TEST_P(TorchOps, Conv2d) {
  struct Case {
    const char* tag;
    ops::Conv2dParams p;
    bool bias;
  };
  const Case cases[] = {
      {"conv_a", {.stride = {2, 2}, .padding = {1, 1}, .dilation = {1, 1}, .groups = 2}, true},
      {"conv_b", {.stride = {1, 1}, .padding = {2, 2}, .dilation = {2, 2}, .groups = 1}, false},
      {"conv_dw", {.stride = {1, 1}, .padding = {1, 1}, .dilation = {1, 1}, .groups = 4}, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tag);
    const std::string t = c.tag;
    for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
      const Tensor x = fx(t + ".x").clone(layout);
      const Tensor& w = fx(t + ".w");
      const Tensor* b = c.bias ? &fx(t + ".b") : nullptr;
      Tensor y = Tensor::full(fx(t + ".y").shape(), NAN, DType::f32, layout);
      ops().conv2d_forward(x, w, b, c.p, y);
      EXPECT_LE(max_rel_error(y, fx(t + ".y")), kOpTol);
      const Tensor dy = fx(t + ".dy").clone(layout);
      Tensor dx = Tensor::full(x.shape(), NAN, DType::f32, layout), dw = like(w);
      Tensor db = Tensor::full({w.size(0)}, NAN);
      ops().conv2d_backward(dy, x, w, c.p, &dx, &dw, c.bias ? &db : nullptr);
      EXPECT_LE(max_rel_error(dx, fx(t + ".dx")), kOpTol);
      EXPECT_LE(max_rel_error(dw, fx(t + ".dw")), kOpTol);
      if (c.bias) {
        EXPECT_LE(max_rel_error(db, fx(t + ".db")), kOpTol);
      }
    }
  }
}

TEST_P(TorchOps, BatchNorm) {
  for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
    const Tensor x = fx("bn.x").clone(layout);
    const Tensor &w = fx("bn.w"), &b = fx("bn.b");
    Tensor rm = fx("bn.rm").clone(), rv = fx("bn.rv").clone();
    Tensor y = Tensor::full(x.shape(), NAN, DType::f32, layout), mean = like(w), var = like(w);
    ops().batch_norm_forward_training(x, &w, &b, rm, rv, {}, y, mean, var);
    EXPECT_LE(max_rel_error(y, fx("bn.y")), kOpTol);
    EXPECT_LE(max_rel_error(rm, fx("bn.rm_after")), kOpTol);
    EXPECT_LE(max_rel_error(rv, fx("bn.rv_after")), kOpTol);
    const Tensor dy = fx("bn.dy").clone(layout);
    Tensor dx = Tensor::full(x.shape(), NAN, DType::f32, layout), dw = like(w), db = like(b);
    ops().batch_norm_backward_training(dy, x, &w, mean, var, {}, &dx, &dw, &db);
    EXPECT_LE(max_rel_error(dx, fx("bn.dx")), kOpTol);
    EXPECT_LE(max_rel_error(dw, fx("bn.dw")), kOpTol);
    EXPECT_LE(max_rel_error(db, fx("bn.db")), kOpTol);

    const Tensor &rm0 = fx("bn.rm"), &rv0 = fx("bn.rv");
    ops().batch_norm_forward_inference(x, &w, &b, rm0, rv0, {}, y);
    EXPECT_LE(max_rel_error(y, fx("bn_eval.y")), kOpTol);
    const Tensor dy_eval = fx("bn_eval.dy").clone(layout);
    ops().batch_norm_backward_inference(dy_eval, x, &w, rm0, rv0, {}, &dx, &dw, &db);
    EXPECT_LE(max_rel_error(dx, fx("bn_eval.dx")), kOpTol);
    EXPECT_LE(max_rel_error(dw, fx("bn_eval.dw")), kOpTol);
    EXPECT_LE(max_rel_error(db, fx("bn_eval.db")), kOpTol);
  }
}

TEST_P(TorchOps, ReluAndPools) {
  for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
    {
      const Tensor x = fx("relu.x").clone(layout);
      Tensor y = Tensor::full(x.shape(), NAN, DType::f32, layout), dx = y.clone(layout);
      ops().relu_forward(x, y);
      EXPECT_LE(max_rel_error(y, fx("relu.y")), 0.0);
      ops().relu_backward(fx("relu.dy").clone(layout), y, dx);
      EXPECT_LE(max_rel_error(dx, fx("relu.dx")), 0.0);
    }
    const Tensor x = fx("maxpool.x").clone(layout);
    ops::Pool2dParams p{.kernel = {3, 3}, .stride = {2, 2}, .padding = {1, 1}};
    {
      Tensor y = Tensor::full(fx("maxpool.y").shape(), NAN, DType::f32, layout), ws;
      Tensor dx = Tensor::full(x.shape(), NAN, DType::f32, layout);
      ops().max_pool2d_forward(x, p, y, ws);
      EXPECT_LE(max_rel_error(y, fx("maxpool.y")), 0.0);
      ops().max_pool2d_backward(fx("maxpool.dy").clone(layout), ws, p, dx);
      EXPECT_LE(max_rel_error(dx, fx("maxpool.dx")), 0.0);
    }
    for (bool include : {true, false}) {
      const std::string t = include ? "avgpool_incl" : "avgpool_excl";
      p.count_include_pad = include;
      Tensor y = Tensor::full(fx(t + ".y").shape(), NAN, DType::f32, layout);
      Tensor dx = Tensor::full(x.shape(), NAN, DType::f32, layout);
      ops().avg_pool2d_forward(x, p, y);
      EXPECT_LE(max_rel_error(y, fx(t + ".y")), kOpTol) << t;
      ops().avg_pool2d_backward(fx(t + ".dy").clone(layout), p, dx);
      EXPECT_LE(max_rel_error(dx, fx(t + ".dx")), kOpTol) << t;
    }
    {
      Tensor y = like(fx("gap.y"));
      Tensor dx = Tensor::full(x.shape(), NAN, DType::f32, layout);
      ops().global_avg_pool_forward(x, y);
      EXPECT_LE(max_rel_error(y, fx("gap.y")), kOpTol);
      ops().global_avg_pool_backward(fx("gap.dy"), dx);
      EXPECT_LE(max_rel_error(dx, fx("gap.dx")), kOpTol);
    }
  }
}

TEST_P(TorchOps, LinearAndShortcut) {
  const Tensor &x = fx("linear.x"), &w = fx("linear.w"), &b = fx("linear.b");
  Tensor y = like(fx("linear.y")), dx = like(x), dw = like(w), db = like(b);
  ops().linear_forward(x, w, &b, y);
  EXPECT_LE(max_rel_error(y, fx("linear.y")), kOpTol);
  ops().linear_backward(fx("linear.dy"), x, w, &dx, &dw, &db);
  EXPECT_LE(max_rel_error(dx, fx("linear.dx")), kOpTol);
  EXPECT_LE(max_rel_error(dw, fx("linear.dw")), kOpTol);
  EXPECT_LE(max_rel_error(db, fx("linear.db")), kOpTol);

  for (Layout layout : {Layout::contiguous, Layout::channels_last}) {
    const Tensor sx = fx("shortcut.x").clone(layout);
    Tensor sy = Tensor::full(fx("shortcut.y").shape(), NAN, DType::f32, layout);
    Tensor sdx = Tensor::full(sx.shape(), NAN, DType::f32, layout);
    ops().shortcut_a_forward(sx, 2, sy);
    EXPECT_LE(max_rel_error(sy, fx("shortcut.y")), 0.0);
    ops().shortcut_a_backward(fx("shortcut.dy").clone(layout), 2, sdx);
    EXPECT_LE(max_rel_error(sdx, fx("shortcut.dx")), 0.0);
  }
}

TEST_P(TorchOps, CrossEntropy) {
  const Tensor &logits = fx("ce.logits"), &t = fx("ce.t"), &cw = fx("ce.cw");
  struct Case {
    const char* tag;
    double smoothing;
    bool weighted;
  };
  for (const Case& c : {Case{"ce_plain", 0, false}, Case{"ce_smooth", 0.1, false},
                        Case{"ce_weighted", 0, true}, Case{"ce_both", 0.2, true}}) {
    SCOPED_TRACE(c.tag);
    const std::string tag = c.tag;
    const ops::CrossEntropyParams p{.label_smoothing = c.smoothing,
                                    .class_weights = c.weighted ? &cw : nullptr};
    const double loss = ops().softmax_cross_entropy_forward(logits, t, p);
    const double expected = fx(tag + ".loss").data<double>()[0];
    EXPECT_NEAR(loss, expected, 1e-6 * std::abs(expected));
    Tensor d = like(logits);
    ops().softmax_cross_entropy_backward(logits, t, p, 1.0, d);
    EXPECT_LE(max_rel_error(d, fx(tag + ".dlogits")), kOpTol);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, TorchOps, ::testing::Values(ops::Backend::ref, ops::Backend::cpu),
                         [](const auto& info) { return std::string(ops::backend_name(info.param)); });

// ------------------------------------------------------------------------------------ whole network

class TorchResNet20 : public ::testing::TestWithParam<ops::Backend> {};

TEST_P(TorchResNet20, LogitsLossGradientsAndTwoSgdSteps) {
  const io::TensorFile fx = io::load_safetensors(RESNET_FIXTURES_DIR "/resnet20.safetensors");
  // Mirrors RESNET20 in generate.py.
  const int64_t batch = 8, in_ch = 3, hw = 16, classes = 10;
  auto model = models::cifar_resnet(20, classes, in_ch);
  model->set_backend(GetParam());
  resnet::testing::fill_module(*model);
  const Tensor x = resnet::testing::fill_input({batch, in_ch, hw, hw});
  const Tensor targets = resnet::testing::fill_targets(batch, classes);
  nn::CrossEntropyLoss loss_fn(0.1);
  loss_fn.set_backend(GetParam());

  std::vector<nn::Parameter*> params;
  for (auto& [name, p] : model->named_parameters()) params.push_back(p);
  optim::Sgd sgd(params, {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});

  model->train();
  for (int step = 0; step < 2; ++step) {
    model->zero_grad();
    const Tensor& logits = model->forward(x);
    const double loss = loss_fn.forward(logits, targets);
    model->backward(loss_fn.backward());
    const double expected = fx.at("step" + std::to_string(step) + ".loss").data<double>()[0];
    EXPECT_NEAR(loss, expected, 1e-5 * std::abs(expected)) << "step " << step;
    if (step == 0) {
      EXPECT_LE(max_rel_error(logits, fx.at("step0.logits")), 1e-5);
      double worst = 0;
      std::string worst_name;
      for (auto& [name, p] : model->named_parameters()) {
        const double err = max_rel_error(p->grad(), fx.at("step0.grad." + name));
        EXPECT_LE(err, 1e-4) << "gradient of " << name;
        if (err > worst) worst = err, worst_name = name;
      }
      std::printf("[ ResNet-20 %s ] worst gradient error %.2e (%s)\n", ops::backend_name(GetParam()).data(),
                  worst, worst_name.c_str());
    }
    sgd.step();
  }
  // The two steps' total update, ours vs the float64 truth. The second step's gradients cancel in some
  // tensors (PyTorch's own f32 run errs by up to 2.4e-4 on them), so which tensor's update suffers from
  // f32 rounding is luck. Each update may err by max(1e-3, 10 × PyTorch f32's error on that tensor), both
  // against the same truth: measured ~0.3 of that on both backends (f32 activations in both; making the
  // ref's BN normalise with its double statistics moved its ratio from 0.2 to 0.3). A wrong momentum or
  // decay term errs by 1e-2 to 1, and tests/nn/test_modules.cpp checks the update rule exactly.
  const double update_floor = 1e-3;
  double worst_update = 0;
  for (auto& [name, p] : model->named_parameters()) {
    Tensor initial = Tensor::empty(p->value().shape());
    resnet::testing::fill_by_name(name, initial);
    Tensor ours = p->value().clone(), theirs = fx.at("after." + name).clone();
    for (int64_t i = 0; i < initial.numel(); ++i) {
      ours.data<float>()[i] -= initial.data<float>()[i];
      theirs.data<float>()[i] -= initial.data<float>()[i];
    }
    const double err = max_rel_error(ours, theirs);
    const double torch_f32 = fx.at("torch_f32_update_error." + name).data<double>()[0];
    const double tol = std::max(update_floor, 10 * torch_f32);
    worst_update = std::max(worst_update, err / tol);
    EXPECT_LE(err, tol) << name << ": update over two SGD steps (PyTorch f32 achieves " << torch_f32 << ")";
    EXPECT_LE(max_rel_error(p->value(), fx.at("after." + name)), 1e-4) << name << " after two steps";
  }
  std::printf("[ ResNet-20 %s ] worst two-step update error / its tolerance = %.2f\n",
              ops::backend_name(GetParam()).data(), worst_update);
  for (auto& [name, b] : model->named_buffers())
    if (name.find("num_batches_tracked") == std::string::npos) {
      EXPECT_LE(max_rel_error(*b, fx.at("after." + name)), 1e-5) << name << " after two steps";
    }
  model->eval();
  EXPECT_LE(max_rel_error(model->forward(x), fx.at("after.eval_logits")), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Backends, TorchResNet20, ::testing::Values(ops::Backend::ref, ops::Backend::cpu),
                         [](const auto& info) { return std::string(ops::backend_name(info.param)); });

}  // namespace
