// IDX files (the MNIST family's format), plain or gzip-compressed:
//   magic 0x00 0x00 <type> <ndim>, then ndim big-endian u32 sizes, then the data (u8 here).
// Fashion-MNIST ships in Debian (package dataset-fashion-mnist) under kFashionMnistDir.
#pragma once

#include <string>

#include "resnet/core/tensor.h"

namespace resnet::data {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr const char* kFashionMnistClasses[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

// Reads a u8 IDX file (gzip or not): images [N, H, W] or labels [N], dtype u8. Throws UserError naming
// the file and the fault (missing, truncated, wrong magic, sizes that do not match the file). A gzip file
// is inflated incrementally and never past what its header declares (+1 byte to detect excess data); a
// header declaring more than the file can hold (more than deflate's 1032:1 ratio) is refused before any
// allocation.
Tensor read_idx_u8(const std::string& path);

// Class ids of a training label file [N] u8 must be 0..C-1 with every class present: throws UserError
// naming `path`, the first label beyond a class without examples and its index.
void check_idx_labels(const Tensor& labels, const std::string& path);

struct ImageSet {
  Tensor images;  // [N, 1, H, W] u8
  Tensor labels;  // [N] i64
};

// "train" or "test" split of an IDX directory laid out as Fashion-MNIST/MNIST
// ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]). Checks that counts agree.
ImageSet load_idx_split(const std::string& dir, const std::string& split);

// The labels file load_idx_split reads for `split` ("train" or "test") in `dir`.
std::string idx_labels_path(const std::string& dir, const std::string& split);

}  // namespace resnet::data
