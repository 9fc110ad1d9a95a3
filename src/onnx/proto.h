// Internal: the ONNX protobuf classes (Debian's libonnx-dev, onnx/onnx_pb.h) and our tensors. Only the
// files under src/onnx see protobuf; the public headers speak Tensor and ResNetSpec.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "resnet/core/tensor.h"

namespace resnet::onnx {

namespace pb = ::onnx;

// Parses an ONNX model file. Throws UserError naming the file when it is missing or not an ONNX model.
pb::ModelProto read_model(const std::string& path);

// An initializer / Constant value / test-data tensor as ours. FLOAT → f32, DOUBLE → f64, INT64/INT32 →
// i64 (indices and shapes), BOOL/UINT8 → u8, INT8 → s8. Data from raw_data, the typed fields or external data
// (a file beside `model_path`). Other types throw UserError naming `where` and the file.
Tensor tensor_from_proto(const pb::TensorProto& t, const std::string& where, const std::string& model_path);

// Fills `t` (name, dims, data type, little-endian raw_data) from an f32, i64, s8 or u8 tensor of ours.
void tensor_to_proto(const std::string& name, const Tensor& value, pb::TensorProto* t);

// Attributes by name; `fallback` when absent.
const pb::AttributeProto* find_attribute(const pb::NodeProto& node, const std::string& name);
int64_t attribute_int(const pb::NodeProto& node, const std::string& name, int64_t fallback);
float attribute_float(const pb::NodeProto& node, const std::string& name, float fallback);
std::string attribute_string(const pb::NodeProto& node, const std::string& name, const std::string& fallback);
std::vector<int64_t> attribute_ints(const pb::NodeProto& node, const std::string& name,
                                    const std::vector<int64_t>& fallback = {});

// "Conv node 'layer1.0.conv1' (#12)" — how errors name a node.
std::string describe_node(const pb::NodeProto& node, int index);

}  // namespace resnet::onnx
