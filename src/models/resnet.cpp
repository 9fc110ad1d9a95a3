#include "resnet/models/resnet.h"

#include <string>

namespace resnet::models {

ResNet::ResNet(const ResNetSpec& spec) : Module("ResNet"), spec_(spec) {
  RESNET_CHECK(!spec.blocks_per_stage.empty() && spec.blocks_per_stage.size() == spec.widths.size())
      << "one width per stage";
  // Children are registered on this module, so names are "conv1", "layer1.0.conv1", … as in torchvision.
  std::vector<std::pair<std::string, std::unique_ptr<nn::Module>>> parts;
  parts.emplace_back("input_layout", std::make_unique<nn::ToLayout>(Layout::channels_last));
  if (spec.imagenet_stem) {
    parts.emplace_back("conv1",
                       std::make_unique<nn::Conv2d>(nn::Conv2dOptions{.in_channels = spec.in_channels,
                                                                      .out_channels = spec.stem_width,
                                                                      .kernel = 7,
                                                                      .stride = 2,
                                                                      .padding = 3}));
  } else {
    parts.emplace_back("conv1",
                       std::make_unique<nn::Conv2d>(nn::Conv2dOptions{.in_channels = spec.in_channels,
                                                                      .out_channels = spec.stem_width,
                                                                      .kernel = 3,
                                                                      .stride = 1,
                                                                      .padding = 1}));
  }
  parts.emplace_back("bn1", std::make_unique<nn::BatchNorm2d>(spec.stem_width));
  parts.emplace_back("relu", std::make_unique<nn::ReLU>());
  if (spec.imagenet_stem) parts.emplace_back("maxpool", std::make_unique<nn::MaxPool2d>(3, 2, 1));
  int64_t channels = spec.stem_width;
  for (size_t s = 0; s < spec.blocks_per_stage.size(); ++s) {
    auto stage = std::make_unique<nn::Sequential>();
    for (int b = 0; b < spec.blocks_per_stage[s]; ++b) {
      const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      stage->add(std::make_unique<nn::BasicBlock>(channels, spec.widths[s], stride, spec.shortcut));
      channels = spec.widths[s];
    }
    parts.emplace_back("layer" + std::to_string(s + 1), std::move(stage));
  }
  parts.emplace_back("avgpool", std::make_unique<nn::GlobalAvgPool>());
  parts.emplace_back("fc", std::make_unique<nn::Linear>(channels, spec.num_classes));

  std::vector<nn::Module*> order;
  for (auto& [name, module] : parts) order.push_back(&register_module(name, std::move(module)));
  body_order_ = std::move(order);
}

const Tensor& ResNet::forward_impl(const Tensor& x) {
  RESNET_CHECK(x.ndim() == 4 && x.size(1) == spec_.in_channels)
      << "ResNet expects [N, " << spec_.in_channels << ", H, W], got " << x.shape();
  const Tensor* h = &x;
  for (nn::Module* m : body_order_) h = &m->forward(*h);
  return *h;
}

const Tensor& ResNet::backward_impl(const Tensor& dy) {
  const Tensor* g = &dy;
  for (auto it = body_order_.rbegin(); it != body_order_.rend(); ++it) g = &(*it)->backward(*g);
  return *g;
}

std::unique_ptr<ResNet> cifar_resnet(int depth, int64_t num_classes, int64_t in_channels,
                                     nn::ShortcutKind shortcut) {
  if (depth < 8 || (depth - 2) % 6 != 0)
    throw UserError("CIFAR ResNet depth " + std::to_string(depth) +
                    " is not 6n+2: use 20, 32, 44, 56, 110 or 1202 (or any 6n+2 >= 8)");
  const int n = (depth - 2) / 6;
  ResNetSpec spec;
  spec.blocks_per_stage = {n, n, n};
  spec.widths = {16, 32, 64};
  spec.stem_width = 16;
  spec.shortcut = shortcut;
  spec.in_channels = in_channels;
  spec.num_classes = num_classes;
  return std::make_unique<ResNet>(spec);
}

}  // namespace resnet::models
