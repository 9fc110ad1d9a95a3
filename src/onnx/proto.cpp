#include "onnx/proto.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "resnet/core/check.h"

namespace resnet::onnx {
namespace {

std::string read_bytes(const std::string& path, int64_t offset, int64_t length, const std::string& what) {
  if (!std::filesystem::is_regular_file(path))
    throw UserError("cannot open " + what + " '" + path + "': it does not exist or is not a regular file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot open " + what + " '" + path + "' (does it exist and is it readable?)");
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  if (size < 0) throw UserError("cannot read " + what + " '" + path + "' (is it a regular file?)");
  if (offset < 0 || offset > size)
    length = -2;  // refused below
  else if (length < 0)
    length = size - offset;
  if (length < 0 || length > size - offset)
    throw UserError(what + " '" + path + "' is shorter (" + std::to_string(size) +
                    " bytes) than the model says: regenerate or re-download it");
  std::string bytes(static_cast<size_t>(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  return bytes;
}

}  // namespace

pb::ModelProto read_model(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw UserError("ONNX file '" + path + "' does not exist (give the path of a .onnx model)");
  const std::string bytes = read_bytes(path, 0, -1, "ONNX file");
  pb::ModelProto model;
  if (!model.ParseFromString(bytes) || !model.has_graph())
    throw UserError("'" + path +
                    "' is not an ONNX model (the protobuf does not parse as onnx.ModelProto): is it "
                    "truncated, or another format?");
  return model;
}

Tensor tensor_from_proto(const pb::TensorProto& t, const std::string& where, const std::string& model_path) {
  Shape shape;
  if (t.dims_size() > kMaxDims)
    throw UserError("'" + model_path + "': tensor " + where + " has " + std::to_string(t.dims_size()) +
                    " dimensions; at most " + std::to_string(kMaxDims) + " are supported");
  // The element count is checked for overflow here and against the values actually present below, before
  // anything is allocated: a tensor claiming 10^12 elements in a small file is damage, not a bad_alloc.
  int64_t n = 1;
  for (int64_t d : t.dims()) {
    if (d < 0)
      throw UserError("'" + model_path + "': tensor " + where + " has a negative dimension (" +
                      std::to_string(d) + "): the file is damaged; re-export it");
    shape.push_back(d);
    if (__builtin_mul_overflow(n, d, &n))
      throw UserError("'" + model_path + "': tensor " + where + " has dimensions " + shape.str() +
                      " whose element count overflows 64 bits: the file is damaged; re-export it");
  }
  DType dtype;
  size_t source_size;
  switch (t.data_type()) {
    case pb::TensorProto::FLOAT:
      dtype = DType::f32, source_size = 4;
      break;
    case pb::TensorProto::DOUBLE:
      dtype = DType::f64, source_size = 8;
      break;
    case pb::TensorProto::INT64:
      dtype = DType::i64, source_size = 8;
      break;
    case pb::TensorProto::INT32:
      dtype = DType::i64, source_size = 4;
      break;
    case pb::TensorProto::BOOL:
    case pb::TensorProto::UINT8:
      dtype = DType::u8, source_size = 1;
      break;
    case pb::TensorProto::INT8:
      dtype = DType::s8, source_size = 1;
      break;
    default:
      throw UserError(
          "'" + model_path + "': tensor " + where + " has ONNX data type " + std::to_string(t.data_type()) +
          ", which resnet.cpp does not read (float, double, int64, int32, bool, uint8, int8 only)");
  }
  std::string raw;
  bool has_raw = t.has_raw_data();
  if (t.data_location() == pb::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    auto number = [&](const std::string& key, const std::string& value) {
      int64_t v = 0;
      size_t used = 0;
      try {
        v = std::stoll(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != value.size() || v < 0)
        throw UserError("'" + model_path + "': tensor " + where + " has external data " + key + " '" + value +
                        "', not a non-negative integer: the file is damaged; re-export it");
      return v;
    };
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") location = kv.value();
      if (kv.key() == "offset") offset = number("offset", kv.value());
      if (kv.key() == "length") length = number("length", kv.value());
    }
    // The data file must lie beside the model (or below it): no absolute paths, no "..".
    const std::filesystem::path relative(location);
    const bool escapes =
        std::any_of(relative.begin(), relative.end(), [](const auto& p) { return p == ".."; });
    if (location.empty() || relative.is_absolute() || escapes)
      throw UserError("'" + model_path + "': tensor " + where + " has external data location '" + location +
                      "'; it must name a file in the model's directory (a relative path without '..')");
    const auto file = std::filesystem::path(model_path).parent_path() / relative;
    raw = read_bytes(file.string(), offset, length, "external data file of '" + model_path + "'");
    has_raw = true;
  } else if (has_raw) {
    raw = t.raw_data();
  }
  auto mismatch = [&](int64_t got) {
    return UserError("'" + model_path + "': tensor " + where + " holds " + std::to_string(got) +
                     " values where its shape " + shape.str() + " needs " + std::to_string(n) +
                     ": the file is damaged; re-export it");
  };
  int64_t present = 0;  // values in the file
  if (has_raw) {
    present = static_cast<int64_t>(raw.size() / source_size);
    if (raw.size() % source_size != 0) throw mismatch(present);
  } else {
    switch (t.data_type()) {
      case pb::TensorProto::FLOAT:
        present = t.float_data_size();
        break;
      case pb::TensorProto::DOUBLE:
        present = t.double_data_size();
        break;
      case pb::TensorProto::INT64:
        present = t.int64_data_size();
        break;
      default:
        present = t.int32_data_size();
    }
  }
  if (present != n) throw mismatch(present);
  Tensor out = Tensor::empty(shape, dtype);
  if (has_raw) {
    if (t.data_type() == pb::TensorProto::INT32) {
      for (int64_t i = 0; i < n; ++i) {
        int32_t v;
        std::memcpy(&v, raw.data() + 4 * i, 4);
        out.data<int64_t>()[i] = v;
      }
    } else {
      std::memcpy(out.raw(), raw.data(), raw.size());
    }
    return out;
  }
  switch (t.data_type()) {
    case pb::TensorProto::FLOAT:
      if (t.float_data_size() != n) throw mismatch(t.float_data_size());
      std::copy(t.float_data().begin(), t.float_data().end(), out.data<float>());
      break;
    case pb::TensorProto::DOUBLE:
      if (t.double_data_size() != n) throw mismatch(t.double_data_size());
      std::copy(t.double_data().begin(), t.double_data().end(), out.data<double>());
      break;
    case pb::TensorProto::INT64:
      if (t.int64_data_size() != n) throw mismatch(t.int64_data_size());
      std::copy(t.int64_data().begin(), t.int64_data().end(), out.data<int64_t>());
      break;
    default:  // INT32, BOOL, UINT8, INT8 live in int32_data
      if (t.int32_data_size() != n) throw mismatch(t.int32_data_size());
      for (int64_t i = 0; i < n; ++i) {
        if (dtype == DType::i64)
          out.data<int64_t>()[i] = t.int32_data(i);
        else if (dtype == DType::s8)
          out.data<int8_t>()[i] = static_cast<int8_t>(t.int32_data(i));
        else
          out.data<uint8_t>()[i] = static_cast<uint8_t>(t.int32_data(i));
      }
  }
  return out;
}

void tensor_to_proto(const std::string& name, const Tensor& value, pb::TensorProto* t) {
  t->set_name(name);
  for (int i = 0; i < value.ndim(); ++i) t->add_dims(value.size(i));
  switch (value.dtype()) {
    case DType::f32:
      t->set_data_type(pb::TensorProto::FLOAT);
      break;
    case DType::i64:
      t->set_data_type(pb::TensorProto::INT64);
      break;
    case DType::s8:
      t->set_data_type(pb::TensorProto::INT8);
      break;
    case DType::u8:
      t->set_data_type(pb::TensorProto::UINT8);
      break;
    default:
      RESNET_CHECK(false) << "no ONNX initializer for " << value.str();
  }
  const Tensor dense = value.is_contiguous() ? value : value.clone(Layout::contiguous);
  t->set_raw_data(dense.raw(), dense.nbytes());  // x86-64 is little-endian, as ONNX's raw_data
}

const pb::AttributeProto* find_attribute(const pb::NodeProto& node, const std::string& name) {
  for (const auto& a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attribute_int(const pb::NodeProto& node, const std::string& name, int64_t fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->i() : fallback;
}

float attribute_float(const pb::NodeProto& node, const std::string& name, float fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->f() : fallback;
}

std::string attribute_string(const pb::NodeProto& node, const std::string& name,
                             const std::string& fallback) {
  const auto* a = find_attribute(node, name);
  return a ? a->s() : fallback;
}

std::vector<int64_t> attribute_ints(const pb::NodeProto& node, const std::string& name,
                                    const std::vector<int64_t>& fallback) {
  const auto* a = find_attribute(node, name);
  return a ? std::vector<int64_t>(a->ints().begin(), a->ints().end()) : fallback;
}

std::string describe_node(const pb::NodeProto& node, int index) {
  std::ostringstream s;
  s << node.op_type() << " node '" << (node.name().empty() ? "(unnamed)" : node.name()) << "' (#" << index
    << ")";
  return s.str();
}

}  // namespace resnet::onnx
