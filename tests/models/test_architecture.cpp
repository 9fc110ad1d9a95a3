// The typed network description (models/architecture.h): coupling groups and taps of zoo nets, per-layer
// widths (a pruned coupling group) building, training, saving, loading and running on the engine, and the
// errors for widths that no ResNet can have. The ONNX Runtime check of pruned nets is in
// tests/onnx/test_export_ort.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "fixture_fill.h"
#include "pruned_specs.h"
#include "resnet/infer/engine.h"
#include "resnet/models/memory_estimate.h"
#include "resnet/models/spec_json.h"
#include "resnet/nn/loss.h"
#include "resnet/onnx/export.h"
#include "resnet/train/checkpoint.h"
#include "temp_dir.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

using Strings = std::vector<std::string>;

const models::CouplingGroup& group_of(const models::Architecture& a, const std::string& conv) {
  for (const auto& g : a.coupling_groups)
    if (std::find(g.convs.begin(), g.convs.end(), conv) != g.convs.end()) return g;
  throw std::runtime_error("no group holds " + conv);
}

TEST(Architecture, CouplingGroupsFollowTheAdditions) {
  const auto r18 = models::architecture_of(models::model_spec("resnet18", {}));
  EXPECT_EQ(group_of(r18, "conv1").convs, (Strings{"conv1", "layer1.0.conv2", "layer1.1.conv2"}));
  EXPECT_EQ(group_of(r18, "layer2.0.conv2").convs,
            (Strings{"layer2.0.conv2", "layer2.0.downsample.0", "layer2.1.conv2"}));
  EXPECT_EQ(group_of(r18, "layer1.0.conv1").convs, (Strings{"layer1.0.conv1"}));  // meets no addition
  EXPECT_EQ(group_of(r18, "layer4.1.conv2").channels, 512);
  // The stem with stage 1, stages 2-4 each with their projection, and the 8 blocks' conv1s alone.
  EXPECT_EQ(r18.coupling_groups.size(), 1 + 3 + 8u);
  ASSERT_EQ(r18.taps.size(), 4u);
  EXPECT_EQ(r18.taps[0].stride, 4);
  EXPECT_EQ(r18.taps[3].stride, 32);
  EXPECT_EQ(r18.taps[3].channels, 512);

  // Option A pads channels: nothing couples across a stage boundary, and no downsample conv exists.
  const auto r20 = models::architecture_of(models::model_spec("resnet20", {}));
  EXPECT_EQ(group_of(r20, "conv1").convs,
            (Strings{"conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"}));
  EXPECT_EQ(group_of(r20, "layer2.0.conv2").convs,
            (Strings{"layer2.0.conv2", "layer2.1.conv2", "layer2.2.conv2"}));
  EXPECT_EQ(r20.blocks[3].shortcut, models::Shortcut::option_a);
  EXPECT_EQ(r20.taps[2].stride, 4);

  const auto r50 = models::architecture_of(models::model_spec("resnet50", {}));
  EXPECT_EQ(group_of(r50, "layer1.0.conv3").convs,
            (Strings{"layer1.0.conv3", "layer1.0.downsample.0", "layer1.1.conv3", "layer1.2.conv3"}));
  EXPECT_EQ(group_of(r50, "conv1").convs, (Strings{"conv1"}));  // the projection decouples the stem

  // ResNeXt: the grouped 3×3 ties its input and output widths to a multiple of its 32 groups.
  const auto rx = models::architecture_of(models::model_spec("resnext50_32x4d", {}));
  const auto& g = group_of(rx, "layer1.0.conv1");
  EXPECT_EQ(g.convs, (Strings{"layer1.0.conv1", "layer1.0.conv2"}));
  EXPECT_EQ(g.divisor, 32);

  // Plain nets add nothing: every conv is its own group.
  const auto p20 = models::architecture_of(models::model_spec("plain20", {}));
  EXPECT_EQ(p20.coupling_groups.size(), p20.convs().size());
}

