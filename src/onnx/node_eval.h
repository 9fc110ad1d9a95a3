// Internal: evaluates one ONNX node with resnet.cpp's ops — the executable meaning the importer gives each
// op it accepts, checked against the official ONNX backend node tests (tests/onnx/test_conformance.cpp),
// and the importer's constant folder.
//
// Supported (opset 13 semantics unless noted): Conv, BatchNormalization (inference), Relu, MaxPool,
// AveragePool, GlobalAveragePool, ReduceMean, Add (numpy broadcasting), Gemm, MatMul, Flatten, Reshape,
// Squeeze, Unsqueeze, Pad (constant/reflect/edge), Slice, Constant, Identity, Dropout (inference),
// Transpose, Shape (with opset-15 start/end), Gather, Concat; ConstantOfShape and Cast for constant
// folding (exporters compute Pad amounts with them). Conv/pool/BN run on the cpu (oneDNN) kernels.
// Beyond that list, QuantizeLinear and DequantizeLinear (uint8/int8, per tensor or per axis) to evaluate
// the exporter's int8 (QDQ) files in tests; the importer refuses them (a QDQ model is not a trainable net).
// Tensors: f32 data, i64 shapes and indices, u8/s8 quantised data (as tensor_from_proto reads them).
// Unsupported attributes (dilated or ceil-mode pooling, asymmetric pads, SAME padding that is not
// symmetric, training-mode BN, non-float data where arithmetic is needed) throw UserError naming `where`.
#pragma once

#include <string>
#include <vector>

#include "onnx/proto.h"

namespace resnet::onnx {

// `inputs` in the node's input order; an undefined Tensor stands for an absent optional input.
std::vector<Tensor> evaluate_node(const pb::NodeProto& node, const std::vector<Tensor>& inputs,
                                  const std::string& where);

// The op types evaluate_node knows: the one list the importer checks nodes against and the conformance
// test runs the official node tests of. `conformance_tested` is false for the ops that exist only for
// constant folding (ConstantOfShape, Cast), whose node tests use data types outside this importer's scope.
struct SupportedOp {
  const char* name;
  bool conformance_tested;
};
const std::vector<SupportedOp>& supported_ops();

// Whether evaluate_node knows the op type.
bool node_supported(const std::string& op_type);

}  // namespace resnet::onnx
