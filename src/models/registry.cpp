#include "resnet/models/registry.h"

#include <algorithm>

namespace resnet::models {
namespace {

constexpr int kCifarDepths[] = {20, 32, 44, 56, 110, 1202};
constexpr int kPlainDepths[] = {20, 32, 44, 56, 110};
constexpr const char* kTorchvision[] = {
    "resnet18",        "resnet34",         "resnet50",         "resnet101",       "resnet152",
    "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2"};

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

const std::vector<ModelInfo>& registered_models() {
  static const std::vector<ModelInfo> models = [] {
    std::vector<ModelInfo> m;
    for (int d : kCifarDepths)
      m.push_back({"resnet" + std::to_string(d),
                   "CIFAR ResNet-" + std::to_string(d) + " (He et al. 2015, option A)", 10, 32});
    for (int d : kPlainDepths)
      m.push_back(
          {"plain" + std::to_string(d),
           "CIFAR plain-" + std::to_string(d) + ": ResNet-" + std::to_string(d) + " without shortcuts", 10,
           32});
    for (const char* name : kTorchvision) m.push_back({name, std::string("torchvision ") + name, 1000, 224});
    return m;
  }();
  return models;
}

std::unique_ptr<ResNet> create_model(const std::string& name, int64_t num_classes, int64_t in_channels) {
  const auto& models = registered_models();
  const auto it =
      std::find_if(models.begin(), models.end(), [&](const ModelInfo& m) { return m.name == name; });
  if (it == models.end()) {
    std::vector<std::pair<size_t, std::string>> ranked;
    for (const ModelInfo& m : models) ranked.emplace_back(edit_distance(name, m.name), m.name);
    std::sort(ranked.begin(), ranked.end());
    std::string close;
    for (size_t i = 0; i < 3 && i < ranked.size(); ++i) close += (i ? ", " : "") + ranked[i].second;
    throw UserError("unknown model '" + name + "': did you mean " + close + "? (`resnet models` lists all " +
                    std::to_string(models.size()) + ")");
  }
  const int64_t classes = num_classes > 0 ? num_classes : it->default_classes;
  const int64_t channels = in_channels > 0 ? in_channels : 3;
  if (name.rfind("plain", 0) == 0)
    return cifar_resnet(std::stoi(name.substr(5)), classes, channels, nn::ShortcutKind::none);
  if (it->default_classes == 10) return cifar_resnet(std::stoi(name.substr(6)), classes, channels);
  return torchvision_resnet(name, classes, channels);
}

}  // namespace resnet::models
