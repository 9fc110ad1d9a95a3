#include "resnet/models/registry.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "resnet/core/suggest.h"

namespace resnet::models {
namespace {

constexpr int kCifarDepths[] = {20, 32, 44, 56, 110, 1202};
constexpr int kPlainDepths[] = {20, 32, 44, 56, 110};
constexpr const char* kTorchvision[] = {
    "resnet18",        "resnet34",         "resnet50",         "resnet101",       "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"};

struct Entry {
  ModelInfo info;
  std::function<std::unique_ptr<ResNet>(int64_t classes, int64_t channels)> build;
};

const std::vector<Entry>& entries() {
  static const std::vector<Entry> table = [] {
    std::vector<Entry> t;
    for (int d : kCifarDepths)
      t.push_back({{"resnet" + std::to_string(d),
                    "CIFAR ResNet-" + std::to_string(d) + " (He et al. 2015, option A)", 10, 32},
                   [d](int64_t k, int64_t c) { return cifar_resnet(d, k, c); }});
    for (int d : kPlainDepths)
      t.push_back(
          {{"plain" + std::to_string(d),
            "CIFAR plain-" + std::to_string(d) + ": ResNet-" + std::to_string(d) + " without shortcuts", 10,
            32},
           [d](int64_t k, int64_t c) { return cifar_resnet(d, k, c, nn::ShortcutKind::none); }});
    for (const char* name : kTorchvision)
      t.push_back({{name, std::string("torchvision ") + name, 1000, 224},
                   [name](int64_t k, int64_t c) { return torchvision_resnet(name, k, c); }});
    for (int d : {18, 34})
      t.push_back(
          {{"plain" + std::to_string(d),
            "ImageNet plain-" + std::to_string(d) + ": resnet" + std::to_string(d) + " without shortcuts",
            1000, 224},
           [d](int64_t k, int64_t c) {
             return torchvision_resnet("resnet" + std::to_string(d), k, c, nn::ShortcutKind::none);
           }});
    for (int d : {18, 34, 110, 164})
      t.push_back({{"preact_resnet" + std::to_string(d),
                    "pre-activation ResNet-" + std::to_string(d) + " (He et al. 2016), 3×3 stem", 10, 32},
                   [d](int64_t k, int64_t c) { return preact_resnet(d, k, c); }});
    for (auto [d, w] : {std::pair{16, 4}, {16, 8}, {28, 10}, {40, 4}})
      t.push_back(
          {{"wrn_" + std::to_string(d) + "_" + std::to_string(w),
            "Wide ResNet WRN-" + std::to_string(d) + "-" + std::to_string(w) + " (Zagoruyko 2016)", 10, 32},
           [d = d, w = w](int64_t k, int64_t c) { return wide_resnet(d, w, 0.0, k, c); }});
    return t;
  }();
  return table;
}

}  // namespace

const std::vector<ModelInfo>& registered_models() {
  static const std::vector<ModelInfo> models = [] {
    std::vector<ModelInfo> m;
    for (const Entry& e : entries()) m.push_back(e.info);
    return m;
  }();
  return models;
}

namespace {

// The named model as designed, with its classes and input channels.
std::unique_ptr<ResNet> designed_model(const std::string& name, const ModelOptions& options) {
  const auto& table = entries();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const Entry& e) { return e.info.name == name; });
  if (it == table.end()) {
    std::vector<std::string> names;
    for (const Entry& e : table) names.push_back(e.info.name);
    const std::string close = closest_names(name, names);
    throw UserError("unknown model '" + name + "': did you mean " + close + "? (`resnet models` lists all " +
                    std::to_string(table.size()) + ")");
  }
  auto model = it->build(options.num_classes > 0 ? options.num_classes : it->info.default_classes,
                         options.in_channels > 0 ? options.in_channels : 3);
  return model;
}

bool adjusted(const ModelOptions& options) {
  return options.imagenet_stem.has_value() || options.width_multiplier != 1.0 || options.stride_in_1x1 ||
         options.shortcut.has_value();
}

ResNetSpec adjusted_spec(const std::string& name, const ResNet& model, const ModelOptions& options) {
  if (!(options.width_multiplier > 0))
    throw UserError("width multiplier " + std::to_string(options.width_multiplier) + " must be positive");
  ResNetSpec spec = model.spec();
  if (options.imagenet_stem) spec.imagenet_stem = *options.imagenet_stem;
  auto scale = [&](int64_t channels) {
    // Saturated far beyond any machine: the ResNet constructor refuses it with its memory estimate.
    const double scaled = std::min(static_cast<double>(channels) * options.width_multiplier, 1e15);
    return std::max<int64_t>(1, static_cast<int64_t>(std::llround(scaled)));
  };
  spec.stem_width = scale(spec.stem_width);
  for (int64_t& w : spec.widths) w = scale(w);
  spec.stride_in_1x1 = options.stride_in_1x1;
  if (options.shortcut) {
    if (spec.block == BlockKind::preact_basic || spec.block == BlockKind::preact_bottleneck)
      throw UserError("'" + name +
                      "' is a pre-activation net: its shortcuts are fixed (identity or projection)");
    spec.shortcut = *options.shortcut;
  }
  return spec;
}

}  // namespace

ResNetSpec model_spec(const std::string& name, const ModelOptions& options) {
  auto model = designed_model(name, options);
  return adjusted(options) ? adjusted_spec(name, *model, options) : model->spec();
}

std::unique_ptr<ResNet> create_model(const std::string& name, const ModelOptions& options) {
  auto model = designed_model(name, options);
  if (!adjusted(options)) return model;
  return std::make_unique<ResNet>(adjusted_spec(name, *model, options));
}

}  // namespace resnet::models
