// The architecture of a residual network as data: what ResNet builds, checkpoints store (spec_json.h) and
// architecture.h turns into the layer-by-layer description every consumer walks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "resnet/nn/residual.h"

namespace resnet::models {

enum class BlockKind { basic, bottleneck, preact_basic, preact_bottleneck };

struct ResNetSpec {
  BlockKind block = BlockKind::basic;
  std::vector<int> blocks_per_stage;  // e.g. {3, 3, 3}
  std::vector<int64_t> widths;        // "planes" per stage, e.g. {16, 32, 64}; a bottleneck outputs 4×
  int64_t groups = 1;                 // bottleneck 3×3 groups (ResNeXt)
  int64_t width_per_group = 64;       // bottleneck width factor (ResNeXt, Wide ResNet)
  bool stride_in_1x1 = false;         // bottleneck stride on the first 1×1 (the paper's Caffe placement)
  double dropout = 0.0;               // pre-activation basic blocks: dropout between the convs (WRN)
  int64_t stem_width = 16;
  bool imagenet_stem = false;  // true: 7×7 stride-2 conv + 3×3 stride-2 max-pool; false: 3×3 stride-1 conv
  nn::ShortcutKind shortcut = nn::ShortcutKind::A;
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  // Per-layer output widths by torchvision conv name ("conv1", "layer2.0.conv1", "layer2.0.downsample.0"),
  // overriding the width the stage widths imply: what structured pruning produces. The names stay
  // torchvision's; the convs that meet at an addition (a coupling group, architecture.h) must keep one width.
  std::map<std::string, int64_t> conv_widths;

  bool pre_activation() const {
    return block == BlockKind::preact_basic || block == BlockKind::preact_bottleneck;
  }
  bool bottleneck() const { return block == BlockKind::bottleneck || block == BlockKind::preact_bottleneck; }
};

}  // namespace resnet::models
