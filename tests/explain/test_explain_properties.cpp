// explain/'s promises beyond parity: completeness of integrated gradients, results that do not depend on
// the thread count or the chunk size, seeded SmoothGrad, the forward-only methods on an inference engine,
// and the refusals a user meets (each message names the flag and the fix).
#include <gtest/gtest.h>

#include <algorithm>

#include "resnet/core/parallel.h"
#include "resnet/explain/cam.h"
#include "resnet/explain/gradients.h"
#include "resnet/explain/integrated_gradients.h"
#include "resnet/explain/layers.h"
#include "resnet/explain/methods.h"
#include "resnet/explain/occlusion.h"
#include "resnet/explain/saliency.h"
#include "resnet/explain/targets.h"
#include "small_model.h"
#include "test_util.h"

using namespace resnet;

namespace {

class ExplainProperties : public ::testing::Test {
 protected:
  void SetUp() override { model_ = resnet::testing::explain_test_model(); }
  std::unique_ptr<models::ResNet> model_;
  const Tensor x_ = resnet::testing::fill_input({3, 3, 16, 16}, 0.2);
  const std::vector<int64_t> targets_{0, 7, 3};
};

bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

double sum(const Tensor& t, int64_t image) {
  const int64_t per = t.numel() / t.size(0);
  double s = 0;
  for (int64_t e = 0; e < per; ++e) s += t.data<float>()[image * per + e];
  return s;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no UserError)";
}

TEST(ExplainQuadrature, GaussLegendreIsExactForPolynomials) {
  std::vector<double> nodes, weights;
  explain::quadrature(explain::Rule::gauss_legendre, 5, nodes, weights);
  // ∫₀¹ t⁹ dt = 1/10: degree 2n - 1 = 9 is exact for 5 points; the midpoint rule is not.
  double gl = 0;
  for (size_t k = 0; k < nodes.size(); ++k) gl += weights[k] * std::pow(nodes[k], 9);
  EXPECT_NEAR(gl, 0.1, 1e-14);
  EXPECT_TRUE(std::is_sorted(nodes.begin(), nodes.end()));
  explain::quadrature(explain::Rule::riemann, 5, nodes, weights);
  double mid = 0;
  for (size_t k = 0; k < nodes.size(); ++k) mid += weights[k] * std::pow(nodes[k], 9);
  EXPECT_GT(std::abs(mid - 0.1), 1e-3);
}

TEST_F(ExplainProperties, IntegratedGradientsAreComplete) {
  const Tensor baseline = explain::blur_baseline(x_, 2.0);
  // This formula-weighted net's path crosses many ReLU kinks (a piecewise-constant integrand, where
  // Gauss–Legendre gains nothing over its order): 64 steps leave 3.6e-3 here, 256 reach 1e-3.
  const Tensor ig = explain::integrated_gradients(*model_, x_, baseline, targets_, {.steps = 256});
  const Tensor fx = explain::model_logits(*model_)(x_).clone();
  const Tensor fb = explain::model_logits(*model_)(baseline).clone();
  for (int64_t i = 0; i < 3; ++i) {
    const double delta = fx.at<float>({i, targets_[i]}) - fb.at<float>({i, targets_[i]});
    ASSERT_GT(std::abs(delta), 1e-2) << "a baseline that changes nothing proves nothing";
    EXPECT_LE(std::abs(sum(ig, i) - delta) / std::abs(delta), 1e-3) << "image " << i;
  }
  // One step of the midpoint rule is far from complete: the check above can fail.
  const Tensor coarse = explain::integrated_gradients(*model_, x_, baseline, targets_,
                                                      {.steps = 1, .rule = explain::Rule::riemann});
  double worst = 0;
  for (int64_t i = 0; i < 3; ++i) {
    const double delta = fx.at<float>({i, targets_[i]}) - fb.at<float>({i, targets_[i]});
    worst = std::max(worst, std::abs(sum(coarse, i) - delta) / std::abs(delta));
  }
  EXPECT_GT(worst, 1e-3);
}

TEST_F(ExplainProperties, SameResultAtOneAndTwoThreadsAndAnyChunk) {
  const int threads = num_threads();
  const Tensor black = explain::black_baseline(x_, {0.5f}, {0.25f});
  auto run = [&](int64_t chunk) {
    std::vector<Tensor> out;
    out.push_back(explain::saliency(*model_, x_, targets_, {.chunk = chunk}));
    out.push_back(explain::smoothgrad(*model_, x_, targets_, {.samples = 5, .seed = 3, .chunk = chunk}));
    out.push_back(explain::integrated_gradients(*model_, x_, black, targets_, {.steps = 7, .chunk = chunk}));
    out.push_back(explain::grad_cam(*model_, x_, targets_, {.layer = "", .chunk = chunk}).map);
    out.push_back(
        explain::grad_cam_plus_plus(*model_, x_, targets_, {.layer = "layer2", .chunk = chunk}).map);
    out.push_back(explain::score_cam(*model_, explain::model_logits(*model_), x_, targets_,
                                     {.layer = "", .chunk = chunk})
                      .map);
    out.push_back(explain::occlusion(explain::model_logits(*model_), x_, targets_, {.chunk = chunk}));
    return out;
  };
  set_num_threads(1);
  const std::vector<Tensor> one = run(4);
  set_num_threads(2);
  const std::vector<Tensor> two = run(4), two_small = run(1), two_big = run(64);
  set_num_threads(threads);
  for (size_t m = 0; m < one.size(); ++m) {
    SCOPED_TRACE("output " + std::to_string(m));
    EXPECT_TRUE(bit_identical(one[m], two[m])) << "threads";
    EXPECT_TRUE(bit_identical(two[m], two_small[m])) << "chunk 1";
    EXPECT_TRUE(bit_identical(two[m], two_big[m])) << "chunk 64";
  }
}

