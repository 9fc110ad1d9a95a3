#include "resnet/io/pth.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>

#include "resnet/io/pickle.h"
#include "zip_archive.h"

namespace resnet::io {
namespace {

using pickle::ScalarType;
using pickle::TensorRef;
using pickle::Value;
using Kind = Value::Kind;

// The legacy format's first pickle: LONG1 0x1950a86a20f9469cfc6c (torch.serialization.MAGIC_NUMBER).
constexpr uint8_t kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                    0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e};
constexpr int64_t kMaxElements = int64_t{1} << 40;

// Where each storage's bytes are: key -> bytes (zip: read on demand; legacy: inside the file).
using StorageBytes = std::map<std::string, std::span<const uint8_t>>;

DType output_dtype(ScalarType t) {
  switch (t) {
    case ScalarType::f32:
    case ScalarType::f16:
      return DType::f32;
    case ScalarType::bf16:
      return DType::bf16;
    case ScalarType::f64:
      return DType::f64;
    case ScalarType::i64:
      return DType::i64;
    case ScalarType::i32:
    case ScalarType::i16:
      return DType::s32;
    case ScalarType::i8:
      return DType::s8;
    case ScalarType::u8:
    case ScalarType::boolean:
      return DType::u8;
  }
  return DType::f32;
}

// Copies one element of type `t` at `src` into `dst` of output_dtype(t).
void convert_element(ScalarType t, const uint8_t* src, uint8_t* dst) {
  switch (t) {
    case ScalarType::f16: {
      uint16_t h;
      std::memcpy(&h, src, 2);
      const float f = f16_to_f32(h);
      std::memcpy(dst, &f, 4);
      return;
    }
    case ScalarType::i16: {
      int16_t s;
      std::memcpy(&s, src, 2);
      const int32_t v = s;
      std::memcpy(dst, &v, 4);
      return;
    }
    case ScalarType::boolean:
      *dst = *src ? 1 : 0;
      return;
    default:
      std::memcpy(dst, src, pickle::scalar_size(t));
  }
}

// Checks `ref` against the storage bytes, then copies it into a dense contiguous tensor.
Tensor materialise(const TensorRef& ref, std::span<const uint8_t> storage, const std::string& where) {
  const auto fail = [&](const std::string& problem) -> Tensor {
    throw UserError(where + ": " + problem +
                    ": the checkpoint is damaged or forged; save it again with torch.save");
  };
  const size_t elem = pickle::scalar_size(ref.storage.type);
  const int ndim = static_cast<int>(ref.size.size());
  if (ndim > kMaxDims)
    return fail(std::to_string(ndim) + " dimensions (at most " + std::to_string(kMaxDims) +
                " are supported)");
  if (ref.offset < 0 || ref.storage.view_offset < 0 || ref.storage.numel < 0)
    return fail("a negative storage offset or size");
  if (ref.storage.numel > kMaxElements || ref.storage.view_offset > kMaxElements)
    return fail("a storage of more than 2^40 elements");
  int64_t numel = 1, last = ref.offset;
  for (int d = 0; d < ndim; ++d) {
    if (ref.size[d] < 0 || ref.stride[d] < 0) return fail("a negative size or stride");
    if (ref.size[d] > kMaxElements || ref.stride[d] > kMaxElements || ref.offset > kMaxElements)
      return fail("a size, stride or offset beyond 2^40 elements");
    numel *= ref.size[d];
    if (numel > kMaxElements) return fail("more than 2^40 elements");
  }
  if (numel > 0)
    for (int d = 0; d < ndim; ++d) {
      last += (ref.size[d] - 1) * ref.stride[d];
      if (last > kMaxElements) return fail("an element beyond 2^40");
    }
  if (numel > 0 && last >= ref.storage.numel)
    return fail("the tensor reaches element " + std::to_string(last) + " of a storage of " +
                std::to_string(ref.storage.numel) + " elements");
  const uint64_t storage_end = static_cast<uint64_t>(ref.storage.view_offset + ref.storage.numel) * elem;
  if (storage_end > storage.size())
    return fail("its storage needs " + std::to_string(storage_end) + " bytes, the file holds " +
                std::to_string(storage.size()));

  // Views that repeat elements (stride 0, as expand() makes) may grow past their storage, but only so far:
  // a forged 2^40-element view of one float must not allocate terabytes.
  constexpr int64_t kMaxRepeatedElements = int64_t{1} << 24;
  if (numel > ref.storage.numel && numel > kMaxRepeatedElements)
    return fail(std::to_string(numel) + " elements viewing a storage of " +
                std::to_string(ref.storage.numel) +
                " (repeating views are materialised only up to 2^24 elements)");
  Shape shape;
  for (int64_t s : ref.size) shape.push_back(s);
  const DType out_type = output_dtype(ref.storage.type);
  Tensor out = Tensor::empty(shape, out_type);
  if (numel == 0) return out;
  const uint8_t* base = storage.data() + (ref.storage.view_offset + ref.offset) * elem;
  uint8_t* dst = static_cast<uint8_t*>(out.raw());
  const size_t out_elem = dtype_size(out_type);
  bool contiguous = true;
  int64_t expect = 1;  // sizes are checked above, so the running product stays <= 2^40
  for (int d = ndim - 1; d >= 0; --d) {
    if (ref.size[d] != 1 && ref.stride[d] != expect) contiguous = false;
    expect *= ref.size[d];
  }
  if (contiguous && out_elem == elem && ref.storage.type != ScalarType::boolean) {
    if (numel) std::memcpy(dst, base, static_cast<size_t>(numel) * elem);
    return out;
  }
  std::vector<int64_t> index(static_cast<size_t>(ndim), 0);
  int64_t src = 0;
  for (int64_t i = 0; i < numel; ++i) {
    convert_element(ref.storage.type, base + src * elem, dst + i * out_elem);
    for (int d = ndim - 1; d >= 0; --d) {  // odometer over the logical index
      if (++index[d] < ref.size[d]) {
        src += ref.stride[d];
        break;
      }
      src -= (ref.size[d] - 1) * ref.stride[d];
      index[d] = 0;
    }
  }
  return out;
}

bool holds_tensors(const Value& v) {
  if (!v.is_dict()) return false;
  return std::any_of(v.entries.begin(), v.entries.end(),
                     [](const auto& e) { return e.second->kind == Kind::tensor; });
}

std::string key_text(const Value& k) {
  return k.kind == Kind::integer ? std::to_string(k.integer) : k.text;
}

// Appends 'name' to a comma-separated list.
void append_quoted(std::string& list, const std::string& name) {
  if (!list.empty()) list += ", ";
  list += '\'';
  list += name;
  list += '\'';
}

// The dict holding the state_dict, per the rules in pth.h.
const Value& choose_state_dict(const Value& root, const std::string& path, const PthOptions& options,
                               std::string& found_at) {
  if (!root.is_dict())
    throw UserError(
        "'" + path + "' holds a " + pickle::kind_name(root.kind) +
        ", not a dict of tensors: save model.state_dict() (or a dict holding it) with torch.save");
  std::string top_keys;
  for (const auto& [k, v] : root.entries) append_quoted(top_keys, key_text(*k));
  if (!options.key.empty()) {
    const Value* at = &root;
    size_t start = 0;
    while (start <= options.key.size()) {
      const size_t end = std::min(options.key.find('/', start), options.key.size());
      const std::string part = options.key.substr(start, end - start);
      const Value* next = at->is_dict() ? at->find(part) : nullptr;
      if (!next)
        throw UserError("'" + path + "' has no entry '" + options.key + "' (top-level entries: " + top_keys +
                        "): pick one with --key");
      at = next;
      start = end + 1;
    }
    if (!holds_tensors(*at))
      throw UserError("'" + path + "': entry '" + options.key + "' is a " + pickle::kind_name(at->kind) +
                      " without tensors, not a state_dict (top-level entries: " + top_keys + ")");
    found_at = options.key;
    return *at;
  }
  if (holds_tensors(root)) return root;
  for (const char* name :
       {"state_dict", "model_state_dict", "model", "net", "network", "weights", "params", "module"})
    if (const Value* v = root.find(name); v && holds_tensors(*v)) {
      found_at = name;
      return *v;
    }
  // Dicts of tensors up to three levels down ({"model": {"state_dict": …}}), named by their key paths.
  // The visit budget bounds the walk over shared sub-dicts, which pickle memo references can multiply.
  std::vector<std::pair<std::string, const Value*>> candidates;
  size_t budget = 10000;
  const std::function<void(const Value&, const std::string&, int)> search =
      [&](const Value& dict, const std::string& prefix, int levels) {
        for (const auto& [k, v] : dict.entries) {
          if (budget == 0 || !v->is_dict()) continue;
          --budget;
          const std::string at = prefix + key_text(*k);
          if (holds_tensors(*v))
            candidates.emplace_back(at, v.get());
          else if (levels > 1)
            search(*v, at + "/", levels - 1);
        }
      };
  search(root, "", 3);
  if (candidates.size() == 1) {
    found_at = candidates[0].first;  // collect() notes where it came from
    return *candidates[0].second;
  }
  std::string names;
  for (const auto& [n, v] : candidates) append_quoted(names, n);
  if (candidates.empty())
    throw UserError("'" + path + "' holds no dict of tensors (top-level entries: " + top_keys +
                    "): it is not a checkpoint of weights");
  throw UserError("'" + path + "' holds several dicts of tensors (" + names +
                  "): choose one with --key NAME");
}

PthFile collect(const Value& root, const std::string& path, const PthOptions& options,
                const std::function<std::span<const uint8_t>(const pickle::StorageRef&)>& storage_of) {
  PthFile out;
  out.path = path;
  const Value& dict = choose_state_dict(root, path, options, out.key);
  if (!out.key.empty()) out.notes.push_back("took the state_dict stored under '" + out.key + "'");
  std::vector<std::string> skipped;
  size_t widened = 0;
  for (const auto& [k, v] : dict.entries) {
    if (v->kind != Kind::tensor) {
      skipped.push_back(key_text(*k) + " (" + pickle::kind_name(v->kind) + ")");
      continue;
    }
    if (k->kind != Kind::string)
      throw UserError("'" + path + "': a tensor under the non-string key " + key_text(*k) +
                      ": not a state_dict (its keys are parameter names)");
    const std::string where = "'" + path + "', tensor '" + k->text + "'";
    out.tensors.emplace_back(k->text, materialise(v->tensor, storage_of(v->tensor.storage), where));
    widened += v->tensor.storage.type == ScalarType::f16;
  }
  if (out.tensors.empty()) throw UserError("'" + path + "' holds no tensors");
  if (widened) out.notes.push_back(std::to_string(widened) + " float16 tensors widened to float32 (exactly)");
  if (!skipped.empty()) {
    std::string list;
    for (size_t i = 0; i < skipped.size() && i < 8; ++i) list += (i ? ", " : "") + skipped[i];
    if (skipped.size() > 8) list += ", …";
    out.notes.push_back("skipped " + std::to_string(skipped.size()) +
                        " entries that are not tensors: " + list);
  }
  const bool all_module = std::all_of(out.tensors.begin(), out.tensors.end(),
                                      [](const auto& t) { return t.first.rfind("module.", 0) == 0; });
  if (all_module && !options.keep_module_prefix) {
    for (auto& [name, t] : out.tensors) name.erase(0, 7);
    out.notes.push_back(
        "stripped the 'module.' prefix (a DataParallel/DistributedDataParallel model) from every name");
  }
  return out;
}

PthFile parse_zip(std::span<const uint8_t> bytes, const std::string& path, const PthOptions& options) {
  ZipArchive zip(bytes, path);
  const std::vector<std::string> names = zip.names();
  std::string prefix;
  for (const auto& name : names) {
    const size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash) == "/data.pkl") {
      if (!prefix.empty())
        throw UserError("'" + path + "' holds several data.pkl records: not a torch.save checkpoint");
      prefix = name.substr(0, slash + 1);
    }
  }
  if (prefix.empty()) {
    const bool torchscript =
        zip.contains("constants.pkl") || std::any_of(names.begin(), names.end(), [](const std::string& n) {
          return n.find("/constants.pkl") != std::string::npos;
        });
    throw UserError("'" + path + "' is a zip archive without a data.pkl record: " +
                    (torchscript ? std::string("it looks like TorchScript (torch.jit.save); save "
                                               "model.state_dict() with torch.save instead")
                                 : std::string("not a PyTorch checkpoint")));
  }
  if (zip.contains(prefix + "byteorder")) {
    const auto order = zip.read(prefix + "byteorder");
    if (std::string(order.begin(), order.end()) != "little")
      throw UserError("'" + path +
                      "' stores big-endian tensors: load and save it again on a little-endian machine");
  }
  const std::string source = path + " (" + prefix + "data.pkl)";
  const auto pkl = zip.read(prefix + "data.pkl");
  const pickle::Unpickled u = pickle::unpickle(pkl, source);
  std::map<std::string, std::vector<uint8_t>> cache;
  PthFile out = collect(*u.root, path, options, [&](const pickle::StorageRef& s) -> std::span<const uint8_t> {
    if (s.numel < 0 || s.numel > kMaxElements || s.view_offset < 0 || s.view_offset > kMaxElements)
      return {};  // materialise names the fault
    const int64_t needed = (s.view_offset + s.numel) * static_cast<int64_t>(pickle::scalar_size(s.type));
    auto& bytes = cache[s.key];
    if (static_cast<int64_t>(bytes.size()) < needed) bytes = zip.read(prefix + "data/" + s.key, needed);
    return bytes;
  });
  out.format = "zip";
  return out;
}

