#include "resnet/models/resnet.h"

#include <string>

#include "resnet/models/memory_estimate.h"

namespace resnet::models {

ResNet::ResNet(const ResNetSpec& spec) : Module("ResNet"), architecture_(architecture_of(spec)) {
  check_parameters_fit(spec);  // before a parameter is allocated
  const Architecture& a = architecture_;
  // Children are registered on this module, so names are "conv1", "layer1.0.conv1", … as in torchvision.
  std::vector<std::pair<std::string, std::unique_ptr<nn::Module>>> parts;
  parts.emplace_back("input_layout", std::make_unique<nn::ToLayout>(Layout::channels_last));
  const ConvLayer& stem = a.stem.conv;
  parts.emplace_back("conv1",
                     std::make_unique<nn::Conv2d>(nn::Conv2dOptions{.in_channels = stem.in_channels,
                                                                    .out_channels = stem.out_channels,
                                                                    .kernel = stem.kernel,
                                                                    .stride = stem.stride,
                                                                    .padding = stem.padding}));
  if (!a.stem.norm.empty()) {
    parts.emplace_back(a.stem.norm, std::make_unique<nn::BatchNorm2d>(stem.out_channels));
    parts.emplace_back(a.stem.relu, std::make_unique<nn::ReLU>());
  }
  if (a.max_pool) parts.emplace_back("maxpool", std::make_unique<nn::MaxPool2d>(3, 2, 1));
  std::unique_ptr<nn::Sequential> stage;
  for (const Block& b : a.blocks) {
    if (b.index == 0) stage = std::make_unique<nn::Sequential>();
    auto width = [&](size_t unit) { return b.branch[unit].conv.out_channels; };
    switch (spec.block) {
      case BlockKind::basic:
        stage->add(
            std::make_unique<nn::BasicBlock>(b.in_channels, width(0), b.out_channels, b.stride, b.shortcut));
        break;
      case BlockKind::bottleneck:
        stage->add(std::make_unique<nn::Bottleneck>(b.in_channels, width(0), width(1), b.out_channels,
                                                    b.stride, b.shortcut, spec.groups, spec.stride_in_1x1));
        break;
      case BlockKind::preact_basic:
        // Each dropout gets its own seed so that masks differ between blocks.
        stage->add(std::make_unique<nn::PreActBlock>(b.in_channels, width(0), b.out_channels, b.stride,
                                                     b.shortcut, b.dropout_probability,
                                                     static_cast<uint64_t>(b.stage) * 1000 + b.index));
        break;
      case BlockKind::preact_bottleneck:
        stage->add(std::make_unique<nn::PreActBottleneck>(b.in_channels, width(0), width(1), b.out_channels,
                                                          b.stride, b.shortcut));
        break;
    }
    if (b.index + 1 == spec.blocks_per_stage[static_cast<size_t>(b.stage)])
      parts.emplace_back("layer" + std::to_string(b.stage + 1), std::move(stage));
  }
  if (!a.final_norm.empty()) {
    parts.emplace_back(a.final_norm, std::make_unique<nn::BatchNorm2d>(a.features));
    parts.emplace_back(a.final_relu, std::make_unique<nn::ReLU>());
  }
  parts.emplace_back("avgpool", std::make_unique<nn::GlobalAvgPool>());
  parts.emplace_back("fc", std::make_unique<nn::Linear>(a.features, spec.num_classes));

  std::vector<nn::Module*> order;
  for (auto& [name, module] : parts) order.push_back(&register_module(name, std::move(module)));
  body_order_ = std::move(order);
  nn::fuse_norm_relu(body_order_);  // the stem's bn1 → relu, a pre-activation net's final_bn → final_relu
}

void ResNet::set_input_gradient(bool on) {
  dynamic_cast<nn::Conv2d&>(*find_module("conv1")).compute_input_grad = on;
}

const Tensor& ResNet::forward_impl(const Tensor& x) {
  RESNET_CHECK(x.ndim() == 4 && x.size(1) == spec().in_channels)
      << "ResNet expects [N, " << spec().in_channels << ", H, W], got " << x.shape();
  return forward_chain(body_order_, x);
}

const Tensor& ResNet::backward_impl(const Tensor& dy) {
  return backward_chain(body_order_, dy, grad_owner_);
}

std::unique_ptr<ResNet> torchvision_resnet(const std::string& name, int64_t num_classes, int64_t in_channels,
                                           nn::ShortcutKind shortcut) {
  struct Arch {
    const char* name;
    BlockKind block;
    std::vector<int> blocks;
    int64_t groups, width_per_group;
  };
  const Arch archs[] = {
      {"resnet18", BlockKind::basic, {2, 2, 2, 2}, 1, 64},
      {"resnet34", BlockKind::basic, {3, 4, 6, 3}, 1, 64},
      {"resnet50", BlockKind::bottleneck, {3, 4, 6, 3}, 1, 64},
      {"resnet101", BlockKind::bottleneck, {3, 4, 23, 3}, 1, 64},
      {"resnet152", BlockKind::bottleneck, {3, 8, 36, 3}, 1, 64},
      {"resnext50_32x4d", BlockKind::bottleneck, {3, 4, 6, 3}, 32, 4},
      {"resnext101_32x8d", BlockKind::bottleneck, {3, 4, 23, 3}, 32, 8},
      {"resnext101_64x4d", BlockKind::bottleneck, {3, 4, 23, 3}, 64, 4},
      {"wide_resnet50_2", BlockKind::bottleneck, {3, 4, 6, 3}, 1, 128},
      {"wide_resnet101_2", BlockKind::bottleneck, {3, 4, 23, 3}, 1, 128},
  };
  std::string names;
  for (const Arch& a : archs) {
    if (name == a.name) {
      ResNetSpec spec;
      spec.block = a.block;
      spec.blocks_per_stage = a.blocks;
      spec.widths = {64, 128, 256, 512};
      spec.groups = a.groups;
      spec.width_per_group = a.width_per_group;
      spec.stem_width = 64;
      spec.imagenet_stem = true;
      spec.shortcut = shortcut;
      spec.in_channels = in_channels;
      spec.num_classes = num_classes;
      return std::make_unique<ResNet>(spec);
    }
    names += std::string(names.empty() ? "" : ", ") + a.name;
  }
  throw UserError("unknown model '" + name + "': choose one of " + names);
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

std::unique_ptr<ResNet> preact_resnet(int depth, int64_t num_classes, int64_t in_channels) {
  ResNetSpec spec;
  spec.in_channels = in_channels;
  spec.num_classes = num_classes;
  spec.shortcut = nn::ShortcutKind::B;
  if (depth == 18 || depth == 34) {
    spec.block = BlockKind::preact_basic;
    spec.blocks_per_stage = depth == 18 ? std::vector<int>{2, 2, 2, 2} : std::vector<int>{3, 4, 6, 3};
    spec.widths = {64, 128, 256, 512};
    spec.stem_width = 64;
  } else if (depth >= 8 && (depth - 2) % 6 == 0 && depth != 164) {
    spec.block = BlockKind::preact_basic;
    const int n = (depth - 2) / 6;
    spec.blocks_per_stage = {n, n, n};
    spec.widths = {16, 32, 64};
  } else if (depth >= 11 && (depth - 2) % 9 == 0) {
    spec.block = BlockKind::preact_bottleneck;
    const int n = (depth - 2) / 9;
    spec.blocks_per_stage = {n, n, n};
    spec.widths = {16, 32, 64};
  } else {
    throw UserError("pre-activation ResNet depth " + std::to_string(depth) +
                    " is not 18, 34, 6n+2 (basic, e.g. 110) or 9n+2 (bottleneck, e.g. 164)");
  }
  return std::make_unique<ResNet>(spec);
}

std::unique_ptr<ResNet> wide_resnet(int depth, int widen, double dropout, int64_t num_classes,
                                    int64_t in_channels) {
  if (depth < 10 || (depth - 4) % 6 != 0 || widen < 1)
    throw UserError("WRN-" + std::to_string(depth) + "-" + std::to_string(widen) +
                    ": depth must be 6n+4 (16, 22, 28, 40, …) and the widening factor at least 1");
  ResNetSpec spec;
  const int n = (depth - 4) / 6;
  spec.block = BlockKind::preact_basic;
  spec.blocks_per_stage = {n, n, n};
  spec.widths = {16 * widen, 32 * widen, 64 * widen};
  spec.stem_width = 16;
  spec.shortcut = nn::ShortcutKind::B;
  spec.dropout = dropout;
  spec.in_channels = in_channels;
  spec.num_classes = num_classes;
  return std::make_unique<ResNet>(spec);
}

}  // namespace resnet::models
