#include "resnet/train/evaluate.h"

#include <cmath>
#include <cstdio>

#include "resnet/core/memory_plan.h"
#include "resnet/nn/loss.h"
#include "resnet/nn/module.h"
#include "resnet/train/progress.h"

namespace resnet::train {

ClassificationMetrics evaluate(models::ResNet& model, data::DataLoader& loader, const std::string& label) {
  model.eval();
  return evaluate([&](const Tensor& images) -> const Tensor& { return model.forward(images); }, loader,
                  label);
}

ClassificationMetrics evaluate(const Classifier& classify, data::DataLoader& loader,
                               const std::string& label) {
  nn::CrossEntropyLoss loss(0.0);
  ClassificationMetrics metrics(loader.dataset().num_classes());
  ProgressBar bar(label, loader.dataset().size());
  loader.start_epoch(0);
  int64_t done = 0;
  nn::NoGradScope no_grad;  // the forwards keep nothing for a backward (nn/module.h)
  MemoryPlan batch_memory;  // every batch's buffers from one arena (memory_plan.h)
  while (const data::Batch* batch = loader.next()) {
    {
      PlannedStep planned(batch_memory);
      const Tensor& logits = classify(batch->images);
      metrics.add(logits, batch->labels, loss.forward(logits, batch->labels));
    }
    done += batch->size;
    char status[64];
    std::snprintf(status, sizeof status, "acc %.2f%%", metrics.top1());
    bar.update(done, status);
  }
  char status[96];
  std::snprintf(status, sizeof status, "loss %.4f  top-1 %.2f%%  top-5 %.2f%%", metrics.loss(),
                metrics.top1(), metrics.top5());
  bar.finish(status);
  return metrics;
}

std::pair<std::vector<double>, std::vector<double>> channel_statistics(const data::Dataset& dataset) {
  const int64_t n = dataset.size();
  const bool all = dataset.fixed_size().first > 0;
  const int64_t samples = all ? n : std::min<int64_t>(n, 1000);
  const int64_t C = dataset.channels();
  std::vector<double> sum(static_cast<size_t>(C), 0), sum_sq(static_cast<size_t>(C), 0),
      count(static_cast<size_t>(C), 0);
  data::Image image;
  for (int64_t s = 0; s < samples; ++s) {
    dataset.load(samples == n ? s : s * n / samples, image);
    for (int64_t c = 0; c < C; ++c) {
      const uint8_t* p = image.plane(c);
      const int64_t hw = image.height * image.width;
      uint64_t a = 0, b = 0;  // exact integer sums per image
      for (int64_t i = 0; i < hw; ++i) a += p[i], b += static_cast<uint64_t>(p[i]) * p[i];
      sum[c] += static_cast<double>(a) / 255.0;
      sum_sq[c] += static_cast<double>(b) / (255.0 * 255.0);
      count[c] += static_cast<double>(hw);
    }
  }
  std::vector<double> mean(static_cast<size_t>(C)), stdev(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = sum[c] / count[c];
    stdev[c] = std::sqrt(std::max(1e-12, sum_sq[c] / count[c] - mean[c] * mean[c]));
  }
  return {mean, stdev};
}

}  // namespace resnet::train