TEST_F(ExplainProperties, NoPassSeesMoreThanAChunk) {
  // What bounds peak memory: the network never runs a batch larger than the chunk, whatever the steps,
  // samples, windows or channels.
  int64_t largest = 0;
  const int id = model_->add_forward_hook(
      [&](const nn::Module&, const Tensor& y) { largest = std::max(largest, y.size(0)); });
  const Tensor black = explain::black_baseline(x_, {0.5f}, {0.25f});
  explain::integrated_gradients(*model_, x_, black, targets_, {.steps = 64, .chunk = 5});
  EXPECT_EQ(largest, 5);
  largest = 0;
  explain::smoothgrad(*model_, x_, targets_, {.samples = 9, .chunk = 2});
  explain::score_cam(*model_, explain::model_logits(*model_), x_, targets_, {.layer = "", .chunk = 2});
  explain::occlusion(explain::model_logits(*model_), x_, targets_, {.chunk = 2});
  explain::grad_cam(*model_, x_, targets_, {.layer = "", .chunk = 2});
  EXPECT_EQ(largest, 2);
  model_->remove_hook(id);
}

TEST_F(ExplainProperties, SmoothGradIsSeeded) {
  const explain::SmoothGradOptions options{.samples = 4, .sigma = 0.2, .seed = 11};
  const Tensor a = explain::smoothgrad(*model_, x_, targets_, options);
  const Tensor b = explain::smoothgrad(*model_, x_, targets_, options);
  EXPECT_TRUE(bit_identical(a, b));
  explain::SmoothGradOptions other = options;
  other.seed = 12;
  EXPECT_FALSE(bit_identical(a, explain::smoothgrad(*model_, x_, targets_, other)));
  // Without noise it is the plain gradient.
  EXPECT_CLOSE(explain::smoothgrad(*model_, x_, targets_, {.samples = 2, .sigma = 0}),
               explain::saliency(*model_, x_, targets_), 1e-6);
}

TEST_F(ExplainProperties, GradientsLeaveTheModelsParameterGradientsAlone) {
  explain::saliency(*model_, x_, targets_);
  for (auto& [name, p] : model_->named_parameters()) {
    EXPECT_FALSE(p->has_grad()) << name;
    EXPECT_TRUE(p->requires_grad) << name;
  }
}

TEST_F(ExplainProperties, ForwardOnlyMethodsRunOnTheEngine) {
  infer::EngineSet engines(*model_, infer::Precision::f32);
  const explain::LogitsFn on_engine = explain::engine_logits(engines),
                          on_model = explain::model_logits(*model_);
  EXPECT_CLOSE(explain::occlusion(on_engine, x_, targets_), explain::occlusion(on_model, x_, targets_), 1e-4);
  EXPECT_CLOSE(explain::score_cam(*model_, on_engine, x_, targets_).cam,
               explain::score_cam(*model_, on_model, x_, targets_).cam, 1e-4);
}

TEST_F(ExplainProperties, Refusals) {
  const models::Architecture& a = model_->architecture();
  EXPECT_EQ(explain::resolve_layer(a, ""), "layer3");
  EXPECT_EQ(explain::resolve_layer(a, "layer2.1"), "layer2.1");
  const std::string layer = message_of([&] { explain::resolve_layer(a, "layer4"); });
  EXPECT_NE(layer.find("--layer 'layer4'"), std::string::npos) << layer;
  EXPECT_NE(layer.find("layer1, layer2, layer3"), std::string::npos) << layer;
  const std::string method = message_of([] { explain::parse_method("gradcam"); });
  EXPECT_NE(method.find("grad-cam++"), std::string::npos) << method;
  EXPECT_EQ(explain::parse_method("ig"), explain::Method::integrated_gradients);
  const std::string target = message_of([] { explain::check_targets({3, 10}, 10); });
  EXPECT_NE(target.find("--target 10"), std::string::npos) << target;
  EXPECT_NE(target.find("0-9"), std::string::npos) << target;
  EXPECT_EQ(message_of([] { explain::check_targets({0, 9}, 10); }), "(no UserError)");
  const Tensor black = explain::black_baseline(x_, {0.5f}, {0.25f});
  const std::string steps =
      message_of([&] { explain::integrated_gradients(*model_, x_, black, targets_, {.steps = 0}); });
  EXPECT_NE(steps.find("--steps 0"), std::string::npos) << steps;
  const std::string rule = message_of([] { explain::parse_rule("simpson"); });
  EXPECT_NE(rule.find("gauss-legendre"), std::string::npos) << rule;
  const std::string samples = message_of([&] { explain::smoothgrad(*model_, x_, targets_, {.samples = 0}); });
  EXPECT_NE(samples.find("--samples 0"), std::string::npos) << samples;
  const std::string window =
      message_of([&] { explain::occlusion(explain::model_logits(*model_), x_, targets_, {.window = 17}); });
  EXPECT_NE(window.find("--window 17"), std::string::npos) << window;
  const std::string chunk = message_of([&] { explain::saliency(*model_, x_, targets_, {.chunk = 0}); });
  EXPECT_NE(chunk.find("--chunk 0"), std::string::npos) << chunk;
}

}  // namespace
