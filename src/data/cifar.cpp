#include "resnet/data/cifar.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

namespace resnet::data {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kPixelBytes = 3 * kCifarSide * kCifarSide;

struct Spec {
  const char* name;    // "CIFAR-10"
  const char* subdir;  // the archive's own directory
  const char* url;
  int64_t label_bytes;
  std::vector<std::string> files;
};

Spec spec_of(CifarVariant variant, const std::string& split) {
  if (variant == CifarVariant::cifar10) {
    Spec s{
        "CIFAR-10", "cifar-10-batches-bin", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", 1, {}};
    if (split == "train")
      for (int i = 1; i <= 5; ++i) s.files.push_back("data_batch_" + std::to_string(i) + ".bin");
    else
      s.files.push_back("test_batch.bin");
    return s;
  }
  return {"CIFAR-100",
          "cifar-100-binary",
          "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
          2,
          {split + ".bin"}};
}

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& item : items) s += (s.empty() ? "'" : ", '") + item + "'";
  return s;
}

// The directory that holds the split's files: `dir` itself or the archive subdirectory under it. A
// directory holding only some of them is an error (a half-extracted archive), not a reason to look on.
std::string locate(const std::string& dir, const Spec& spec, const std::string& split) {
  const std::string fix =
      std::string(" (download the binary version from ") + spec.url + " and extract it into '" + dir + "')";
  if (!fs::exists(dir)) throw UserError("'" + dir + "' does not exist" + fix);
  std::vector<std::string> looked_for;
  for (const std::string& candidate : {dir, dir + "/" + spec.subdir}) {
    std::vector<std::string> present, missing;
    for (const std::string& file : spec.files) {
      const std::string path = candidate + "/" + file;
      (fs::is_regular_file(path) ? present : missing).push_back(path);
      looked_for.push_back(path);
    }
    if (present.empty()) continue;
    if (!missing.empty())
      throw UserError("'" + candidate + "' holds only part of the " + spec.name + " " + split +
                      " split: missing " + join(missing) + " (re-extract the archive from " + spec.url + ")");
    return candidate;
  }
  throw UserError(std::string("no ") + spec.name + " " + split + " files in '" + dir + "': looked for " +
                  join(looked_for) + fix);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot open '" + path + "' (check its permissions)");
  std::vector<uint8_t> bytes(static_cast<size_t>(fs::file_size(path)));
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size()))
    throw UserError("cannot read '" + path + "': got " + std::to_string(in.gcount()) + " of " +
                    std::to_string(bytes.size()) + " bytes");
  return bytes;
}

// One name per line; blank lines (the official files end with some) and surrounding spaces ignored.
std::vector<std::string> read_names(const std::string& path, size_t expected, const char* dataset) {
  std::ifstream in(path);
  if (!in) throw UserError("cannot open '" + path + "' (check its permissions)");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    const size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos) continue;
    names.push_back(line.substr(begin, line.find_last_not_of(" \t\r") + 1 - begin));
  }
  if (names.size() != expected)
    throw UserError("'" + path + "' names " + std::to_string(names.size()) + " classes, " + dataset +
                    " has " + std::to_string(expected) + " (one name per line; fix or delete the file)");
  return names;
}

std::vector<std::string> class_names(const std::string& dir, CifarVariant variant) {
  const char* file = variant == CifarVariant::cifar10         ? "batches.meta.txt"
                     : variant == CifarVariant::cifar100_fine ? "fine_label_names.txt"
                                                              : "coarse_label_names.txt";
  const size_t count = variant == CifarVariant::cifar10         ? 10
                       : variant == CifarVariant::cifar100_fine ? 100
                                                                : 20;
  const std::string path = dir + "/" + file;
  if (fs::exists(path))
    return read_names(path, count, variant == CifarVariant::cifar10 ? "CIFAR-10" : "CIFAR-100");
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i)
    names.push_back(variant == CifarVariant::cifar10         ? std::string(kCifar10Classes[i])
                    : variant == CifarVariant::cifar100_fine ? "class_" + std::to_string(i)
                                                             : "superclass_" + std::to_string(i));
  return names;
}

}  // namespace

std::shared_ptr<InMemoryDataset> load_cifar(const std::string& dir, CifarVariant variant,
                                            const std::string& split) {
  if (split != "train" && split != "test")
    throw UserError("unknown split '" + split + "': use train or test");
  const Spec spec = spec_of(variant, split);
  const std::string found = locate(dir, spec, split);
  const int64_t record = spec.label_bytes + kPixelBytes;

  // Sizes first, so that a bad file fails before 150 MB are read and the tensor is allocated once.
  int64_t total = 0;
  for (const std::string& file : spec.files) {
    const std::string path = found + "/" + file;
    const auto size = static_cast<int64_t>(fs::file_size(path));
    if (size == 0) throw UserError("'" + path + "' is empty (re-extract the archive from " + spec.url + ")");
    if (size % record != 0)
      throw UserError("'" + path + "' is " + std::to_string(size) + " bytes, not a whole number of " +
                      std::to_string(record) + "-byte " + spec.name + " records (" +
                      std::to_string(size / record) + " records and " + std::to_string(size % record) +
                      " bytes over: truncated, or not a " + spec.name +
                      " file; re-extract the archive from " + spec.url + ")");
    total += size / record;
  }

  Tensor images = Tensor::empty({total, 3, kCifarSide, kCifarSide}, DType::u8);
  Tensor labels = Tensor::empty({total}, DType::i64);
  uint8_t* x = images.data<uint8_t>();
  int64_t* y = labels.data<int64_t>();
  int64_t n = 0;
  for (const std::string& file : spec.files) {
    const std::string path = found + "/" + file;
    const std::vector<uint8_t> bytes = read_bytes(path);
    const int64_t records = static_cast<int64_t>(bytes.size()) / record;
    if (static_cast<int64_t>(bytes.size()) % record != 0 || n + records > total)
      throw UserError("'" + path + "' changed size while being read (retry when nothing writes to it)");
    for (int64_t r = 0; r < records; ++r, ++n) {
      const uint8_t* rec = bytes.data() + r * record;
      // CIFAR-100 records carry both labels; both are checked so that a corrupt file is caught either way.
      const int64_t limits[2] = {spec.label_bytes == 1 ? 10 : 20, 100};
      for (int64_t b = 0; b < spec.label_bytes; ++b)
        if (rec[b] >= limits[b])
          throw UserError("record " + std::to_string(r) + " of '" + path + "' has " +
                          (spec.label_bytes == 1 ? "label "
                           : b == 0              ? "coarse label "
                                                 : "fine label ") +
                          std::to_string(rec[b]) + ", outside 0.." + std::to_string(limits[b] - 1) +
                          " (the file is corrupt or is not a " + spec.name +
                          " file; re-extract the archive)");
      y[n] = variant == CifarVariant::cifar100_fine ? rec[1] : rec[0];
      // The file's pixel block is already [3][32][32] planar row-major: the tensor's own layout.
      std::memcpy(x + n * kPixelBytes, rec + spec.label_bytes, kPixelBytes);
    }
  }
  if (n != total)
    throw UserError("'" + found + "' changed while being read (retry when nothing writes to it)");

  const std::string what = variant == CifarVariant::cifar10         ? "CIFAR-10 "
                           : variant == CifarVariant::cifar100_fine ? "CIFAR-100 (fine labels) "
                                                                    : "CIFAR-100 (coarse labels) ";
  return std::make_shared<InMemoryDataset>(std::move(images), std::move(labels), class_names(found, variant),
                                           what + split + " (" + found + ")");
}

}  // namespace resnet::data
