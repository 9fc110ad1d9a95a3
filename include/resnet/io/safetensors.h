// safetensors, the weights format of Hugging Face and timm:
//   [u64 little-endian header length N][N bytes of JSON header][raw tensor data]
//   header: { "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
//             "__metadata__": {"key": "value", …} }   offsets relative to the data section.
// Loading memory-maps the file and validates the header against the file size before trusting anything:
// every range inside the data section, sizes matching dtype × shape, no overlaps. Problems throw UserError
// naming the file and the fault. F16 is converted to f32 on load; other dtypes map one to one
// (F32 F64 BF16 I8 U8 I32 I64). Saving writes atomically (temporary file, fsync, rename).
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "resnet/core/tensor.h"

namespace resnet::io {

struct TensorFile {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in data-offset order
  std::map<std::string, std::string> metadata;

  const Tensor* find(const std::string& name) const;
  // Like find, but throws UserError naming the file and the missing tensor.
  const Tensor& at(const std::string& name) const;
  std::string path;
};

TensorFile load_safetensors(const std::string& path);
// The same from bytes already in memory (tensors view `bytes` where alignment allows); `path` only names
// the source in errors. The fuzz target drives this.
TensorFile parse_safetensors(std::shared_ptr<Storage> bytes, const std::string& path);
// How f32 tensors are stored (others are stored as they are): as_is, or halved to F16 / BF16.
enum class FloatStorage { as_is, f16, bf16 };
void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {},
                      FloatStorage float_storage = FloatStorage::as_is);

}  // namespace resnet::io
