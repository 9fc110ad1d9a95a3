#include "resnet/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>

namespace resnet::data {
namespace {

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string first_existing(const std::string& dir, const std::string& stem) {
  for (const char* ext : {".gz", ""}) {
    const std::string p = dir + "/" + stem + ext;
    if (std::filesystem::exists(p)) return p;
  }
  return dir + "/" + stem + ".gz";
}

}  // namespace

// Deflate turns at most 1032 bytes into one input byte (zlib's documented limit), so a gzip file of N bytes
// cannot honestly hold more than this many: a header promising more is refused before any allocation.
constexpr uint64_t kMaxInflateRatio = 1032;

Tensor read_idx_u8(const std::string& path) {
  namespace fs = std::filesystem;
  if (!fs::exists(path))
    throw UserError("'" + path + "' does not exist" +
                    (path.find("fashion-mnist") != std::string::npos
                         ? " (install Fashion-MNIST with: apt-get install dataset-fashion-mnist)"
                         : " (point --data at a directory holding MNIST-style IDX files: "
                           "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])"));
  std::error_code ec;
  const uint64_t file_size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : 0;
  if (ec || !fs::is_regular_file(path))
    throw UserError("'" + path + "' is not a regular file: point at an IDX file (gzipped or not)");
  // Inflated incrementally (gzread reads plain files transparently): the header first, then exactly the
  // bytes it declares, then one probe byte — so a file that inflates to far more than its header says
  // stops after one extra byte instead of being inflated whole.
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw UserError("cannot open '" + path + "'");
  struct Closer {
    gzFile f;
    ~Closer() { gzclose(f); }
  } closer{f};
  auto read = [&](unsigned char* dst, uint64_t want) -> uint64_t {
    uint64_t got = 0;
    while (got < want) {
      const unsigned chunk = static_cast<unsigned>(std::min<uint64_t>(want - got, 1u << 30));
      const int n = gzread(f, dst + got, chunk);
      if (n < 0) {
        int err = Z_OK;
        const char* msg = gzerror(f, &err);
        throw UserError("'" + path + "' is corrupt: " + msg + " (re-install or re-download it)");
      }
      if (n == 0) {
        int err = Z_OK;
        const char* msg = gzerror(f, &err);
        if (err != Z_OK && err != Z_STREAM_END)
          throw UserError("'" + path + "' is corrupt: " + msg + " (re-install or re-download it)");
        break;
      }
      got += static_cast<uint64_t>(n);
    }
    return got;
  };
  unsigned char head[4 + 4 * 4];
  if (read(head, 4) < 4 || head[0] != 0 || head[1] != 0)
    throw UserError("'" + path + "' is not an IDX file (bad magic number)");
  if (head[2] != 0x08)
    throw UserError("'" + path + "' holds IDX type " + std::to_string(head[2]) +
                    "; only u8 (0x08) is supported");
  const int ndim = head[3];
  if (ndim < 1 || ndim > 4 ||
      read(head + 4, 4 * static_cast<uint64_t>(ndim)) < 4 * static_cast<uint64_t>(ndim))
    throw UserError("'" + path + "' has a bad IDX header (" + std::to_string(ndim) + " dimensions)");
  const bool compressed = gzdirect(f) == 0;
  const uint64_t header = 4 + 4 * static_cast<uint64_t>(ndim);
  Shape shape;
  uint64_t expected = 1;  // dims product, checked for overflow
  uint64_t nonzero = 1;   // product of the non-zero dims
  bool nonzero_overflows = false;
  std::string dims;
  for (int d = 0; d < ndim; ++d) {
    const uint32_t n = be32(&head[4 + 4 * d]);
    dims += (d ? " x " : "") + std::to_string(n);
    shape.push_back(n);
    // Every partial product must fit (the tensor's element count is computed in int64 left to right):
    // once one overflows the header is refused, even when a later dimension is 0.
    if (expected == UINT64_MAX || __builtin_mul_overflow(expected, uint64_t{n}, &expected) ||
        expected > static_cast<uint64_t>(INT64_MAX))
      expected = UINT64_MAX;
    // The strides multiply the dimensions from the right: their product without the zeros must fit too.
    if (n && (__builtin_mul_overflow(nonzero, uint64_t{n}, &nonzero) ||
              nonzero > static_cast<uint64_t>(INT64_MAX)))
      nonzero_overflows = true;
  }
  if (nonzero_overflows) expected = UINT64_MAX;
  const uint64_t available =
      compressed ? (file_size > UINT64_MAX / kMaxInflateRatio ? UINT64_MAX : file_size * kMaxInflateRatio)
                 : file_size - std::min(file_size, header);
  if (expected > available)
    throw UserError(
        "'" + path + "' is truncated or its header is damaged: the header says " + dims + " (" +
        (expected == UINT64_MAX ? std::string("an overflowing number of") : std::to_string(expected)) +
        " bytes), more than the " + std::to_string(file_size) + "-byte" + (compressed ? " gzip" : "") +
        " file can hold (re-download it)");
  Tensor t = Tensor::empty(shape, DType::u8);
  const uint64_t got = read(static_cast<unsigned char*>(t.raw()), expected);
  if (got < expected)
    throw UserError("'" + path + "' is truncated: the header says " + dims + " (" + std::to_string(expected) +
                    " bytes) but the data ends after " + std::to_string(got) + " (re-download it)");
  unsigned char probe;
  if (read(&probe, 1) > 0)
    throw UserError("'" + path + "' holds more data than its header says (" + dims + ", " +
                    std::to_string(expected) + " bytes): the header or the file is damaged (re-download it)");
  return t;
}

void check_idx_labels(const Tensor& labels, const std::string& path) {
  RESNET_CHECK(labels.ndim() == 1 && labels.dtype() == DType::u8) << labels.shape().str();
  const uint8_t* l = labels.data<uint8_t>();
  const int64_t n = labels.size(0);
  bool present[256] = {};
  for (int64_t i = 0; i < n; ++i) present[l[i]] = true;
  int first_missing = 0;
  while (first_missing < 256 && present[first_missing]) ++first_missing;
  for (int64_t i = 0; i < n; ++i)
    if (l[i] > first_missing)
      throw UserError("labels file '" + path + "': label " + std::to_string(l[i]) + " at index " +
                      std::to_string(i) + " but class " + std::to_string(first_missing) + " has no example" +
                      (first_missing > 0
                           ? " (the labels 0.." + std::to_string(first_missing - 1) + " are all present)"
                           : std::string()) +
                      "; class ids must be 0..N-1 with every class present: renumber the labels");
}

std::string idx_labels_path(const std::string& dir, const std::string& split) {
  return first_existing(dir, (split == "train" ? "train" : "t10k") + std::string("-labels-idx1-ubyte"));
}

ImageSet load_idx_split(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "test")
    throw UserError("unknown split '" + split + "': use train or test");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string images_path = first_existing(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = idx_labels_path(dir, split);
  Tensor images = read_idx_u8(images_path);
  Tensor labels = read_idx_u8(labels_path);
  if (images.ndim() != 3)
    throw UserError("'" + images_path + "' should hold [N, H, W] images, has " + images.shape().str());
  if (labels.ndim() != 1 || labels.size(0) != images.size(0))
    throw UserError("'" + labels_path + "' has " + labels.shape().str() + " labels for " +
                    std::to_string(images.size(0)) + " images in '" + images_path + "'");
  ImageSet set;
  set.images = images.view({images.size(0), 1, images.size(1), images.size(2)});
  set.labels = Tensor::empty({labels.size(0)}, DType::i64);
  for (int64_t i = 0; i < labels.size(0); ++i) set.labels.data<int64_t>()[i] = labels.data<uint8_t>()[i];
  return set;
}

}  // namespace resnet::data
