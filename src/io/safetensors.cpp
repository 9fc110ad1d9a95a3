#include "resnet/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "resnet/io/atomic_file.h"

namespace resnet::io {
namespace {

[[noreturn]] void bad_file(const std::string& path, const std::string& problem) {
  throw UserError("'" + path + "' is not a valid safetensors file: " + problem +
                  " (the file may be truncated or corrupt: re-export or re-download it)");
}

struct DTypeName {
  const char* name;
  DType dtype;
};
constexpr DTypeName kDTypes[] = {{"F32", DType::f32}, {"F64", DType::f64}, {"BF16", DType::bf16},
                                 {"I8", DType::s8},   {"U8", DType::u8},   {"I32", DType::s32},
                                 {"I64", DType::i64}};

// f32 -> IEEE half, round to nearest even; overflow to ±inf, NaN kept.
uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) return sign | (abs > 0x7f800000 ? 0x7e00 : 0x7c00);  // NaN / inf
  if (abs >= 0x477ff000) return sign | 0x7c00;                                // rounds past 65504
  if (abs < 0x38800000) {  // subnormal half (or zero): scale the mantissa down with rounding
    if (abs < 0x33000000) return sign;
    const uint32_t e = abs >> 23, m = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14 + (112 - e) ... keeps 24-bit mantissa → half subnormal units
    const uint32_t half = m >> shift, rest = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
    return sign | static_cast<uint16_t>(half + (rest > mid || (rest == mid && (half & 1))));
  }
  const uint32_t rebased = abs - 0x38000000;  // exponent 127 → 15
  const uint32_t half = rebased >> 13, rest = rebased & 0x1fff;
  return sign | static_cast<uint16_t>(half + (rest > 0x1000 || (rest == 0x1000 && (half & 1))));
}

}  // namespace

const Tensor* TensorFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

const Tensor& TensorFile::at(const std::string& name) const {
  if (const Tensor* t = find(name)) return *t;
  throw UserError("'" + path + "' has no tensor named '" + name + "' (" + std::to_string(tensors.size()) +
                  " tensors in the file)");
}

TensorFile load_safetensors(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) throw UserError("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    close(fd);
    throw UserError("cannot stat '" + path + "': " + std::strerror(errno));
  }
  const size_t file_size = static_cast<size_t>(st.st_size);
  if (file_size < 8) {
    close(fd);
    bad_file(path, "only " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  }
  void* map = mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) throw UserError("cannot map '" + path + "': " + std::strerror(errno));
  return parse_safetensors(Storage::borrow(map, file_size, [map, file_size] { munmap(map, file_size); }),
                           path);
}

