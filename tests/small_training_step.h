// The small training step the memory tests run: a 14-layer CIFAR ResNet on one grey channel, torchvision's
// initialisation, SGD with momentum and weight decay, label-smoothed cross-entropy, and one fixed batch of
// 32 images of 16×16 (fixture_fill.h), so that two instances compute the same numbers.
#pragma once

#include <memory>
#include <vector>

#include "fixture_fill.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/init.h"
#include "resnet/nn/loss.h"
#include "resnet/optim/sgd.h"

namespace resnet::testing {

struct SmallTrainingStep {
  SmallTrainingStep() : model(models::cifar_resnet(14, 10, 1)) {
    Rng rng(1);
    nn::init_torchvision(*model, rng);
    std::vector<nn::Parameter*> params;
    for (auto& [n, p] : model->named_parameters()) params.push_back(p);
    sgd = std::make_unique<optim::Sgd>(params,
                                       optim::SgdOptions{.lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4});
  }

  // One step; returns its loss.
  double run() {
    model->zero_grad();
    const double value = loss.forward(model->forward(x), t);
    model->backward(loss.backward());
    sgd->step();
    return value;
  }

  std::unique_ptr<models::ResNet> model;
  std::unique_ptr<optim::Sgd> sgd;
  nn::CrossEntropyLoss loss{0.1};
  Tensor x = fill_input({32, 1, 16, 16});
  Tensor t = fill_targets(32, 10);
};

}  // namespace resnet::testing
