// Evaluation: run a model in eval mode over a loader and collect classification metrics.
#pragma once

#include <functional>
#include <string>

#include "resnet/data/loader.h"
#include "resnet/models/resnet.h"
#include "resnet/train/metrics.h"

namespace resnet::train {

// Evaluates `model` (switched to eval mode) on every batch of `loader` (epoch 0), with a progress bar
// labelled `label`. The loss is plain cross-entropy (no smoothing).
ClassificationMetrics evaluate(models::ResNet& model, data::DataLoader& loader, const std::string& label);

// The same for any function from a batch of images to its logits (an inference engine, say).
using Classifier = std::function<const Tensor&(const Tensor& images)>;
ClassificationMetrics evaluate(const Classifier& classify, data::DataLoader& loader,
                               const std::string& label);

// Per-channel mean and std of pixel values in [0, 1] over a dataset (every sample when it is held in
// memory, else up to 1000 evenly spaced ones), for normalisation.
std::pair<std::vector<double>, std::vector<double>> channel_statistics(const data::Dataset& dataset);

}  // namespace resnet::train