TensorFile parse_safetensors(std::shared_ptr<Storage> bytes, const std::string& path) {
  const size_t file_size = bytes->bytes();
  if (file_size < 8)
    bad_file(path, "only " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  const std::shared_ptr<Storage>& mapping = bytes;
  const char* base = static_cast<const char*>(bytes->data());

  uint64_t header_len = 0;
  std::memcpy(&header_len, base, 8);  // little-endian on every machine we target
  if (header_len > file_size - 8)
    bad_file(path, "header length " + std::to_string(header_len) + " exceeds the file size " +
                       std::to_string(file_size));
  nlohmann::json header;
  // nlohmann::json keeps the last of repeated keys; a header naming a tensor (or a metadata key) twice is
  // ambiguous, so the parser callback records the first repeat at any depth and the file is refused.
  std::vector<std::set<std::string>> keys_in_object;  // one list per open object
  std::string duplicate;
  const nlohmann::json::parser_callback_t note_keys = [&](int, nlohmann::json::parse_event_t event,
                                                          nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) {
      keys_in_object.emplace_back();
    } else if (event == E::object_end) {
      if (!keys_in_object.empty()) keys_in_object.pop_back();
    } else if (event == E::key && !keys_in_object.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys_in_object.back().insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  try {
    header = nlohmann::json::parse(base + 8, base + 8 + header_len, note_keys);
  } catch (const std::exception& e) {
    bad_file(path, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty())
    bad_file(path, "the header names '" + duplicate + "' twice (a JSON object with a repeated key)");
  if (!header.is_object()) bad_file(path, "header is not a JSON object");
  const size_t data_start = 8 + header_len;
  const size_t data_size = file_size - data_start;

  TensorFile file;
  file.path = path;
  struct Range {
    size_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) bad_file(path, "__metadata__ is not an object");
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) bad_file(path, "metadata value of '" + k + "' is not a string");
        file.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    try {
      const std::string dtype_str = entry.at("dtype").get<std::string>();
      const auto shape_json = entry.at("shape");
      const auto offsets = entry.at("data_offsets");
      if (!shape_json.is_array() || shape_json.size() > kMaxDims)
        bad_file(path, "tensor '" + name + "' has a bad shape");
      Shape shape;
      // Every dimension and the running element count stay below the file size, so a hostile header
      // (10 GB shapes, overflowing products) is refused before any arithmetic can wrap.
      uint64_t elements = 1;
      for (const auto& d : shape_json) {
        if (!d.is_number_unsigned() || d.get<uint64_t>() > file_size)
          bad_file(path, "tensor '" + name + "' has a bad shape " + shape_json.dump());
        elements *= std::max<uint64_t>(d.get<uint64_t>(), 1);
        if (elements > file_size)
          bad_file(path,
                   "tensor '" + name + "' declares shape " + shape_json.dump() + ", larger than the file");
        shape.push_back(d.get<int64_t>());
      }
      if (!offsets.is_array() || offsets.size() != 2)
        bad_file(path, "tensor '" + name + "' has bad data_offsets");
      const size_t begin = offsets[0].get<size_t>(), end = offsets[1].get<size_t>();
      if (begin > end || end > data_size)
        bad_file(path, "tensor '" + name + "' data [" + std::to_string(begin) + ", " + std::to_string(end) +
                           ") lies outside the " + std::to_string(data_size) + "-byte data section");
      const bool is_f16 = dtype_str == "F16";
      const auto* known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                       [&](const DTypeName& d) { return dtype_str == d.name; });
      if (!is_f16 && known == std::end(kDTypes))
        bad_file(path, "tensor '" + name + "' has unsupported dtype " + dtype_str);
      const size_t elem = is_f16 ? 2 : dtype_size(known->dtype);
      if (end - begin != static_cast<size_t>(shape.numel()) * elem)
        bad_file(path, "tensor '" + name + "' has " + std::to_string(end - begin) + " bytes but its shape " +
                           shape.str() + " and dtype " + dtype_str + " need " +
                           std::to_string(shape.numel() * elem));
      ranges.push_back({begin, end, name});
      Tensor t;
      const size_t offset = data_start + begin;
      if (is_f16) {
        t = Tensor::empty(shape, DType::f32);
        const char* src = base + offset;
        float* dst = t.data<float>();
        for (int64_t i = 0; i < shape.numel(); ++i) {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          dst[i] = f16_to_f32(h);
        }
      } else if (offset % dtype_size(known->dtype) == 0) {
        t = Tensor::from_storage(mapping, offset, shape, known->dtype);
      } else {  // misaligned in the file: copy out
        t = Tensor::empty(shape, known->dtype);
        std::memcpy(t.raw(), base + offset, t.nbytes());
      }
      file.tensors.emplace_back(name, std::move(t));
    } catch (const nlohmann::json::exception& e) {
      bad_file(path, "entry '" + name + "' is malformed: " + e.what());
    }
  }
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].begin < ranges[i - 1].end)
      bad_file(path, "tensors '" + ranges[i - 1].name + "' and '" + ranges[i].name + "' overlap");
  // The format's data section is exactly the tensors' bytes: anything after the last tensor is damage
  // (two files concatenated, a torn rewrite), not padding.
  size_t covered = 0;
  for (const Range& r : ranges) covered = std::max(covered, r.end);
  if (covered != data_size)
    bad_file(path, std::to_string(data_size - covered) +
                       " bytes follow the last tensor's data (the data section is " +
                       std::to_string(data_size) + " bytes, the tensors end at " + std::to_string(covered) +
                       ")");
  std::map<std::string, size_t> position;  // names are unique (repeats were refused above)
  for (const Range& r : ranges) position[r.name] = r.begin;
  std::stable_sort(file.tensors.begin(), file.tensors.end(),
                   [&](const auto& a, const auto& b) { return position.at(a.first) < position.at(b.first); });
  return file;
}

void save_safetensors(const std::string& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata, FloatStorage float_storage) {
  // Each tensor as it will be stored: dense, in its stored type.
  struct Encoded {
    const char* dtype;
    Tensor dense;
    std::vector<uint16_t> halves;  // F16 bits, when converted
    const void* data() const { return halves.empty() ? dense.raw() : halves.data(); }
    size_t bytes() const { return halves.empty() ? dense.nbytes() : halves.size() * 2; }
  };
  std::vector<Encoded> encoded;
  for (const auto& [name, tensor] : tensors) {
    Encoded e{nullptr, tensor.is_contiguous() ? tensor : tensor.clone(Layout::contiguous), {}};
    if (e.dense.dtype() == DType::f32 && float_storage == FloatStorage::bf16)
      e.dense = e.dense.to(DType::bf16);
    if (e.dense.dtype() == DType::f32 && float_storage == FloatStorage::f16) {
      e.dtype = "F16";
      const float* src = e.dense.data<float>();
      e.halves.resize(static_cast<size_t>(e.dense.numel()));
      for (size_t k = 0; k < e.halves.size(); ++k) e.halves[k] = f32_to_f16(src[k]);
    } else {
      const DType dt = e.dense.dtype();
      const auto* known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                       [dt](const DTypeName& d) { return d.dtype == dt; });
      RESNET_CHECK(known != std::end(kDTypes)) << "no safetensors dtype for " << dtype_name(dt);
      e.dtype = known->name;
    }
    encoded.push_back(std::move(e));
  }
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (size_t k = 0; k < encoded.size(); ++k) {
    nlohmann::ordered_json shape = nlohmann::ordered_json::array();
    for (int64_t d : tensors[k].second.shape()) shape.push_back(d);
    header[tensors[k].first] = {{"dtype", encoded[k].dtype},
                                {"shape", shape},
                                {"data_offsets", {offset, offset + encoded[k].bytes()}}};
    offset += encoded[k].bytes();
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');  // keep the data section 8-byte aligned
  const uint64_t len = json.size();
  write_file_atomically(path, [&](const ByteSink& sink) {
    sink(&len, 8);
    sink(json.data(), json.size());
    for (const Encoded& e : encoded) sink(e.data(), e.bytes());
  });
}

}  // namespace resnet::io
