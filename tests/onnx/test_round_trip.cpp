// Export → import round trips of the zoo: the importer must recognise the exact architecture resnet.cpp
// exported (with and without BN folding) and the re-imported network must compute the same logits.
#include <gtest/gtest.h>

#include "card_util.h"
#include "onnx/proto.h"
#include "onnx_test_util.h"
#include "resnet/models/checkpoint.h"
#include "resnet/nn/loss.h"
#include "resnet/nn/state_dict.h"
#include "resnet/onnx/export.h"
#include "resnet/onnx/import.h"
#include "resnet/optim/sgd.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

struct Case {
  std::string label, model;  // a zoo name, or empty for `spec`
  models::ResNetSpec spec;
  int64_t size = 32;
};

models::ResNetSpec small_spec(models::BlockKind block, std::vector<int> blocks, std::vector<int64_t> widths,
                              int64_t groups = 1, int64_t width_per_group = 64, bool stride_in_1x1 = false) {
  models::ResNetSpec s;
  s.block = block;
  s.blocks_per_stage = std::move(blocks);
  s.widths = std::move(widths);
  s.groups = groups;
  s.width_per_group = width_per_group;
  s.stride_in_1x1 = stride_in_1x1;
  s.shortcut = nn::ShortcutKind::B;
  s.in_channels = 2;
  s.num_classes = 5;
  return s;
}

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.label;
}

std::vector<Case> cases() {
  return {
      {"resnet20", "resnet20", {}, 32},
      {"plain20", "plain20", {}, 32},
      {"resnet18", "resnet18", {}, 64},
      {"resnet50", "resnet50", {}, 64},
      {"preact_resnet18", "preact_resnet18", {}, 32},
      {"wrn_16_4", "wrn_16_4", {}, 32},
      {"resnext_small", "", small_spec(models::BlockKind::bottleneck, {1, 2}, {16, 32}, 4, 8), 16},
      {"bottleneck_stride_in_1x1", "",
       small_spec(models::BlockKind::bottleneck, {2, 1}, {8, 16}, 1, 64, true), 16},
      {"preact_bottleneck", "", small_spec(models::BlockKind::preact_bottleneck, {1, 1, 1}, {8, 16, 32}), 16},
  };
}

void expect_same_spec(const models::ResNetSpec& a, const models::ResNetSpec& b) {
  EXPECT_EQ(a.block, b.block);
  EXPECT_EQ(a.blocks_per_stage, b.blocks_per_stage);
  EXPECT_EQ(a.widths, b.widths);
  EXPECT_EQ(a.stem_width, b.stem_width);
  EXPECT_EQ(a.imagenet_stem, b.imagenet_stem);
  EXPECT_EQ(a.in_channels, b.in_channels);
  EXPECT_EQ(a.num_classes, b.num_classes);
  if (a.block == models::BlockKind::basic || a.block == models::BlockKind::bottleneck) {
    EXPECT_EQ(a.shortcut, b.shortcut);
  }
  if (a.block == models::BlockKind::bottleneck) {
    EXPECT_EQ(a.groups, b.groups);
    EXPECT_EQ(a.width_per_group, b.width_per_group);
    EXPECT_EQ(a.stride_in_1x1, b.stride_in_1x1);
  }
}

class OnnxRoundTrip : public ::testing::TestWithParam<std::tuple<Case, bool>> {};

TEST_P(OnnxRoundTrip, ImportsTheExportedArchitectureAndLogits) {
  const auto& [c, fold] = GetParam();
  auto model = c.model.empty() ? filled_model(c.spec) : filled_model(c.model);
  const fs::path dir = fresh_dir("roundtrip_" + c.label + (fold ? "_folded" : ""));
  const std::string path = (dir / "model.onnx").string();
  onnx::export_onnx(*model, path, {.fold_bn = fold, .card = card_of({{"model", c.label}})});

  const onnx::ImportedModel imported = onnx::import_onnx(path);
  expect_same_spec(imported.spec, model->spec());
  models::ResNet again(imported.spec);
  io::TensorFile weights;
  weights.tensors = imported.tensors;
  nn::load_state_dict(again, weights);  // strict: every name and shape must match
  again.eval();
  if (!fold) {  // the very same numbers come back
    auto original = nn::state_dict(*model);
    std::map<std::string, Tensor> back(imported.tensors.begin(), imported.tensors.end());
    for (const auto& [name, t] : original) {
      if (name.ends_with("num_batches_tracked")) continue;
      ASSERT_TRUE(back.count(name)) << name;
      EXPECT_EQ(max_rel_error(back.at(name), t.clone(Layout::contiguous)), 0.0) << name;
    }
  }
  const Tensor x = fill_input({3, model->spec().in_channels, c.size, c.size});
  const Tensor expected = logits_of(*model, x), got = logits_of(again, x);
  const double err = max_rel_error(got, expected);
  // Unfolded: identical weights and ops, so only the order of float sums may differ (none expected).
  // Folded: w·γ/√(var+ε) rounded once to f32 instead of applied as a separate BN: a few f32 ulps per layer.
  EXPECT_LE(err, fold ? 1e-5 : 1e-6) << c.label;
  std::printf("[ round trip ] %-26s %-8s max |diff| / max |logit| = %.2e\n", c.label.c_str(),
              fold ? "folded" : "with BN", err);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Zoo, OnnxRoundTrip,
                         ::testing::Combine(::testing::ValuesIn(cases()), ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param).label +
                                  (std::get<1>(info.param) ? "_folded" : "_bn");
                         });

