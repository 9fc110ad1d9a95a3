// Damaged or hostile ONNX files: every initializer's size is checked against the bytes present before
// anything is allocated, external data stays beside the model, constant folding is bounded.
#include <gtest/gtest.h>

#include <fstream>

#include "onnx/proto.h"
#include "onnx_test_util.h"
#include "resnet/onnx/import.h"

namespace resnet::testing {
namespace {

namespace pb = onnx::pb;

// A model whose graph holds only `initializer` (and optionally one node): import reads initializers first.
std::string write_model(const fs::path& dir, const pb::TensorProto& initializer,
                        const pb::NodeProto* node = nullptr) {
  pb::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("hostile");
  *g->add_initializer() = initializer;
  if (node) *g->add_node() = *node;
  const std::string path = (dir / "model.onnx").string();
  std::ofstream out(path, std::ios::binary);
  m.SerializeToOstream(&out);
  return path;
}

std::string import_error(const std::string& path) {
  try {
    onnx::import_onnx(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no UserError)";
}

pb::TensorProto float_tensor(const std::string& name, std::vector<int64_t> dims) {
  pb::TensorProto t;
  t.set_name(name);
  t.set_data_type(pb::TensorProto::FLOAT);
  for (int64_t d : dims) t.add_dims(d);
  return t;
}

TEST(OnnxImportHostile, InitializerClaimingMoreElementsThanItsBytesIsRefusedBeforeAllocating) {
  const fs::path dir = fresh_dir("hostile_init");
  // 10^12 floats declared, 16 bytes of raw_data present: once a 4 TB allocation (std::bad_alloc).
  pb::TensorProto t = float_tensor("layer1.0.conv1.weight", {1000000, 1000000});
  t.set_raw_data(std::string(16, '\0'));
  std::string path = write_model(dir, t);
  std::string msg = import_error(path);
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("'layer1.0.conv1.weight' holds 4 values where its shape [1000000, 1000000] needs "
                     "1000000000000"),
            std::string::npos)
      << msg;
  // The same with typed data (float_data).
  t.clear_raw_data();
  for (int i = 0; i < 3; ++i) t.add_float_data(1.0f);
  path = write_model(dir, t);
  msg = import_error(path);
  EXPECT_NE(msg.find("holds 3 values where its shape [1000000, 1000000] needs"), std::string::npos) << msg;
  // raw_data that is not a whole number of values.
  t = float_tensor("w", {2});
  t.set_raw_data(std::string(7, '\0'));
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("tensor 'w' holds 1 values where its shape [2] needs 2"), std::string::npos) << msg;
  // Dimensions whose product overflows, and negative ones.
  t = float_tensor("w", {int64_t{1} << 62, 8});
  t.set_raw_data(std::string(16, '\0'));
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("tensor 'w' has dimensions [4611686018427387904, 8] whose element count overflows"),
            std::string::npos)
      << msg;
  t = float_tensor("w", {-4});
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("tensor 'w' has a negative dimension (-4)"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(OnnxImportHostile, ExternalDataMustLieBesideTheModelAndHaveNumericOffsets) {
  const fs::path dir = fresh_dir("hostile_external");
  pb::TensorProto t = float_tensor("w", {2});
  t.set_data_location(pb::TensorProto::EXTERNAL);
  auto* location = t.add_external_data();
  location->set_key("location");
  location->set_value("../../etc/passwd");
  std::string msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("external data location '../../etc/passwd'"), std::string::npos) << msg;
  location->set_value("/etc/passwd");
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("a relative path without '..'"), std::string::npos) << msg;
  std::ofstream(dir / "weights.bin", std::ios::binary) << std::string(8, '\0');
  location->set_value("weights.bin");
  auto* offset = t.add_external_data();
  offset->set_key("offset");
  offset->set_value("eight");  // std::stoll threw std::invalid_argument
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("external data offset 'eight', not a non-negative integer"), std::string::npos) << msg;
  offset->set_value("9223372036854775807");  // offset + length overflowed
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("is shorter (8 bytes) than the model says"), std::string::npos) << msg;
  offset->set_value("0");
  location->set_value(".");  // a directory
  msg = import_error(write_model(dir, t));
  EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(OnnxImportHostile, ConstantFoldingRefusesHugeOutputs) {
  const fs::path dir = fresh_dir("hostile_fold");
  pb::TensorProto shape;
  shape.set_name("shape");
  shape.set_data_type(pb::TensorProto::INT64);
  shape.add_dims(2);
  for (int64_t d : {int64_t{1} << 20, int64_t{1} << 20}) shape.add_int64_data(d);
  pb::NodeProto n;
  n.set_op_type("ConstantOfShape");
  n.set_name("fill");
  n.add_input("shape");
  n.add_output("filled");
  std::string msg = import_error(write_model(dir, shape, &n));
  EXPECT_NE(msg.find("ConstantOfShape node 'fill'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("an output of shape [1048576, 1048576] is beyond the"), std::string::npos) << msg;
  // A Reshape of a constant to a shape whose element count overflows (found by fuzz_onnx: signed overflow
  // while inferring the -1), and to a negative one.
  pb::TensorProto target;
  target.set_name("target");
  target.set_data_type(pb::TensorProto::INT64);
  target.add_dims(3);
  for (int64_t d : {int64_t{1} << 40, int64_t{1} << 40, int64_t{-1}}) target.add_int64_data(d);
  pb::NodeProto reshape;
  reshape.set_op_type("Reshape");
  reshape.set_name("reshape");
  reshape.add_input("target");
  reshape.add_input("target");
  reshape.add_output("reshaped");
  msg = import_error(write_model(dir, target, &reshape));
  EXPECT_NE(msg.find("Reshape node 'reshape'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the target shape's element count overflows"), std::string::npos) << msg;
  target.set_int64_data(0, -3);
  msg = import_error(write_model(dir, target, &reshape));
  EXPECT_NE(msg.find("negative dimension -3 in the target shape"), std::string::npos) << msg;
  fs::remove_all(dir);
}

TEST(OnnxImportHostile, NodesWithoutTheirInputsOrOutputsAreRefused) {
  // Found by fuzz_onnx: an Identity node without outputs ended in protobuf's FatalException.
  const fs::path dir = fresh_dir("hostile_nodes");
  pb::TensorProto t = float_tensor("w", {1});
  t.add_float_data(1.0f);
  pb::NodeProto n;
  n.set_op_type("Identity");
  n.set_name("id");
  n.add_input("x");
  std::string msg = import_error(write_model(dir, t, &n));
  EXPECT_NE(msg.find("Identity node 'id' (#0): has 1 inputs and 0 outputs"), std::string::npos) << msg;
  n.set_op_type("Add");
  n.add_output("y");
  msg = import_error(write_model(dir, t, &n));
  EXPECT_NE(msg.find("Add needs at least 2 inputs"), std::string::npos) << msg;
  // Found by fuzz_onnx: a Constant with an input that is no constant ended in std::out_of_range.
  n.set_op_type("Constant");
  msg = import_error(write_model(dir, t, &n));
  EXPECT_NE(msg.find("input 'x' of a Constant is not a constant"), std::string::npos) << msg;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace resnet::testing
