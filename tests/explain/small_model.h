// The network of tests/fixtures/generate_explain.py: generate.py's CIFAR ResNet-20 (3 channels) with its
// formula weights, the classifier scaled by 2^-10 so the logits (~20, not ~2e4) leave softmax unsaturated.
#pragma once

#include <memory>

#include "fixture_fill.h"
#include "resnet/models/resnet.h"

namespace resnet::testing {

inline std::unique_ptr<models::ResNet> explain_test_model() {
  auto model = models::cifar_resnet(20, 10, 3);
  fill_module(*model);
  for (auto& [name, p] : model->named_parameters()) {
    if (!name.starts_with("fc.")) continue;
    float* v = p->value().data<float>();
    for (int64_t e = 0; e < p->value().numel(); ++e) v[e] *= 0x1p-10f;
  }
  model->eval();
  return model;
}

}  // namespace resnet::testing