PthFile parse_legacy(std::span<const uint8_t> bytes, const std::string& path, const PthOptions& options) {
  size_t pos = sizeof kLegacyMagic;  // the magic number's pickle, already matched byte for byte
  const auto next = [&](const char* what) {
    pickle::Unpickled u = pickle::unpickle(bytes.subspan(pos), path + " (legacy " + what + ")");
    pos += u.end;
    return u;
  };
  const auto protocol = next("protocol version");
  if (protocol.root->kind != Kind::integer || protocol.root->integer != 1001)
    throw UserError("'" + path +
                    "': legacy protocol version is not 1001: written by an unsupported torch version");
  const auto sys_info = next("sys_info");
  if (const Value* le = sys_info.root->is_dict() ? sys_info.root->find("little_endian") : nullptr;
      le && le->kind == Kind::boolean && !le->boolean)
    throw UserError("'" + path + "' was saved on a big-endian machine: save it again on a little-endian one");
  const auto object = next("object");
  const auto keys = next("storage keys");
  if (keys.root->kind != Kind::list)
    throw UserError("'" + path +
                    "': the legacy storage key list is missing: the file is damaged; save it again");
  std::map<std::string, ScalarType> types;
  for (const auto& s : object.storages) types[s.key] = s.type;
  StorageBytes storages;
  for (const auto& k : keys.root->items) {
    if (k->kind != Kind::string) throw UserError("'" + path + "': a legacy storage key that is not a string");
    const auto type = types.find(k->text);
    if (type == types.end())
      throw UserError("'" + path + "': legacy storage '" + k->text +
                      "' is used by no tensor: the file is damaged");
    if (bytes.size() - pos < 8)
      throw UserError("'" + path + "' ends before legacy storage '" + k->text +
                      "' (truncated): save it again");
    int64_t count;
    std::memcpy(&count, bytes.data() + pos, 8);
    pos += 8;
    const size_t elem = pickle::scalar_size(type->second);
    if (count < 0 || count > kMaxElements || static_cast<uint64_t>(count) * elem > bytes.size() - pos)
      throw UserError("'" + path + "': legacy storage '" + k->text + "' claims " + std::to_string(count) +
                      " elements but the file ends first (truncated): save it again");
    storages[k->text] = bytes.subspan(pos, static_cast<size_t>(count) * elem);
    pos += static_cast<size_t>(count) * elem;
  }
  PthFile out = collect(*object.root, path, options, [&](const pickle::StorageRef& s) {
    const auto it = storages.find(s.key);
    if (it == storages.end())
      throw UserError("'" + path + "': legacy storage '" + s.key +
                      "' is missing from the file: save it again");
    return it->second;
  });
  out.format = "legacy";
  return out;
}

