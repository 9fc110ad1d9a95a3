// The training step the training benchmarks time (bench_train, profile_train): a zoo model with
// torchvision's initialisation on one op table, SGD with momentum and weight decay, cross-entropy, and
// one batch of random images and labels held fixed. No gradient w.r.t. the images (as in training). Its
// buffers are planned as the trainer's are (memory_plan.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "resnet/core/memory_plan.h"
#include "resnet/core/rng.h"
#include "resnet/models/registry.h"
#include "resnet/nn/init.h"
#include "resnet/nn/loss.h"
#include "resnet/optim/sgd.h"

namespace resnet::bench {

struct TrainingStep {
  TrainingStep(const std::string& name, int64_t batch, int64_t size, ops::Backend backend)
      : model(models::create_model(name)) {
    model->set_backend(backend);
    model->set_input_gradient(false);
    Rng rng(1);
    nn::init_torchvision(*model, rng);
    std::vector<nn::Parameter*> params;
    for (auto& [n, p] : model->named_parameters()) params.push_back(p);
    sgd = std::make_unique<optim::Sgd>(params,
                                       optim::SgdOptions{.lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4});
    loss.set_backend(backend);
    images = Tensor::empty({batch, model->spec().in_channels, size, size});
    for (int64_t i = 0; i < images.numel(); ++i) images.data<float>()[i] = static_cast<float>(rng.normal());
    labels = Tensor::empty({batch}, DType::i64);
    const auto classes = static_cast<uint64_t>(model->spec().num_classes);
    for (int64_t i = 0; i < batch; ++i) labels.data<int64_t>()[i] = static_cast<int64_t>(rng.below(classes));
    model->train();
  }

  void run() {
    PlannedStep planned(memory);  // from the third step on, every buffer from one arena
    model->zero_grad();
    loss.forward(model->forward(images), labels);
    model->backward(loss.backward());
    sgd->step();
  }

  std::unique_ptr<models::ResNet> model;
  std::unique_ptr<optim::Sgd> sgd;
  nn::CrossEntropyLoss loss;
  Tensor images, labels;
  MemoryPlan memory;
};

}  // namespace resnet::bench
