#include "resnet/study/layer_statistics.h"

#include <cmath>

#include "resnet/core/check.h"
#include "resnet/nn/loss.h"
#include "resnet/nn/residual.h"

namespace resnet::study {
namespace {

// Activations are bf16 under the cpu-bf16 op table; the statistics are taken in f32/f64 either way.
Tensor as_f32(const Tensor& t) {
  return t.dtype() == DType::f32 ? t : t.to(DType::f32);
}

double sum_of_squares(const Tensor& tensor) {
  const Tensor t = as_f32(tensor);
  const float* v = t.data<float>();
  double s = 0;
  for (int64_t i = 0, n = t.numel(); i < n; ++i) s += static_cast<double>(v[i]) * v[i];
  return s;
}

double standard_deviation(const Tensor& tensor) {
  const Tensor t = as_f32(tensor);
  const float* v = t.data<float>();
  const int64_t n = t.numel();
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += v[i];
  mean /= static_cast<double>(n);
  double var = 0;
  for (int64_t i = 0; i < n; ++i) var += (v[i] - mean) * (v[i] - mean);
  return std::sqrt(var / static_cast<double>(n));
}

bool is_weight_layer(const std::string& module_name, const nn::Module& m) {
  return (m.type_name() == "Conv2d" || m.type_name() == "Linear") &&
         module_name.find("downsample") == std::string::npos;
}

}  // namespace

LayerStatistics measure_layer_statistics(models::ResNet& model, const std::vector<LabelledBatch>& batches,
                                         double label_smoothing) {
  RESNET_CHECK(!batches.empty()) << "no batches to measure on";
  LayerStatistics stats;
  std::vector<nn::Parameter*> weights;
  std::vector<nn::BatchNorm2d*> fused;
  std::vector<int> hooks;
  std::vector<nn::Module*> hooked;
  for (auto& [name, m] : model.named_modules()) {
    if (is_weight_layer(name, *m)) {
      nn::Parameter* w = nullptr;
      for (auto& [pname, p] : m->named_parameters())
        if (pname == "weight") w = p;
      RESNET_CHECK(w != nullptr) << name << " has no weight";
      stats.layers.push_back(name);
      weights.push_back(w);
    }
    if (auto* block = dynamic_cast<nn::ResidualBlock*>(m); block && block->last_norm()) {
      const size_t index = stats.blocks.size();
      stats.blocks.push_back(name);
      nn::BatchNorm2d* norm = block->last_norm();
      hooks.push_back(norm->add_forward_hook([&stats, index](const nn::Module&, const Tensor& out) {
        stats.response_std[index] += standard_deviation(out);
      }));
      hooked.push_back(norm);
    }
  }
  stats.grad_norm.assign(stats.layers.size(), 0.0);
  stats.response_std.assign(stats.blocks.size(), 0.0);
  // Every BN reports its own output while we measure (the fused forward would hand hooks the ReLU's).
  std::vector<std::pair<nn::BatchNorm2d*, bool>> restore;
  for (auto& [name, m] : model.named_modules())
    if (auto* bn = dynamic_cast<nn::BatchNorm2d*>(m)) restore.emplace_back(bn, bn->fused_relu());
  for (auto& [bn, was] : restore) bn->set_fused_relu(false);

  const bool was_training = model.is_training();
  model.train();
  nn::CrossEntropyLoss loss(label_smoothing);
  loss.set_backend(model.backend());
  for (const LabelledBatch& b : batches) {
    model.zero_grad();
    const Tensor& logits = model.forward(b.images);
    loss.forward(logits, b.labels);
    model.backward(loss.backward());
    for (size_t i = 0; i < weights.size(); ++i)
      stats.grad_norm[i] += std::sqrt(sum_of_squares(weights[i]->grad()));
  }
  model.zero_grad();
  const double n = static_cast<double>(batches.size());
  for (double& g : stats.grad_norm) g /= n;
  for (double& s : stats.response_std) s /= n;

  for (size_t i = 0; i < hooks.size(); ++i) hooked[i]->remove_hook(hooks[i]);
  for (auto& [bn, was] : restore) bn->set_fused_relu(was);
  model.train(was_training);
  return stats;
}

}  // namespace resnet::study
