#include "resnet/models/memory_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "resnet/core/format.h"
#include "resnet/core/memory_budget.h"
#include "resnet/models/architecture.h"

namespace resnet::models {
namespace {

constexpr double kF32 = 4.0;

double out_side(double side, double stride) {
  return std::max(1.0, std::ceil(side / stride));
}

struct Walker {
  MemoryEstimate e;
  double largest = 0;  // the largest layer output per image

  void conv(double in, double out, double kernel, double groups, double out_h, double out_w) {
    e.parameters += kernel * kernel * in / groups * out;
    output(out * out_h * out_w);
  }
  void bn(double channels, double h, double w) {
    e.parameters += 2 * channels;
    e.buffers += 2 * channels;
    output(channels * h * w);
  }
  // A layer's output: kept for the backward (with its ReLU) in training.
  void output(double values) {
    e.training_values_per_image += 2 * values;
    largest = std::max(largest, values);
  }
};

}  // namespace

MemoryEstimate estimate_memory(const ResNetSpec& spec, int64_t height, int64_t width) {
  const Architecture a = architecture_of(spec);
  Walker w;
  double h = static_cast<double>(height), wd = static_cast<double>(width);
  w.output(static_cast<double>(spec.in_channels) * h * wd);  // the input in channels-last
  // A conv (at its stride) and its BN; h × wd follows the conv's output.
  auto unit = [&](const ConvUnit& u) {
    const ConvLayer& c = u.conv;
    h = out_side(h, static_cast<double>(c.stride)), wd = out_side(wd, static_cast<double>(c.stride));
    const double out = static_cast<double>(c.out_channels);
    w.conv(static_cast<double>(c.in_channels), out, static_cast<double>(c.kernel),
           static_cast<double>(c.groups), h, wd);
    if (!u.norm.empty()) w.bn(out, h, wd);
  };
  unit(a.stem);
  if (a.max_pool) {
    h = out_side(h, 2), wd = out_side(wd, 2);
    w.output(static_cast<double>(a.stem.conv.out_channels) * h * wd);
  }
  for (const Block& b : a.blocks) {
    const double in_h = h, in_w = wd;
    if (!b.pre_norm.empty()) w.bn(static_cast<double>(b.in_channels), h, wd);
    for (const ConvUnit& u : b.branch) unit(u);
    const double out = static_cast<double>(b.out_channels);
    if (b.shortcut == Shortcut::projection) {
      const double oh = h, ow = wd;
      h = in_h, wd = in_w;
      unit(b.projection);
      h = oh, wd = ow;
    } else if (b.shortcut == Shortcut::option_a) {  // option A's subsampled, zero-padded copy
      w.output(out * h * wd);
    }
    w.output(out * h * wd);  // the sum
  }
  const double features = static_cast<double>(a.features);
  if (!a.final_norm.empty()) w.bn(features, h, wd);
  const double classes = static_cast<double>(spec.num_classes);
  w.e.parameters += features * classes + classes;
  w.output(features + classes);
  // The backward holds a few gradient buffers of the largest layer at once; a no-grad forward holds a
  // layer's input, its output, a shortcut and the next layer's output (measured: resnet20 evaluating
  // 10,000 28×28 images in one batch peaks at 2.07 GB, estimated 2.15).
  w.e.training_values_per_image += 3 * w.largest;
  w.e.inference_values_per_image = 4 * w.largest;
  return w.e;
}

std::string describe_widths(const ResNetSpec& spec) {
  std::ostringstream os;
  os << "stage widths [";
  for (size_t i = 0; i < spec.widths.size(); ++i) os << (i ? ", " : "") << spec.widths[i];
  os << "]";
  if (!spec.conv_widths.empty()) os << " (" << spec.conv_widths.size() << " convs of their own width)";
  return os.str();
}

void check_parameters_fit(const ResNetSpec& spec) {
  const MemoryEstimate e = estimate_memory(spec, 1, 1);
  check_memory_budget(
      (e.parameters + e.buffers) * kF32,
      "a ResNet with " + describe_widths(spec) + " and " + std::to_string(spec.num_classes) + " classes (" +
          format_count(e.parameters) + " parameters)",
      "lower the width multiplier (model.width_multiplier, --width) or the number of classes, "
      "or check the model description it was built from");
}

double training_bytes(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height, int64_t width,
                      bool ema, int64_t prefetch) {
  const MemoryEstimate e = estimate_memory(spec, height, width);
  const double copies = ema ? 4 : 3;  // weights, gradients, momentum (+ EMA)
  const double b = static_cast<double>(batch);
  const double image =
      static_cast<double>(channels) * static_cast<double>(height) * static_cast<double>(width);
  return kF32 * (copies * e.parameters + (ema ? 2 : 1) * e.buffers + b * e.training_values_per_image +
                 b * image * static_cast<double>(std::max<int64_t>(prefetch, 1) + 1));
}

double inference_bytes(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height,
                       int64_t width) {
  const MemoryEstimate e = estimate_memory(spec, height, width);
  const double image =
      static_cast<double>(channels) * static_cast<double>(height) * static_cast<double>(width);
  return kF32 *
         (e.parameters + e.buffers + static_cast<double>(batch) * (e.inference_values_per_image + image));
}

void check_training_fits(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height,
                         int64_t width, bool ema, int64_t prefetch, const std::string& what) {
  const MemoryEstimate e = estimate_memory(spec, 1, 1);
  std::ostringstream os;
  os << what << " (" << format_count(e.parameters) << " parameters, " << describe_widths(spec)
     << ") on batches of " << batch << " " << channels << "×" << height << "×" << width << " images";
  check_memory_budget(training_bytes(spec, batch, channels, height, width, ema, prefetch), os.str(),
                      "lower model.width_multiplier, optim.batch_size or data.image_size, or pick a smaller "
                      "model");
}

void check_inference_fits(const ResNetSpec& spec, int64_t batch, int64_t channels, int64_t height,
                          int64_t width, const std::string& what, const std::string& fix) {
  std::ostringstream os;
  os << what << " (batches of " << batch << " " << channels << "×" << height << "×" << width << " images)";
  check_memory_budget(inference_bytes(spec, batch, channels, height, width), os.str(), fix);
}

}  // namespace resnet::models
