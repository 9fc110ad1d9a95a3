#include "resnet/explain/targets.h"

#include <string>

#include "resnet/core/check.h"
#include "resnet/nn/module.h"

namespace resnet::explain {

LogitsFn model_logits(models::ResNet& model) {
  return [&model](const Tensor& x) {
    model.eval();
    nn::NoGradScope no_grad;
    return model.forward(x);
  };
}

LogitsFn engine_logits(infer::EngineSet& engines) {
  return [&engines](const Tensor& x) { return engines.run(x); };
}

std::vector<int64_t> predicted_classes(const Tensor& logits) {
  RESNET_CHECK(logits.ndim() == 2) << logits.str();
  const Tensor l = logits.to(Layout::contiguous);
  std::vector<int64_t> out;
  for (int64_t i = 0; i < l.size(0); ++i) {
    const float* row = l.data<float>() + i * l.size(1);
    int64_t best = 0;
    for (int64_t c = 1; c < l.size(1); ++c)
      if (row[c] > row[best]) best = c;
    out.push_back(best);
  }
  return out;
}

void check_targets(const std::vector<int64_t>& targets, int64_t classes) {
  for (int64_t t : targets)
    if (t < 0 || t >= classes)
      throw UserError("--target " + std::to_string(t) + " is not a class of this model: it has " +
                      std::to_string(classes) + " classes, so give an index in 0-" +
                      std::to_string(classes - 1) + ", a class name or 'predicted'");
}

}  // namespace resnet::explain
