// Whole-model parity with PyTorch: ONNX files written by torch.onnx.export (Debian's torch 1.13 +
// torchvision 0.14, tests/fixtures/generate_onnx.py) are imported and must reproduce torch's float64 logits
// within 1e-4 of their largest magnitude (f32 arithmetic through 20–50 layers: measured ~1e-6).
//
// The committed files hold the graph and every parameter's name, shape and type but no values (exported with
// export_params=False: parameters are graph inputs). The test refills them by the fixture formula
// (tests/fixture_fill.h, the twin of generate.py's), turning them into initializers, before importing.
#include <gtest/gtest.h>

#include <fstream>

#include "onnx/proto.h"
#include "onnx_test_util.h"
#include "resnet/io/safetensors.h"
#include "resnet/nn/state_dict.h"
#include "resnet/onnx/import.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

const std::string kDir = std::string(RESNET_FIXTURES_DIR) + "/onnx/";

// The fixture with its parameters filled by the formula, written to `out`.
void refill(const std::string& fixture, const std::string& out) {
  onnx::pb::ModelProto m = onnx::read_model(fixture);
  auto* g = m.mutable_graph();
  onnx::pb::GraphProto inputs_only;
  int filled = 0;
  for (const auto& in : g->input()) {
    if (in.name() == "input") {
      *inputs_only.add_input() = in;
      continue;
    }
    Shape shape;
    for (const auto& d : in.type().tensor_type().shape().dim()) shape.push_back(d.dim_value());
    ASSERT_EQ(in.type().tensor_type().elem_type(), onnx::pb::TensorProto::FLOAT) << in.name();
    Tensor t = Tensor::empty(shape);
    fill_by_name(in.name(), t);
    onnx::tensor_to_proto(in.name(), t, g->add_initializer());
    ++filled;
  }
  ASSERT_GT(filled, 10) << fixture << ": its parameters should be graph inputs without values";
  g->mutable_input()->Swap(inputs_only.mutable_input());
  std::string bytes;
  ASSERT_TRUE(m.SerializeToString(&bytes));
  std::ofstream(out, std::ios::binary) << bytes;
}

struct TorchCase {
  std::string name;
  models::BlockKind block;
  std::vector<int> blocks;
  int64_t groups, width_per_group;
  nn::ShortcutKind shortcut;
  bool imagenet_stem;
  int64_t classes, size;
};

void PrintTo(const TorchCase& c, std::ostream* os) {
  *os << c.name;
}

class OnnxTorchParity : public ::testing::TestWithParam<TorchCase> {};

TEST_P(OnnxTorchParity, ImportedNetworkReproducesTorchLogits) {
  const TorchCase& c = GetParam();
  const fs::path dir = fresh_dir("torch_" + c.name);
  const std::string path = (dir / (c.name + ".onnx")).string();
  refill(kDir + c.name + ".onnx", path);
  if (HasFatalFailure()) return;

  const onnx::ImportedModel imported = onnx::import_onnx(path);
  const auto& s = imported.spec;
  EXPECT_EQ(s.block, c.block);
  EXPECT_EQ(s.blocks_per_stage, c.blocks);
  EXPECT_EQ(s.groups, c.groups);
  EXPECT_EQ(s.width_per_group, c.width_per_group);
  EXPECT_EQ(s.shortcut, c.shortcut);
  EXPECT_EQ(s.imagenet_stem, c.imagenet_stem);
  EXPECT_EQ(s.num_classes, c.classes);
  models::ResNet model(s);
  io::TensorFile weights;
  weights.tensors = imported.tensors;
  nn::load_state_dict(model, weights);
  model.eval();

  const Tensor x = fill_input({2, 3, c.size, c.size});
  const Tensor logits = logits_of(model, x);
  const auto truth = io::load_safetensors(kDir + "torch_logits.safetensors");
  const double err = max_rel_error(logits, truth.at(c.name + ".logits"));
  EXPECT_LE(err, 1e-4) << c.name;
  std::printf("[ torch parity ] %-18s %s: max |diff| / max |logit| = %.2e\n", c.name.c_str(),
              imported.summary.c_str(), err);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    TorchExports, OnnxTorchParity,
    ::testing::Values(
        TorchCase{"cifar_resnet20_bn",
                  models::BlockKind::basic,
                  {3, 3, 3},
                  1,
                  64,
                  nn::ShortcutKind::A,
                  false,
                  10,
                  32},
        TorchCase{"resnet18_bn",
                  models::BlockKind::basic,
                  {2, 2, 2, 2},
                  1,
                  64,
                  nn::ShortcutKind::B,
                  true,
                  1000,
                  64},
        TorchCase{
            "resnet18", models::BlockKind::basic, {2, 2, 2, 2}, 1, 64, nn::ShortcutKind::B, true, 1000, 64},
        TorchCase{"resnet50",
                  models::BlockKind::bottleneck,
                  {3, 4, 6, 3},
                  1,
                  64,
                  nn::ShortcutKind::B,
                  true,
                  1000,
                  64},
        TorchCase{"resnext50_32x4d",
                  models::BlockKind::bottleneck,
                  {3, 4, 6, 3},
                  32,
                  4,
                  nn::ShortcutKind::B,
                  true,
                  1000,
                  64}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace resnet::testing
