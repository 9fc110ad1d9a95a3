// A restricted unpickler: enough of Python's pickle to read what torch.save writes for a state_dict, and
// nothing that can run code.
//
// Pickle is a program for a small stack machine whose GLOBAL + REDUCE opcodes call any importable Python
// function (os.system, builtins.eval, …): a .pth file is code. This VM executes none of it. It knows the
// data opcodes of protocols 2–5 (what torch.save emits, protocol 2, plus the binary opcodes of later
// protocols) and accepts only these globals, each interpreted here, never looked up:
//   collections.OrderedDict                      an empty dict (called with no arguments)
//   torch._utils._rebuild_tensor_v2 / _rebuild_tensor   a TensorRef (storage, offset, size, stride)
//   torch._utils._rebuild_parameter (+ _with_state)     the tensor it wraps (nn.Parameter)
//   torch.Size                                   its tuple
//   torch.<Float|Half|BFloat16|Double|Long|Int|Short|Char|Byte|Bool>Storage
//                                                a storage type inside a persistent id
// Any other global throws UserError naming it and the source, before anything else happens.
// BUILD on a dict (OrderedDict's attributes, e.g. state_dict()._metadata) is accepted and ignored.
//
// Persistent ids (BINPERSID) must be torch's storage records ('storage', type, key, location, numel
// [, view_metadata]); they become StorageRefs. Nothing is read from the storages here: the caller checks
// each TensorRef against the storage bytes (pth.h).
//
// Limits (Limits below): container nesting depth, stack size, memo size, number of objects. A container is
// frozen once it is placed inside another one, so nesting depths are exact and no cycle can be built
// (a pickle that mutates a nested container is refused; torch.save never writes one).
// Malformed input (truncation, unknown opcode, wrong argument types, out-of-range memo index) throws
// UserError naming the source, the byte offset and the problem. Never reads outside `bytes`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace resnet::io::pickle {

// Element types of torch storages.
enum class ScalarType { f32, f16, bf16, f64, i64, i32, i16, i8, u8, boolean };
size_t scalar_size(ScalarType type);
const char* scalar_name(ScalarType type);  // "float32", "float16", …

struct StorageRef {
  std::string key;  // record name: archive/data/<key> (zip) or the key in the legacy storage list
  ScalarType type = ScalarType::f32;
  int64_t numel = 0;        // elements, as the persistent id says
  int64_t view_offset = 0;  // legacy storage views: elements into the root storage `key`
};

struct TensorRef {
  StorageRef storage;
  int64_t offset = 0;  // in elements
  std::vector<int64_t> size, stride;
};

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind { none, boolean, integer, real, string, bytes, tuple, list, dict, global, storage, tensor };
  Kind kind = Kind::none;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;                                    // string, bytes, global ("module.name")
  std::vector<ValuePtr> items;                         // tuple, list
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // dict, in insertion order
  std::unordered_map<std::string, size_t>
      entry_index;     // dict: key ("s:name", "i:42", "b:…") -> entries index
  StorageRef storage;  // storage (the persistent id's storage type for global)
  TensorRef tensor;
  int depth = 0;        // nesting depth: 0 for scalars
  bool frozen = false;  // placed inside another container: no longer mutable

  bool is_dict() const { return kind == Kind::dict; }
  // The dict value under string key `key`, or null.
  const Value* find(const std::string& key) const;
};

const char* kind_name(Value::Kind kind);

struct Limits {
  int max_depth = 100;         // container nesting
  size_t max_stack = 1 << 20;  // stack entries plus marks
  size_t max_memo = 1 << 20;   // memo entries
  size_t max_objects = 1 << 24;
};

struct Unpickled {
  ValuePtr root;
  size_t end = 0;  // offset just past the STOP opcode (legacy files hold several pickles in a row)
  std::vector<StorageRef> storages;  // every persistent id loaded, in order
};

// Runs one pickle from `bytes`. `source` names the file in errors (e.g. "model.pth (archive/data.pkl)").
Unpickled unpickle(std::span<const uint8_t> bytes, const std::string& source, const Limits& limits = {});

}  // namespace resnet::io::pickle
