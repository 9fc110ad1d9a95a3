#include "resnet/data/idx.h"

#include <zlib.h>

#include <filesystem>
#include <vector>

namespace resnet::data {
namespace {

std::vector<unsigned char> read_maybe_gzipped(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw UserError("'" + path + "' does not exist" +
                    (path.find("fashion-mnist") != std::string::npos
                         ? " (install Fashion-MNIST with: apt-get install dataset-fashion-mnist)"
                         : " (point --data at a directory holding MNIST-style IDX files: "
                           "{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])"));
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files transparently too
  if (!f) throw UserError("cannot open '" + path + "'");
  std::vector<unsigned char> bytes;
  unsigned char chunk[1 << 16];
  int n;
  while ((n = gzread(f, chunk, sizeof chunk)) > 0) bytes.insert(bytes.end(), chunk, chunk + n);
  int err = Z_OK;
  const char* msg = gzerror(f, &err);
  const bool failed = n < 0 || (err != Z_OK && err != Z_STREAM_END);
  const std::string why = failed ? msg : "";
  gzclose(f);
  if (failed) throw UserError("'" + path + "' is corrupt: " + why + " (re-install or re-download it)");
  return bytes;
}

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

Tensor read_idx_u8(const std::string& path) {
  const std::vector<unsigned char> b = read_maybe_gzipped(path);
  if (b.size() < 4 || b[0] != 0 || b[1] != 0)
    throw UserError("'" + path + "' is not an IDX file (bad magic number)");
  if (b[2] != 0x08)
    throw UserError("'" + path + "' holds IDX type " + std::to_string(b[2]) +
                    "; only u8 (0x08) is supported");
  const int ndim = b[3];
  if (ndim < 1 || ndim > 4 || b.size() < 4 + 4 * static_cast<size_t>(ndim))
    throw UserError("'" + path + "' has a bad IDX header (" + std::to_string(ndim) + " dimensions)");
  Shape shape;
  for (int d = 0; d < ndim; ++d) shape.push_back(be32(&b[4 + 4 * d]));
  const size_t header = 4 + 4 * static_cast<size_t>(ndim);
  if (b.size() - header != static_cast<size_t>(shape.numel()))
    throw UserError("'" + path + "' is truncated or padded: header says " + shape.str() + " (" +
                    std::to_string(shape.numel()) + " bytes), file has " + std::to_string(b.size() - header));
  Tensor t = Tensor::empty(shape, DType::u8);
  std::memcpy(t.raw(), b.data() + header, t.nbytes());
  return t;
}

ImageSet load_idx_split(const std::string& dir, const std::string& split) {
  if (split != "train" && split != "test")
    throw UserError("unknown split '" + split + "': use train or test");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string images_path = first_existing(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = first_existing(dir, prefix + "-labels-idx1-ubyte");
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
