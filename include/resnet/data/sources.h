// Data set specs, as the CLI and configs write them:
//   fashion-mnist      Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
//   idx:DIR            any MNIST-style IDX pair set ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz])
//   cifar10:DIR        CIFAR-10 binary version; cifar100:DIR (fine labels), cifar100-coarse:DIR
//   folder:DIR         images in DIR/<class>/…; with DIR/train and DIR/val (or DIR/test) those are the
//                      splits, otherwise the whole folder trains and data.val_fraction holds some out
//                      (kDefaultFolderValFraction when it is 0: there must be something to evaluate)
#pragma once

#include <memory>
#include <string>

#include "resnet/data/dataset.h"

namespace resnet::data {

enum class SourceKind { fashion_mnist, idx, cifar, folder };

inline constexpr double kDefaultFolderValFraction = 0.1;

struct SourceOptions {
  double val_fraction = 0.0;  // held out of the training split, seeded by split_seed
  uint64_t split_seed = 0;
  int64_t channels = 0;     // image folders: 1, 3, or 0 = as the first image
  int64_t train_limit = 0;  // keep only the first N samples (0 = all)
  int64_t test_limit = 0;
};

struct DataSources {
  SourceKind kind;
  std::shared_ptr<const Dataset> train;
  std::shared_ptr<const Dataset> validation;  // null without a validation split
  std::shared_ptr<const Dataset> test;        // null for a folder without a test/val split
  // What training evaluates every epoch: the validation split when there is one, else the test set.
  std::shared_ptr<const Dataset> per_epoch() const { return validation ? validation : test; }
};

SourceKind source_kind(const std::string& spec);  // UserError for an unknown spec, with the valid forms
DataSources open_data_sources(const std::string& spec, const SourceOptions& options);

}  // namespace resnet::data
