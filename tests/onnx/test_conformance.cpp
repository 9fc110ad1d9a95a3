// The official ONNX backend node tests (Debian libonnx-testdata 1.12: /usr/share/libonnx-testdata/data/node)
// for every op the importer claims, executed by our node evaluator (src/onnx/node_eval.cpp, on the cpu
// kernels): each single-node model.onnx is run on every test_data_set_*/input_*.pb and its outputs compared
// with output_*.pb.
//
// Tolerance: |ours − expected| ≤ 1e-5 + 1e-4·|expected| per element for float outputs (f32 kernels with other
// summation orders than numpy's; ONNX's own runner allows rtol 1e-3); integer outputs exactly.
//
// A case whose attributes or types resnet.cpp deliberately does not support must be rejected with a
// UserError, and must be listed in kOutOfScope with the reason (docs/interchange-onnx.md repeats the
// list): a case that starts passing, or a new failure, makes the test fail.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "onnx/node_eval.h"
#include "onnx/proto.h"

namespace resnet::onnx {
namespace {

namespace fs = std::filesystem;

// The ops the importer claims, from its own list (ConstantOfShape and Cast serve constant folding only),
// and the two the evaluator knows for checking int8 exports without the importer accepting them.
const std::set<std::string> kClaimedOps = [] {
  std::set<std::string> ops{"QuantizeLinear", "DequantizeLinear"};
  for (const SupportedOp& op : supported_ops())
    if (op.conformance_tested) ops.insert(op.name);
  return ops;
}();

// Cases of claimed ops that resnet.cpp rejects on purpose, with the reason.
const std::map<std::string, std::string> kOutOfScope{
#include "conformance_out_of_scope.inc"
};

pb::TensorProto read_tensor_pb(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  pb::TensorProto t;
  if (!t.ParseFromString(bytes)) throw UserError("'" + path.string() + "' is not a TensorProto");
  return t;
}

struct Outcome {
  bool passed = false, rejected = false;
  std::string detail;
};

// Runs one test directory. Returns rejected with the UserError's text when we refuse it.
Outcome run_case(const fs::path& dir) {
  Outcome o;
  try {
    const auto model = read_model((dir / "model.onnx").string());
    const auto& g = model.graph();
    const auto& node = g.node(0);
    std::map<std::string, Tensor> values;
    for (const auto& t : g.initializer()) values[t.name()] = tensor_from_proto(t, t.name(), dir.string());
    std::vector<std::string> inputs;
    for (const auto& in : g.input()) {
      if (values.count(in.name())) continue;
      if (!in.type().has_tensor_type()) throw UserError("a non-tensor (sequence/optional) input");
      inputs.push_back(in.name());
    }
    int sets = 0;
    for (const auto& set : fs::directory_iterator(dir)) {
      if (!set.is_directory() || set.path().filename().string().rfind("test_data_set_", 0) != 0) continue;
      ++sets;
      for (size_t k = 0; k < inputs.size(); ++k)
        values[inputs[k]] = tensor_from_proto(
            read_tensor_pb(set.path() / ("input_" + std::to_string(k) + ".pb")), inputs[k], dir.string());
      std::vector<Tensor> args;
      for (const auto& name : node.input()) args.push_back(name.empty() ? Tensor() : values.at(name));
      const auto outs = evaluate_node(node, args, dir.filename().string());
      for (int k = 0; k < g.output_size(); ++k) {
        const Tensor expected = tensor_from_proto(
            read_tensor_pb(set.path() / ("output_" + std::to_string(k) + ".pb")), "output", dir.string());
        if (k >= static_cast<int>(outs.size())) {
          o.detail = "output " + std::to_string(k) + " missing";
          return o;
        }
        const Tensor& got = outs[k];
        if (got.shape() != expected.shape() || got.dtype() != expected.dtype()) {
          o.detail = "output " + std::to_string(k) + ": " + got.str() + " vs expected " + expected.str();
          return o;
        }
        for (int64_t i = 0; i < got.numel(); ++i) {
          const double a = got.get_flat(i), e = expected.get_flat(i);
          const bool ok = expected.dtype() == DType::f32 || expected.dtype() == DType::f64
                              ? std::abs(a - e) <= 1e-5 + 1e-4 * std::abs(e)
                              : a == e;
          if (!ok) {
            o.detail = "output " + std::to_string(k) + " element " + std::to_string(i) + ": " +
                       std::to_string(a) + " vs expected " + std::to_string(e);
            return o;
          }
        }
      }
    }
    o.passed = sets > 0;
    if (!sets) o.detail = "no test_data_set_*";
  } catch (const UserError& e) {
    o.rejected = true;
    o.detail = e.what();
  }
  return o;
}

TEST(OnnxConformance, OfficialNodeTestsOfEveryClaimedOp) {
  const fs::path root = RESNET_ONNX_NODE_TESTS;
  if (!fs::is_directory(root))
    GTEST_SKIP()
        << "\n\n*** ONNX node tests not found at " << root
        << ": install Debian's libonnx-testdata (scripts/setup.sh does) — CONFORMANCE NOT CHECKED ***\n";
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(root))
    if (e.is_directory()) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  int passed = 0, out_of_scope = 0;
  std::string passed_names;
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    const std::string name = dir.filename().string();
    pb::ModelProto model;
    try {
      model = read_model((dir / "model.onnx").string());
    } catch (const UserError&) {
      continue;
    }
    if (model.graph().node_size() != 1 || !kClaimedOps.count(model.graph().node(0).op_type())) continue;
    seen.insert(name);
    const Outcome o = run_case(dir);
    const auto listed = kOutOfScope.find(name);
    if (listed != kOutOfScope.end()) {
      EXPECT_TRUE(o.rejected) << name << " is listed out of scope (" << listed->second << ") but "
                              << (o.passed ? "now passes: remove it from the list" : "fails: " + o.detail);
      out_of_scope += o.rejected;
      continue;
    }
    EXPECT_TRUE(o.passed) << name << ": " << (o.rejected ? "rejected: " : "") << o.detail;
    passed += o.passed;
    if (o.passed) passed_names += " " + name;
  }
  for (const auto& [name, reason] : kOutOfScope)
    EXPECT_TRUE(seen.count(name)) << name << " listed but not found";
  std::printf("[ conformance ] passed:%s\n", passed_names.c_str());
  std::printf("[ conformance ] %d ONNX node tests pass, %d out of scope (rejected with a clear error)\n",
              passed, out_of_scope);
  EXPECT_GT(passed, 100);
}

}  // namespace
}  // namespace resnet::onnx