TEST(OnnxExport, WritesOpset13DynamicBatchNamesAndMetadata) {
  auto model = filled_model("resnet20");
  const fs::path dir = fresh_dir("export_meta");
  const std::string path = (dir / "m.onnx").string();
  const nlohmann::json info = {{"model", "resnet20"},
                               {"class_names", {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}},
                               {"mean", {0.5, 0.4, 0.3}},
                               {"std", {0.2, 0.2, 0.2}},
                               {"input_size", {3, 32, 32}}};
  onnx::export_onnx(*model, path, {.card = card_of(info)});
  const auto m = onnx::read_model(path);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 13);
  ASSERT_EQ(m.graph().input_size(), 1);
  EXPECT_EQ(m.graph().input(0).name(), "input");
  EXPECT_EQ(m.graph().output(0).name(), "logits");
  const auto& in_shape = m.graph().input(0).type().tensor_type().shape();
  ASSERT_EQ(in_shape.dim_size(), 4);
  EXPECT_FALSE(in_shape.dim(0).has_dim_value()) << "the batch dimension must be dynamic";
  EXPECT_EQ(in_shape.dim(1).dim_value(), 3);
  const auto& out_shape = m.graph().output(0).type().tensor_type().shape();
  EXPECT_EQ(out_shape.dim(1).dim_value(), 10);
  std::map<std::string, std::string> meta;
  for (const auto& p : m.metadata_props()) meta[p.key()] = p.value();
  EXPECT_EQ(nlohmann::json::parse(meta.at("class_names")), info["class_names"]);
  EXPECT_EQ(nlohmann::json::parse(meta.at("mean")), info["mean"]);
  EXPECT_EQ(nlohmann::json::parse(meta.at("std")), info["std"]);
  EXPECT_EQ(nlohmann::json::parse(meta.at("input_size")), info["input_size"]);
  EXPECT_TRUE(nlohmann::json::parse(meta.at("resnet.cpp.info")).contains("spec"));
  int bn = 0;
  for (const auto& n : m.graph().node()) bn += n.op_type() == "BatchNormalization";
  EXPECT_EQ(bn, 19) << "unfolded export keeps every BN";
  onnx::export_onnx(*model, path, {.fold_bn = true, .card = card_of(info)});
  bn = 0;
  const auto folded = onnx::read_model(path);
  for (const auto& n : folded.graph().node()) bn += n.op_type() == "BatchNormalization";
  EXPECT_EQ(bn, 0) << "--fold-bn folds every BN of a post-activation net";
  fs::remove_all(dir);
}

// An imported .onnx is a checkpoint wherever one is accepted (eval, predict, export), and keeps the class
// names and preprocessing written at export.
TEST(OnnxExport, OnnxFileLoadsAsCheckpointWithItsInfo) {
  auto model = filled_model("resnet20", 4);
  const fs::path dir = fresh_dir("as_checkpoint");
  const std::string path = (dir / "m.onnx").string();
  onnx::export_onnx(
      *model, path,
      {.card = card_of({{"model", "resnet20"},
                        {"class_names", {"w", "x", "y", "z"}},
                        {"input_size", {3, 32, 32}},
                        {"eval_transforms", {"normalize(mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])"}},
                        {"dataset", "fashion-mnist"}})});
  const models::Checkpoint c = models::load_checkpoint(path);
  EXPECT_EQ(json_of(c.card).at("class_names").size(), 4u);
  EXPECT_EQ(json_of(c.card).at("dataset"), "fashion-mnist");
  EXPECT_EQ(json_of(c.card).at("eval_transforms").size(), 1u);
  auto back = models::model_from_checkpoint(c);
  const Tensor x = fill_input({2, 3, 32, 32});
  EXPECT_LE(max_rel_error(logits_of(*back, x), logits_of(*model, x)), 1e-6);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing

namespace resnet::testing {
namespace {

// An imported network is a full resnet.cpp network, not only a runnable one: the BN folded by an exporter
// comes back as a trainable BN, every parameter receives a gradient and SGD lowers the loss.
TEST(OnnxImport, ImportedFoldedNetworkFineTunes) {
  auto model = filled_model("resnet20");
  const fs::path dir = fresh_dir("finetune");
  const std::string path = (dir / "m.onnx").string();
  onnx::export_onnx(*model, path, {.fold_bn = true});
  const onnx::ImportedModel imported = onnx::import_onnx(path);
  models::ResNet net(imported.spec);
  io::TensorFile weights;
  weights.tensors = imported.tensors;
  nn::load_state_dict(net, weights);
  net.train();
  std::vector<nn::Parameter*> params;
  for (auto& [name, p] : net.named_parameters()) params.push_back(p);
  optim::Sgd sgd(params, {.lr = 0.02, .momentum = 0.9});
  nn::CrossEntropyLoss loss;
  const Tensor x = fill_input({8, 3, 16, 16}), targets = fill_targets(8, 10);
  double first = 0, last = 0;
  for (int step = 0; step < 8; ++step) {
    net.zero_grad();
    const double l = loss.forward(net.forward(x), targets);
    net.backward(loss.backward());
    if (step == 0) {
      first = l;
      for (auto& [name, p] : net.named_parameters())
        EXPECT_GT(max_abs(p->grad()), 0.0) << name << " gets no gradient";
    }
    last = l;
    sgd.step();
  }
  EXPECT_TRUE(std::isfinite(last));
  EXPECT_LT(last, 0.5 * first) << "8 SGD steps on one batch should at least halve the loss";
  std::printf("[ fine-tune ] imported folded resnet20: loss %.4f -> %.4f in 8 steps\n", first, last);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
