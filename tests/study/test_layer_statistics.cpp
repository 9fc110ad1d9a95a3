// The per-layer statistics behind `resnet study gradients`, against independent answers:
//  - gradient norms against PyTorch: the norms of the weight gradients tests/fixtures/generate.py wrote for
//    ResNet-20 (float64 truth). Tolerance 1e-4 relative, as the parity test's per-gradient bar (a norm is
//    no less accurate than the worst element).
//  - response std against the batch-norm formula: in training mode a BN output channel is
//    γ_c·x̂ + β_c with x̂ of mean 0 and variance v_c/(v_c+ε), so the std over all elements is
//    sqrt(mean_c(γ_c² v_c/(v_c+ε)) + var_c(β_c)). v_c comes from the BN's input (a hook on the conv
//    before it); the formula is exact, so the bar (1e-5) only covers f32 accumulation in the BN.
#include <gtest/gtest.h>

#include <cmath>

#include "fixture_fill.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/registry.h"
#include "resnet/nn/residual.h"
#include "resnet/study/layer_statistics.h"

using namespace resnet;

namespace {

double frobenius(const Tensor& t) {
  double s = 0;
  for (int64_t i = 0; i < t.numel(); ++i) s += t.get_flat(i) * t.get_flat(i);
  return std::sqrt(s);
}

}  // namespace

TEST(LayerStatistics, GradientNormsMatchPyTorch) {
  const io::TensorFile fx = io::load_safetensors(RESNET_FIXTURES_DIR "/resnet20.safetensors");
  auto model = models::cifar_resnet(20, 10, 3);  // the fixture's RESNET20: batch 8, 3×16×16, smoothing 0.1
  resnet::testing::fill_module(*model);
  const study::LabelledBatch batch{resnet::testing::fill_input({8, 3, 16, 16}),
                                   resnet::testing::fill_targets(8, 10)};
  const auto stats = study::measure_layer_statistics(*model, {batch}, 0.1);

  ASSERT_EQ(stats.layers.size(), 20u);  // 19 convolutions + fc: the "20" of ResNet-20
  EXPECT_EQ(stats.layers.front(), "conv1");
  EXPECT_EQ(stats.layers[1], "layer1.0.conv1");
  EXPECT_EQ(stats.layers.back(), "fc");
  for (size_t i = 0; i < stats.layers.size(); ++i) {
    const double expected = frobenius(fx.at("step0.grad." + stats.layers[i] + ".weight"));
    EXPECT_NEAR(stats.grad_norm[i], expected, 1e-4 * expected) << stats.layers[i];
  }
  // Measuring leaves no gradient behind and the model's mode as it was.
  for (auto& [name, p] : model->named_parameters()) EXPECT_FALSE(p->has_grad()) << name;
}

TEST(LayerStatistics, AveragesOverBatches) {
  auto model = models::cifar_resnet(20, 10, 3);
  resnet::testing::fill_module(*model);
  const study::LabelledBatch a{resnet::testing::fill_input({8, 3, 16, 16}, 0.5),
                               resnet::testing::fill_targets(8, 10)};
  const study::LabelledBatch b{resnet::testing::fill_input({8, 3, 16, 16}, 2.0),
                               resnet::testing::fill_targets(8, 10)};
  const auto sa = study::measure_layer_statistics(*model, {a});
  const auto sb = study::measure_layer_statistics(*model, {b});
  const auto both = study::measure_layer_statistics(*model, {a, b});
  for (size_t i = 0; i < both.layers.size(); ++i)
    EXPECT_NEAR(both.grad_norm[i], 0.5 * (sa.grad_norm[i] + sb.grad_norm[i]), 1e-6 * both.grad_norm[i]);
  for (size_t i = 0; i < both.blocks.size(); ++i)
    EXPECT_NEAR(both.response_std[i], 0.5 * (sa.response_std[i] + sb.response_std[i]), 1e-6);
}

TEST(LayerStatistics, ResponseStdIsTheResidualFunctionAfterItsLastNorm) {
  for (const char* name : {"resnet20", "plain20"}) {
    SCOPED_TRACE(name);
    auto model = models::create_model(name, 10, 3);
    resnet::testing::fill_module(*model);
    // Distinct γ and β per block and channel, so a measurement at any other point (before the BN, after
    // the ReLU or the sum) would miss the formula.
    std::vector<std::vector<double>> variances;  // per block: v_c of its last BN's input
    std::vector<int> hook_ids;
    std::vector<nn::Module*> hooked;
    int block = 0;
    for (auto& [mname, m] : model->named_modules()) {
      auto* rb = dynamic_cast<nn::ResidualBlock*>(m);
      if (!rb) continue;
      nn::BatchNorm2d* bn = rb->last_norm();
      float* g = bn->weight()->value().data<float>();
      float* beta = bn->bias()->value().data<float>();
      const int64_t C = bn->weight()->value().numel();
      for (int64_t c = 0; c < C; ++c) {
        g[c] = static_cast<float>(0.3 + 0.05 * block + 0.4 * std::cos(0.7 * static_cast<double>(c)));
        beta[c] = static_cast<float>(0.2 * std::sin(1.3 * static_cast<double>(c) + block));
      }
      nn::Module* conv2 = m->find_module("conv2");
      ASSERT_NE(conv2, nullptr);
      const size_t index = variances.size();
      variances.emplace_back();
      hook_ids.push_back(conv2->add_forward_hook([&variances, index](const nn::Module&, const Tensor& y) {
        const Tensor t = y.to(Layout::contiguous);
        const int64_t N = t.size(0), C = t.size(1), HW = t.size(2) * t.size(3);
        std::vector<double> v(static_cast<size_t>(C));
        for (int64_t c = 0; c < C; ++c) {
          double s = 0, s2 = 0;
          for (int64_t n = 0; n < N; ++n)
            for (int64_t i = 0; i < HW; ++i) {
              const double x = t.data<float>()[(n * C + c) * HW + i];
              s += x, s2 += x * x;
            }
          const double m = s / static_cast<double>(N * HW);
          v[static_cast<size_t>(c)] = s2 / static_cast<double>(N * HW) - m * m;
        }
        variances[index] = v;
      }));
      hooked.push_back(conv2);
      ++block;
    }
    const study::LabelledBatch batch{resnet::testing::fill_input({8, 3, 16, 16}),
                                     resnet::testing::fill_targets(8, 10)};
    const auto stats = study::measure_layer_statistics(*model, {batch});
    ASSERT_EQ(stats.blocks.size(), 9u);
    EXPECT_EQ(stats.blocks.front(), "layer1.0");
    for (size_t b = 0; b < stats.blocks.size(); ++b) {
      auto* bn = dynamic_cast<nn::ResidualBlock*>(model->find_module(stats.blocks[b]))->last_norm();
      const float* g = bn->weight()->value().data<float>();
      const float* beta = bn->bias()->value().data<float>();
      const auto& v = variances[b];
      const double C = static_cast<double>(v.size());
      double within = 0, mean_beta = 0, var_beta = 0;
      for (size_t c = 0; c < v.size(); ++c) {
        within += g[c] * g[c] * v[c] / (v[c] + bn->eps()) / C;
        mean_beta += beta[c] / C;
      }
      for (size_t c = 0; c < v.size(); ++c) var_beta += (beta[c] - mean_beta) * (beta[c] - mean_beta) / C;
      EXPECT_NEAR(stats.response_std[b], std::sqrt(within + var_beta), 1e-5) << stats.blocks[b];
    }
    for (size_t i = 0; i < hooked.size(); ++i) hooked[i]->remove_hook(hook_ids[i]);
  }
}