std::string first_bytes(std::span<const uint8_t> bytes) {
  std::string s;
  char hex[4];
  for (size_t i = 0; i < bytes.size() && i < 8; ++i) {
    std::snprintf(hex, sizeof hex, "%02x ", bytes[i]);
    s += hex;
  }
  return s.empty() ? "(empty)" : s.substr(0, s.size() - 1);
}

}  // namespace

PthFile parse_pth(std::span<const uint8_t> bytes, const std::string& path, const PthOptions& options) {
  if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && (bytes[2] == 3 || bytes[2] == 5))
    return parse_zip(bytes, path, options);
  if (bytes.size() >= sizeof kLegacyMagic &&
      std::memcmp(bytes.data(), kLegacyMagic, sizeof kLegacyMagic) == 0)
    return parse_legacy(bytes, path, options);
  if (bytes.size() >= 2 && bytes[0] == 0x80)  // a bare pickle: run it, so that hostile ones are named
    pickle::unpickle(bytes, path);
  const bool safetensors = bytes.size() > 9 && bytes[8] == '{';
  throw UserError("'" + path + "' is not a PyTorch checkpoint (first bytes " + first_bytes(bytes) + "): " +
                  (safetensors
                       ? "it looks like safetensors already — use it directly"
                       : "torch.save writes a zip archive (PK…) or, before torch 1.6, a pickle stream "
                         "starting 80 02 8a 0a"));
}

PthFile load_pth(const std::string& path, const PthOptions& options) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw UserError("cannot open '" + path + "': check the path and permissions");
  const std::streamsize size = in.tellg();
  std::vector<uint8_t> bytes(static_cast<size_t>(std::max<std::streamsize>(size, 0)));
  in.seekg(0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw UserError("cannot read '" + path + "': I/O error");
  return parse_pth(bytes, path, options);
}

}  // namespace resnet::io
