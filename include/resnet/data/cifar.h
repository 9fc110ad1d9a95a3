// CIFAR-10 / CIFAR-100 in their "binary version" distribution (https://www.cs.toronto.edu/~kriz/cifar.html).
//
// Format: headerless files of fixed-size records, 32x32 RGB images stored planar and row-major:
//   CIFAR-10   <label u8 0..9> <1024 R> <1024 G> <1024 B>                          (3073 bytes)
//              train: data_batch_1.bin … data_batch_5.bin, test: test_batch.bin
//              class names: batches.meta.txt (one per line), else airplane … truck
//   CIFAR-100  <coarse label u8 0..19> <fine label u8 0..99> <1024 R> <1024 G> <1024 B> (3074 bytes)
//              train: train.bin, test: test.bin
//              class names: fine_label_names.txt / coarse_label_names.txt, else class_K / superclass_K
// Files hold 10000 (CIFAR-10) or 50000/10000 (CIFAR-100) records, but any whole, non-zero number of
// records is accepted. The files may sit in `dir` itself or in the archive's own subdirectory
// (`dir`/cifar-10-batches-bin, `dir`/cifar-100-binary); the name files are read from wherever the data
// files were found.
//
// Errors throw UserError naming the file: missing files (listing every path looked for, with where to get
// them), an empty file, a size that is not a whole number of records, a label byte out of range (naming
// the record), a name file with the wrong number of names, an unknown split.
#pragma once

#include <memory>
#include <string>

#include "resnet/data/dataset.h"

namespace resnet::data {

enum class CifarVariant { cifar10, cifar100_fine, cifar100_coarse };

inline constexpr int64_t kCifarSide = 32;
inline constexpr const char* kCifar10Classes[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                    "dog",      "frog",       "horse", "ship", "truck"};

// `split` is "train" or "test". Returns images [N, 3, 32, 32] u8 and labels [N] i64 in file order
// (batches 1..5 concatenated for the CIFAR-10 training split); the description names the variant, split
// and directory, e.g. "CIFAR-10 train (/data/cifar-10-batches-bin)".
std::shared_ptr<InMemoryDataset> load_cifar(const std::string& dir, CifarVariant variant,
                                            const std::string& split);

}  // namespace resnet::data
