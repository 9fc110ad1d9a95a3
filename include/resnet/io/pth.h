// PyTorch checkpoints (.pth / .pt files written by torch.save) read without Python.
//
// Formats
//  - zip (torch >= 1.6): records <archive>/data.pkl (the pickle), <archive>/data/<key> (raw little-endian
//    storages), <archive>/version, optionally <archive>/byteorder (must be "little");
//  - legacy (torch < 1.6, or _use_new_zipfile_serialization=False): pickles of the magic number, the
//    protocol version (1001) and sys_info (little-endian required), then the object, then the list of
//    storage keys, then per key an int64 element count and the raw storage.
// The pickle is run by the restricted unpickler (pickle.h): any global other than the few a state_dict
// needs is refused with an error naming it — a malicious checkpoint gets an error, never runs.
//
// What comes out: the tensors of one state_dict, in file order, each a dense contiguous copy (shared
// storages and non-contiguous views — any strides, including 0 — are materialised), as
//   float32 → f32, float16 → f32 (exact), bfloat16 → bf16, float64 → f64, int64 → i64, int32 → s32,
//   int16 → s32, int8 → s8, uint8 and bool → u8.
// Every tensor is checked against its storage first: offset, sizes and strides non-negative, the last
// element inside the storage, the storage inside its record (no overflow). Up to kMaxDims dimensions.
//
// Which dict: with PthOptions::key, that entry of the top-level dict ("a/b" descends into nested dicts).
// Otherwise the top-level dict when it holds tensors; else the first of "state_dict", "model_state_dict",
// "model", "net", "network", "weights", "params", "module" that is a dict holding tensors; else the only
// dict holding tensors up to three levels down, e.g. "model/state_dict" (several → UserError listing their
// key paths, suggesting --key). Non-tensor
// entries of the chosen dict are skipped with a note. When every name starts with "module." (DataParallel)
// the prefix is stripped, with a note.
//
// Errors throw UserError naming the file, the problem and the fix.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "resnet/core/tensor.h"

namespace resnet::io {

struct PthOptions {
  std::string key;  // the entry holding the state_dict; "" = find it
  bool keep_module_prefix = false;
};

struct PthFile {
  std::string path;
  std::string format;  // "zip" or "legacy"
  std::string key;     // where the state_dict was found ("" = the top level)
  std::vector<std::pair<std::string, Tensor>> tensors;
  std::vector<std::string> notes;  // what was done beyond copying (prefix stripped, entries skipped, …)
};

PthFile load_pth(const std::string& path, const PthOptions& options = {});
// The same from bytes in memory; `path` only names the source in errors. The fuzz target drives this.
PthFile parse_pth(std::span<const uint8_t> bytes, const std::string& path, const PthOptions& options = {});

}  // namespace resnet::io
