// Import of graphs written the way other exporters write a ResNet (TensorFlow-to-ONNX, older PyTorch):
// our own export is rewritten node by node into that dialect — SAME auto-padding, explicit Pad nodes before
// the stem conv and the max-pool, BN epsilon 1e-3, an AveragePool over the whole map as the final pool, the
// Shape→Gather→Unsqueeze→Concat→Reshape flatten, a Transpose of the classifier weight feeding MatMul + Add,
// Identity nodes and a final Softmax — and must import to the same architecture and the same logits (the
// dropped Softmax aside).
#include <gtest/gtest.h>

#include <fstream>

#include "onnx/proto.h"
#include "onnx_test_util.h"
#include "resnet/nn/state_dict.h"
#include "resnet/onnx/export.h"
#include "resnet/onnx/import.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

namespace pb = onnx::pb;

pb::NodeProto make_node(const std::string& op, std::vector<std::string> inputs, const std::string& output) {
  pb::NodeProto n;
  n.set_op_type(op);
  n.set_name(output);
  for (auto& i : inputs) n.add_input(i);
  n.add_output(output);
  return n;
}

void set_ints(pb::NodeProto& n, const std::string& name, std::vector<int64_t> values) {
  for (auto& a : *n.mutable_attribute())
    if (a.name() == name) {
      a.clear_ints();
      for (int64_t v : values) a.add_ints(v);
      return;
    }
}

void add_constant(pb::GraphProto* g, const std::string& name, std::vector<int64_t> values, Shape shape) {
  Tensor t = Tensor::empty(shape, DType::i64);
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  onnx::tensor_to_proto(name, t, g->add_initializer());
}

// `pooled_size` > 0: the input gets a static H = W, and the final pool becomes an AveragePool over the
// whole pooled_size × pooled_size map (as `F.avg_pool2d(out, 4)` exports).
void rewrite_as_foreign_exporter(pb::ModelProto& m, int64_t input_size, int64_t pooled_size) {
  auto* g = m.mutable_graph();
  if (pooled_size > 0) {
    auto* shape = g->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape();
    for (int d : {2, 3}) shape->mutable_dim(d)->set_dim_value(input_size);
  }
  std::map<std::string, pb::TensorProto*> init;
  for (auto& t : *g->mutable_initializer()) init[t.name()] = &t;
  add_constant(g, "pads.stem", {0, 0, 3, 3, 0, 0, 3, 3}, {8});
  add_constant(g, "pads.pool", {0, 0, 1, 1, 0, 0, 1, 1}, {8});
  add_constant(g, "gather.index", {0}, Shape{});
  add_constant(g, "unsqueeze.axes", {0}, {1});
  add_constant(g, "minus_one", {-1}, {1});
  std::vector<pb::NodeProto> nodes;
  for (pb::NodeProto n : g->node()) {
    const std::string& op = n.op_type();
    if (op == "Conv" && n.name() == "conv1") {
      nodes.push_back(make_node("Pad", {n.input(0), "pads.stem"}, "conv1.padded"));
      n.set_input(0, "conv1.padded");
      set_ints(n, "pads", {0, 0, 0, 0});
    } else if (op == "Conv") {
      const auto strides = onnx::attribute_ints(n, "strides");
      const auto kernel = onnx::attribute_ints(n, "kernel_shape");
      if (strides[0] == 1 || kernel[0] == 1) {  // TensorFlow writes SAME where it is symmetric
        pb::NodeProto same = n;
        same.clear_attribute();
        for (const auto& a : n.attribute())
          if (a.name() != "pads") *same.add_attribute() = a;
        auto* a = same.add_attribute();
        a->set_name("auto_pad");
        a->set_type(pb::AttributeProto::STRING);
        a->set_s("SAME_UPPER");
        n = same;
      }
    } else if (op == "MaxPool") {
      nodes.push_back(make_node("Pad", {n.input(0), "pads.pool"}, "maxpool.padded"));
      n.set_input(0, "maxpool.padded");
      set_ints(n, "pads", {0, 0, 0, 0});
    } else if (op == "BatchNormalization") {
      for (auto& a : *n.mutable_attribute())
        if (a.name() == "epsilon") a.set_f(1e-3f);
      // Same function: var + 1e-3 = old var + 1e-5.
      auto* var = init.at(n.input(4));
      std::string& raw = *var->mutable_raw_data();
      auto* v = reinterpret_cast<float*>(raw.data());
      for (size_t k = 0; k < raw.size() / 4; ++k)
        v[k] = static_cast<float>(static_cast<double>(v[k]) + 1e-5 - 1e-3);
    } else if (op == "Relu" && n.name() == "relu") {
      n.set_output(0, "relu.raw");
      nodes.push_back(n);
      n = make_node("Identity", {"relu.raw"}, "relu");
    } else if (op == "GlobalAveragePool" && pooled_size > 0) {
      n.set_op_type("AveragePool");
      auto* k = n.add_attribute();
      k->set_name("kernel_shape");
      k->set_type(pb::AttributeProto::INTS);
      k->add_ints(pooled_size);
      k->add_ints(pooled_size);
    } else if (op == "Flatten") {
      nodes.push_back(make_node("Shape", {n.input(0)}, "flat.shape"));
      nodes.push_back(make_node("Gather", {"flat.shape", "gather.index"}, "flat.n"));
      nodes.push_back(make_node("Unsqueeze", {"flat.n", "unsqueeze.axes"}, "flat.n1"));
      auto concat = make_node("Concat", {"flat.n1", "minus_one"}, "flat.target");
      auto* axis = concat.add_attribute();
      axis->set_name("axis");
      axis->set_type(pb::AttributeProto::INT);
      axis->set_i(0);
      nodes.push_back(concat);
      n = make_node("Reshape", {n.input(0), "flat.target"}, n.output(0));
    } else if (op == "Gemm") {
      nodes.push_back(make_node("Transpose", {n.input(1)}, "fc.weight.t"));
      nodes.push_back(make_node("MatMul", {n.input(0), "fc.weight.t"}, "fc.mm"));
      nodes.push_back(make_node("Add", {"fc.mm", n.input(2)}, "fc.logits"));
      n = make_node("Softmax", {"fc.logits"}, "probabilities");
      g->mutable_output(0)->set_name("probabilities");
    }
    nodes.push_back(n);
  }
  g->clear_node();
  for (auto& n : nodes) *g->add_node() = n;
}

