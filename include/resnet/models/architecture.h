// The typed description of a residual network: stem, blocks (each a branch of conv units, a shortcut and
// the addition it ends in), head, the taps a dense head reads and the channel-coupling groups a structured
// pruner edits. It is derived from a ResNetSpec alone (no weights), and it is the one walk of the network
// that everything else follows: models::ResNet builds its modules from it, the inference engine plans from
// it, the ONNX exporter writes from it and the memory estimate counts from it. Names are torchvision's, so a
// consumer finds a unit's modules with ResNet::find_module(name).
//
// A new block kind touches its nn module, its case in architecture_of and nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resnet/models/spec.h"

namespace resnet::models {

// One convolution, by its torchvision name, with its shape.
struct ConvLayer {
  std::string name;  // "conv1", "layer2.0.conv1", "layer2.0.downsample.0"
  int64_t in_channels = 0, out_channels = 0, kernel = 1, stride = 1, padding = 0, groups = 1;
};

// A conv and what follows it up to the next conv or addition: an optional BN (folded into the conv for
// inference) and an optional ReLU (after the BN). Empty names: absent.
struct ConvUnit {
  ConvLayer conv;
  std::string norm;
  std::string relu;
};

using Shortcut = nn::BlockShortcut;

struct Block {
  std::string name;  // "layer2.0"
  int stage = 0;     // 0-based
  int index = 0;     // within the stage
  int64_t in_channels = 0, out_channels = 0, stride = 1;
  // Pre-activation blocks: BN → ReLU on the block input before the branch; empty otherwise.
  std::string pre_norm, pre_relu;
  // The branch in order; the last unit's output meets the shortcut at the addition.
  std::vector<ConvUnit> branch;
  std::string dropout;  // Wide ResNet: a dropout after branch[0]'s conv, before its BN; empty: none
  double dropout_probability = 0.0;
  Shortcut shortcut = Shortcut::identity;
  ConvUnit projection;  // Shortcut::projection: downsample.0, and downsample.1 as its norm when it has one
  bool projection_reads_preactivation = false;  // pre-activation: the projection reads pre_relu's output
  std::string add;                              // the addition ("layer2.0.add"); empty for Shortcut::none
  std::string relu_after;  // post-activation: the ReLU after the addition ("layer2.0.relu"); empty otherwise
};

// A feature map a dense head can read: a stage's output.
struct Tap {
  std::string name;  // "layer1" …
  int64_t stride = 1;
  int64_t channels = 0;
};

// Convs whose outputs meet at an addition (or feed one grouped conv), so they must keep one width: the unit
// a structured pruner removes channels from. A conv that meets nothing forms a group of its own.
struct CouplingGroup {
  std::vector<std::string> convs;  // in execution order
  int64_t channels = 0;
  int64_t divisor = 1;  // a grouped conv reads or writes the group: widths stay multiples of its group count
};

struct Architecture {
  ResNetSpec spec;
  ConvUnit stem;  // conv1 (+ bn1 → relu in post-activation nets)
  bool max_pool = false;
  std::vector<Block> blocks;
  std::string final_norm, final_relu;  // pre-activation nets: final_bn → final_relu before the pool
  int64_t features = 0;                // the classifier's input width
  std::vector<Tap> taps;
  std::vector<CouplingGroup> coupling_groups;

  // Every conv, in execution order (the stem, then each block's branch and projection).
  std::vector<const ConvLayer*> convs() const;
  // The conv named `name`; throws UserError listing how convs are named when there is none.
  const ConvLayer& conv(const std::string& name) const;
};

// Throws UserError when spec.conv_widths names a conv the network lacks, gives a width below 1, or breaks a
// coupling group (the message names the group's convs and their widths), a grouped conv's divisibility or
// an option-A shortcut's "never narrower than its input".
Architecture architecture_of(const ResNetSpec& spec);

// The paper's option-A shortcut as a 1×1 conv weight [out, in] of 0s and 1s: input channel c goes to output
// channel c + (out - in) / 2, the rest are zero (the zero padding). Exact in every precision.
std::vector<float> option_a_selection(int64_t in_channels, int64_t out_channels);

}  // namespace resnet::models
