// `export --int8`: the QDQ file carries the int8 engine's quantisation (onnx/export.h). Checked here on
// the graph (a Q/DQ pair on every tensor the engine keeps in int8, with the engine's scales and zero-point
// types; int8 weights with per-channel scales of the folded weights) and by evaluating the file with the
// importer's node evaluator (QuantizeLinear/DequantizeLinear by the ONNX definition: x / scale, rounded
// half to even, saturated), whose logits must be those of the int8 engine up to a rounding step here and
// there. ONNX Runtime on the Fashion-MNIST test set: tests/onnx/check_int8_ort.sh (not in CTest: it
// trains a model).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "onnx/node_eval.h"
#include "onnx/proto.h"
#include "onnx_test_util.h"
#include "resnet/infer/calibration_file.h"
#include "resnet/infer/engine.h"
#include "resnet/io/safetensors.h"
#include "resnet/models/architecture.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/fold.h"
#include "resnet/nn/state_dict.h"
#include "resnet/onnx/export.h"
#include "test_util.h"

namespace resnet::testing {
namespace {

namespace pb = onnx::pb;

infer::Calibration calibrate(models::ResNet& model, const Shape& input) {
  infer::Engine fp32(model, input);
  infer::Calibration c;
  for (double phase : {0.5, 1.7, 2.9, 4.1}) fp32.observe(fill_input(input, phase), c);
  return c;
}

// Runs the graph node by node with onnx::evaluate_node.
Tensor evaluate(const pb::ModelProto& m, const std::string& path, const Tensor& x) {
  std::map<std::string, Tensor> values;
  for (const auto& t : m.graph().initializer()) values[t.name()] = onnx::tensor_from_proto(t, t.name(), path);
  values["input"] = x;
  for (const auto& n : m.graph().node()) {
    std::vector<Tensor> in;
    for (const auto& name : n.input()) in.push_back(name.empty() ? Tensor() : values.at(name));
    std::vector<Tensor> out = onnx::evaluate_node(n, in, n.name());
    for (int i = 0; i < n.output_size(); ++i) values[n.output(i)] = out[static_cast<size_t>(i)];
  }
  return values.at("logits").clone(Layout::contiguous);
}

const pb::TensorProto& initializer(const pb::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return t;
  throw std::runtime_error("no initializer " + name);
}

int64_t top1(const Tensor& logits, int64_t row) {
  int64_t best = 0;
  for (int64_t k = 1; k < logits.size(1); ++k)
    if (logits.get_flat(row * logits.size(1) + k) > logits.get_flat(row * logits.size(1) + best)) best = k;
  return best;
}

// Two stages of one block, 8 and 16 planes, the 7×7 stem and its max pool, projection shortcuts.
models::ResNetSpec small_spec(models::BlockKind block) {
  models::ResNetSpec spec;
  spec.block = block;
  spec.blocks_per_stage = {1, 1};
  spec.widths = {8, 16};
  spec.imagenet_stem = true;
  spec.shortcut = nn::ShortcutKind::B;
  return spec;
}

struct Int8Case {
  std::string label;
  std::unique_ptr<models::ResNet> (*make)();
  Shape input;
  size_t quantize_nodes;  // the input, every conv step and shortcut (and the max pool)
};

TEST(OnnxExportInt8, QdqGraphCarriesTheEnginesScalesAndComputesItsLogits) {
  const std::vector<Int8Case> cases = {
      // The demo's family: 3×3 stem, option-A shortcuts, one input channel, 28×28.
      {"resnet8 (option A)", [] { return models::cifar_resnet(8, 10, 1); }, {8, 1, 28, 28}, 1 + 7 + 2},
      // ImageNet stem (max pool) and projection shortcuts, basic and bottleneck blocks, narrow.
      {"basic, max pool",
       [] { return std::make_unique<models::ResNet>(small_spec(models::BlockKind::basic)); },
       {4, 3, 32, 32},
       1 + 1 + 1 + 4 + 2},
      {"bottleneck, max pool",
       [] { return std::make_unique<models::ResNet>(small_spec(models::BlockKind::bottleneck)); },
       {4, 3, 32, 32},
       1 + 1 + 1 + 6 + 2},
  };
  const fs::path dir = fresh_dir("int8");
  for (const Int8Case& c : cases) {
    SCOPED_TRACE(c.label);
    auto model = c.make();
    fill_module(*model);
    model->eval();
    const infer::Calibration calibration = calibrate(*model, c.input);
    const std::string path = (dir / "model.onnx").string();
    onnx::export_onnx(*model, path, {.int8 = &calibration});
    const pb::ModelProto m = onnx::read_model(path);
    EXPECT_EQ(m.opset_import(0).version(), 13);
    bool tagged = false;
    for (const auto& p : m.metadata_props())
      tagged = tagged || (p.key() == "resnet.cpp.precision" && p.value() == "int8");
    EXPECT_TRUE(tagged);

    // Every Conv reads a dequantised activation and a dequantised int8 weight; no BN is left.
    std::map<std::string, const pb::NodeProto*> producer;
    size_t quantize = 0, convs = 0;
    for (const auto& n : m.graph().node()) {
      for (const auto& o : n.output()) producer[o] = &n;
      EXPECT_NE(n.op_type(), "BatchNormalization");
      quantize += n.op_type() == "QuantizeLinear";
    }
    EXPECT_EQ(quantize, c.quantize_nodes);
    for (const auto& n : m.graph().node()) {
      if (n.op_type() != "Conv") continue;
      ++convs;
      ASSERT_TRUE(producer.count(n.input(0)) && producer.count(n.input(1))) << n.name();
      EXPECT_EQ(producer[n.input(0)]->op_type(), "DequantizeLinear") << n.name();
      const pb::NodeProto& w = *producer[n.input(1)];
      ASSERT_EQ(w.op_type(), "DequantizeLinear") << n.name();
      EXPECT_EQ(onnx::attribute_int(w, "axis", 1), 0);
      EXPECT_EQ(initializer(m, w.input(0)).data_type(), pb::TensorProto::INT8);
    }
    const models::Architecture& a = model->architecture();
    EXPECT_EQ(convs, c.quantize_nodes - 1 - (a.max_pool ? 1 : 0));

    // Weight scales: max |w| / 127 of each output channel of the BN-folded weight.
    std::vector<models::ConvUnit> units{a.stem};
    for (const auto& b : a.blocks) {
      units.insert(units.end(), b.branch.begin(), b.branch.end());
      if (b.shortcut == models::Shortcut::projection) units.push_back(b.projection);
    }
    for (const auto& u : units) {
      auto* conv = dynamic_cast<nn::Conv2d*>(model->find_module(u.conv.name));
      auto* bn = dynamic_cast<nn::BatchNorm2d*>(model->find_module(u.norm));
      const nn::FoldedConv f = nn::fold_batch_norm(*conv, bn);
      const Tensor scales =
          onnx::tensor_from_proto(initializer(m, u.conv.name + ".weight_scale"), u.conv.name, path);
      const int64_t outs = scales.numel(), per_out = static_cast<int64_t>(f.weight.size()) / outs;
      for (int64_t o = 0; o < outs; ++o) {
        float magnitude = 0;
        for (int64_t i = 0; i < per_out; ++i)
          magnitude = std::max(magnitude, std::abs(f.weight[o * per_out + i]));
        EXPECT_EQ(scales.get_flat(o), static_cast<float>(magnitude / 127.f))
            << u.conv.name << " channel " << o;
      }
    }

    // Activation scales: the calibrated magnitude / 127 (int8 zero point) or / 255 (uint8, non-negative).
    auto expect_activation = [&](const std::string& name, const std::string& key) {
      const infer::Calibration::Range r = calibration.ranges.at(key);
      const bool non_negative = r.min >= 0;
      const float expected = non_negative ? r.max / 255.f : std::max(-r.min, r.max) / 127.f;
      EXPECT_EQ(onnx::tensor_from_proto(initializer(m, name + ".scale"), name, path).get_flat(0), expected)
          << name;
      EXPECT_EQ(initializer(m, name + ".zero_point").data_type(),
                non_negative ? pb::TensorProto::UINT8 : pb::TensorProto::INT8)
          << name;
    };
    // Every pair: the input, each conv step (a block's last conv: its sum and ReLU), the shortcuts.
    expect_activation("input", "input");
    expect_activation("conv1", "conv1");
    if (a.max_pool) expect_activation("maxpool", "conv1");  // the engine's pool keeps the stem's scale
    for (const auto& b : a.blocks) {
      for (const auto& u : b.branch) expect_activation(u.conv.name, u.conv.name);
      if (b.shortcut == models::Shortcut::projection)
        expect_activation(b.projection.conv.name, b.name + ".downsample");
      if (b.shortcut == models::Shortcut::option_a)
        expect_activation(b.name + ".downsample", b.name + ".downsample (option A)");
    }

    // The file's logits are the int8 engine's, up to a rounding step where the two sum in another order.
    const Tensor x = fill_input(c.input, 0.9);
    infer::Engine engine(*model, c.input, infer::Precision::int8, &calibration);
    const Tensor ours = engine.run(x).clone(Layout::contiguous);
    const Tensor file = evaluate(m, path, x);
    const double error = max_rel_error(file, ours);
    const double from_fp32 = max_rel_error(file, infer::Engine(*model, c.input).run(x));
    int64_t agree = 0;
    for (int64_t i = 0; i < c.input[0]; ++i) agree += top1(file, i) == top1(ours, i);
    std::printf(
        "    %-20s file vs int8 engine: max |diff| / max |logit| %.2g (vs fp32 %.2g), top-1 %lld/%lld\n",
        c.label.c_str(), error, from_fp32, static_cast<long long>(agree), static_cast<long long>(c.input[0]));
    if (infer::cpu_has_vnni()) {  // without VNNI the engine's weights are 7-bit (engine.h), the file's 8-bit
      EXPECT_LE(error, 2e-2);
      EXPECT_GE(agree, c.input[0] - 1);
    }
  }
  fs::remove_all(dir);
}

// ONNX Runtime (onnxruntime-node, all graph optimisations: it may fuse the Q/DQ pairs into int8 kernels)
// runs a file of the demo's family; its logits are the int8 engine's up to ORT's own roundings (measured
// 1.3e-3 of the largest logit). The whole Fashion-MNIST test set: tests/onnx/check_int8_ort.sh.
TEST(OnnxExportInt8, OnnxRuntimeRunsTheQdqFile) {
  auto model = filled_model(models::cifar_resnet(8, 10, 1)->spec());
  const Shape input{8, 1, 28, 28};
  const infer::Calibration calibration = calibrate(*model, input);
  const fs::path dir = fresh_dir("int8_ort");
  const std::string path = (dir / "resnet8_int8.onnx").string();
  onnx::export_onnx(*model, path, {.int8 = &calibration});
  const Tensor x = fill_input(input, 0.9);
  infer::Engine engine(*model, input, infer::Precision::int8, &calibration);
  const Tensor ours = engine.run(x).clone(Layout::contiguous);
  auto write_raw = [](const fs::path& file, const Tensor& t) {
    std::ofstream(file, std::ios::binary)
        .write(static_cast<const char*>(t.raw()), static_cast<std::streamsize>(t.nbytes()));
  };
  write_raw(dir / "x.raw", x);
  write_raw(dir / "expected.raw", ours);
  const nlohmann::json manifest = nlohmann::json::array({{{"onnx", path},
                                                          {"input", (dir / "x.raw").string()},
                                                          {"expected", (dir / "expected.raw").string()},
                                                          {"shape", {8, 1, 28, 28}}}});
  std::ofstream(dir / "manifest.json") << manifest.dump();
  const std::string src = RESNET_SOURCE_DIR;
  const auto env = run_command("bash " + src + "/tests/onnx/ort_env.sh " + RESNET_ORT_DIR);
  ASSERT_EQ(env.status, 0) << "could not provide ONNX Runtime (node + npm onnxruntime-node):\n" << env.text;
  const auto run = run_command("NODE_PATH=" + std::string(RESNET_ORT_DIR) + "/node_modules node " + src +
                               "/tests/onnx/ort_compare.js " + (dir / "manifest.json").string());
  ASSERT_EQ(run.status, 0) << run.text;
  const auto line = run.text.substr(run.text.find('{'));
  const auto r = nlohmann::json::parse(line.substr(0, line.find('\n')));
  const double error =
      r.at("max_abs_diff").get<double>() / std::max(r.at("max_abs_expected").get<double>(), 1e-30);
  std::printf("[ onnxruntime ] resnet8 int8 (QDQ) batch 8: max |diff| / max |logit| = %.2e\n", error);
  if (infer::cpu_has_vnni()) {
    EXPECT_LE(error, 5e-2);
  }
  fs::remove_all(dir);
}

TEST(OnnxExportInt8, RefusesPreActivationNetsAndForeignCalibrations) {
  models::ResNetSpec spec = small_spec(models::BlockKind::preact_basic);
  spec.imagenet_stem = false;
  auto preact = filled_model(spec);
  infer::Calibration calibration;
  const fs::path dir = fresh_dir("int8_refused");
  EXPECT_THROW(onnx::export_onnx(*preact, (dir / "p.onnx").string(), {.int8 = &calibration}), UserError);
  auto model = models::cifar_resnet(8, 10, 1);
  fill_module(*model);
  model->eval();
  calibration = calibrate(*model, {2, 1, 16, 16});
  calibration.ranges.erase("layer2.0.conv1");
  try {
    onnx::export_onnx(*model, (dir / "m.onnx").string(), {.int8 = &calibration});
    ADD_FAILURE() << "a calibration without layer2.0.conv1 was accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("layer2.0.conv1"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(OnnxExportInt8, CliNeedsACalibrationAndNamesQuantize) {
  const fs::path dir = fresh_dir("int8_cli");
  auto model = models::cifar_resnet(20, 10, 1);
  fill_module(*model);
  model->eval();
  const std::string weights = (dir / "w.safetensors").string(), onnx = (dir / "m.onnx").string();
  io::save_safetensors(weights, nn::state_dict(*model));
  const std::string args =
      "export --checkpoint " + weights + " --model resnet20 --classes 10 --in-channels 1 --onnx " + onnx;
  CliOutput out = run_cli(args + " --int8");
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_NE(out.text.find("resnet quantize"), std::string::npos) << out.text;
  out = run_cli(args + " --calibration " + (dir / "c.json").string());
  EXPECT_EQ(out.status, 2) << out.text;
  EXPECT_NE(out.text.find("--int8"), std::string::npos) << out.text;
  // With the calibration beside the weights (w.calibration.json), the default.
  infer::save_calibration(infer::default_calibration_path(weights), calibrate(*model, {2, 1, 28, 28}));
  out = run_cli(args + " --int8");
  ASSERT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find("int8"), std::string::npos) << out.text;
  const pb::ModelProto m = onnx::read_model(onnx);
  size_t quantize = 0;
  for (const auto& n : m.graph().node()) quantize += n.op_type() == "QuantizeLinear";
  EXPECT_EQ(quantize, 1u + 19 + 2);  // the input, 19 convs, 2 option-A shortcuts
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