TEST(OnnxImportDialects, TensorFlowStyleGraphImportsToTheSameNetwork) {
  models::ResNetSpec spec;  // Keras' ResNet50 layout in small: stride on the first 1×1, ImageNet stem
  spec.block = models::BlockKind::bottleneck;
  spec.blocks_per_stage = {2, 2};
  spec.widths = {8, 16};
  spec.stride_in_1x1 = true;
  spec.imagenet_stem = true;
  spec.stem_width = 16;
  spec.shortcut = nn::ShortcutKind::B;
  spec.num_classes = 5;
  auto model = filled_model(spec);
  const fs::path dir = fresh_dir("dialects");
  for (bool fold : {false, true}) {
    const std::string path = (dir / (fold ? "folded.onnx" : "bn.onnx")).string();
    onnx::export_onnx(*model, path, {.fold_bn = fold});
    auto m = onnx::read_model(path);
    // The unfolded variant also gets a static input size and an AveragePool head (32 → 16 → 8 → 4).
    rewrite_as_foreign_exporter(m, 32, fold ? 0 : 4);
    std::string bytes;
    ASSERT_TRUE(m.SerializeToString(&bytes));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;

    const onnx::ImportedModel imported = onnx::import_onnx(path);
    EXPECT_NE(imported.summary.find("Softmax dropped"), std::string::npos) << imported.summary;
    EXPECT_EQ(imported.spec.blocks_per_stage, spec.blocks_per_stage);
    EXPECT_TRUE(imported.spec.stride_in_1x1);
    EXPECT_TRUE(imported.spec.imagenet_stem);
    models::ResNet again(imported.spec);
    io::TensorFile weights;
    weights.tensors = imported.tensors;
    nn::load_state_dict(again, weights);
    again.eval();
    const Tensor x = fill_input({2, 3, 32, 32});
    // ε moved into the variance and back costs an f32 rounding of var per channel: 1e-5 is ample.
    const double err = max_rel_error(logits_of(again, x), logits_of(*model, x));
    EXPECT_LE(err, 1e-5) << (fold ? "folded" : "with BN");
    std::printf("[ dialects ] %s: %s; max |diff| / max |logit| = %.2e\n", fold ? "folded " : "with BN",
                imported.summary.c_str(), err);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