// Widths no ResNet can have are refused with the conv names to fix.
TEST(Architecture, WidthsThatBreakAGroupAreRefused) {
  auto spec = models::model_spec("resnet18", {});
  spec.conv_widths["layer1.0.conv2"] = 48;  // its group partners keep 64
  try {
    models::ResNet model(spec);
    FAIL() << "built";
  } catch (const UserError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("layer1.0.conv2 (48)"), std::string::npos) << m;
    EXPECT_NE(m.find("layer1.1.conv2 (64)"), std::string::npos) << m;
    EXPECT_NE(m.find("coupling group"), std::string::npos) << m;
  }
  spec.conv_widths = {{"layer9.0.conv1", 8}};
  EXPECT_THROW(models::architecture_of(spec), UserError);
  spec.conv_widths = {{"layer1.0.conv1", 0}};
  EXPECT_THROW(models::architecture_of(spec), UserError);
  // Option A cannot pad 16 channels down to 8.
  EXPECT_THROW(models::architecture_of(pruned_spec("resnet20", "layer2.0.conv2", 8)), UserError);
  // ResNeXt's grouped conv needs multiples of 32.
  EXPECT_THROW(models::architecture_of(pruned_spec("resnext50_32x4d", "layer1.0.conv1", 100)), UserError);
  EXPECT_NO_THROW(models::architecture_of(pruned_spec("resnext50_32x4d", "layer1.0.conv1", 96)));
  // A file's spec is checked when it is read.
  auto j = models::spec_to_json(models::model_spec("resnet18", {}));
  j["conv_widths"] = {{"layer1.0.conv2", 48}};
  EXPECT_THROW(models::spec_from_json(j, "x.json"), UserError);
}

struct PruneCase {
  std::string model, member;
  int64_t width, size;
};

// One coupling group pruned by editing widths: the net builds with the narrower convs (and their readers
// narrowed to match), trains a step, saves and loads through a checkpoint, and the fp32 engine reproduces
// the module's forward.
TEST(Architecture, APrunedCouplingGroupBuildsTrainsSavesLoadsAndRuns) {
  const std::vector<PruneCase> cases = {{"resnet18", "layer2.0.conv2", 96, 32},
                                        {"resnet50", "layer1.0.conv3", 200, 32},
                                        {"resnet20", "conv1", 12, 16}};
  TempDir dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.model);
    const models::ResNetSpec spec = pruned_spec(c.model, c.member, c.width);
    ASSERT_GE(spec.conv_widths.size(), 3u);
    auto model = std::make_unique<models::ResNet>(spec);
    for (const auto& [name, width] : spec.conv_widths) {
      auto* conv = dynamic_cast<nn::Conv2d*>(model->find_module(name));
      ASSERT_NE(conv, nullptr) << name;
      EXPECT_EQ(conv->weight().value().size(0), width) << name;
    }
    // The estimate counts what is built.
    int64_t parameters = 0;
    for (auto& [name, p] : model->named_parameters()) parameters += p->value().numel();
    EXPECT_EQ(static_cast<int64_t>(models::estimate_memory(spec, 1, 1).parameters), parameters);

    fill_module(*model);
    model->train();
    const Tensor x = fill_input({2, 3, c.size, c.size});
    const Tensor& logits = model->forward(x);
    ASSERT_EQ(logits.shape(), (Shape{2, 10}));
    nn::CrossEntropyLoss loss;
    loss.forward(logits, fill_targets(2, 10));
    model->backward(loss.backward());
    for (auto& [name, p] : model->named_parameters()) ASSERT_TRUE(p->grad().defined()) << name;

    model->eval();
    const Tensor eval_x = fill_input({3, 3, c.size, c.size}, 0.25);
    const Tensor expected = model->forward(eval_x).clone(Layout::contiguous);

    models::ModelCard card;
    card.model = c.model + " (pruned)";
    card.spec = spec;
    card.num_classes = 10;
    const std::string path = dir / (c.model + ".safetensors");
    train::save_checkpoint(path, *model, nullptr, nullptr, card, nullptr, nullptr);
    auto loaded = models::model_from_checkpoint(models::load_checkpoint(path));
    EXPECT_EQ(loaded->spec().conv_widths, spec.conv_widths);
    EXPECT_LE(max_rel_error(loaded->forward(eval_x), expected), 1e-6);

    infer::Engine engine(*loaded, eval_x.shape());
    EXPECT_LE(max_rel_error(engine.run(eval_x), expected, 1e-3), 1e-4);

    // Through ONNX and back: the recognised spec builds the same convs, and the weights give the same logits.
    const std::string onnx_path = dir / (c.model + ".onnx");
    onnx::export_onnx(*model, onnx_path);
    auto imported = models::model_from_checkpoint(models::load_checkpoint(onnx_path));
    const auto convs = imported->architecture().convs(), original = model->architecture().convs();
    ASSERT_EQ(convs.size(), original.size());
    for (size_t i = 0; i < convs.size(); ++i) {
      EXPECT_EQ(convs[i]->name, original[i]->name);
      EXPECT_EQ(convs[i]->out_channels, original[i]->out_channels) << convs[i]->name;
    }
    EXPECT_LE(max_rel_error(imported->forward(eval_x), expected, 1e-3), 1e-5);
  }
}

}  // namespace
}  // namespace resnet::testing
