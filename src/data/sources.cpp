#include "resnet/data/sources.h"

#include <cstdio>
#include <filesystem>

#include "resnet/data/cifar.h"
#include "resnet/data/idx.h"
#include "resnet/data/image_folder.h"

namespace resnet::data {
namespace {

struct Spec {
  std::string scheme, path;
};

Spec split_spec(const std::string& spec) {
  if (spec == "fashion-mnist") return {"fashion-mnist", kFashionMnistDir};
  const auto colon = spec.find(':');
  if (colon == std::string::npos || colon + 1 == spec.size())
    throw UserError(
        "unknown data set '" + spec +
        "': use fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, cifar100-coarse:DIR or folder:DIR");
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

std::shared_ptr<const Dataset> in_memory(const ImageSet& set, const std::vector<std::string>& names,
                                         const std::string& description) {
  return std::make_shared<InMemoryDataset>(set.images, set.labels, names, description);
}

std::shared_ptr<const Dataset> first_n(std::shared_ptr<const Dataset> d, int64_t n) {
  if (n <= 0 || n >= d->size()) return d;
  std::vector<int64_t> indices(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) indices[static_cast<size_t>(i)] = i;
  return std::make_shared<SubsetDataset>(d, indices, d->describe() + ", first " + std::to_string(n));
}

}  // namespace

SourceKind source_kind(const std::string& spec) {
  const Spec s = split_spec(spec);
  if (s.scheme == "fashion-mnist") return SourceKind::fashion_mnist;
  if (s.scheme == "idx") return SourceKind::idx;
  if (s.scheme == "cifar10" || s.scheme == "cifar100" || s.scheme == "cifar100-coarse")
    return SourceKind::cifar;
  if (s.scheme == "folder") return SourceKind::folder;
  throw UserError(
      "unknown data set kind '" + s.scheme + "' in '" + spec +
      "': use fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR, cifar100-coarse:DIR or folder:DIR");
}

DataSources open_data_sources(const std::string& spec, const SourceOptions& o) {
  namespace fs = std::filesystem;
  const Spec s = split_spec(spec);
  DataSources out{.kind = source_kind(spec)};
  switch (out.kind) {
    case SourceKind::fashion_mnist:
    case SourceKind::idx: {
      std::vector<std::string> names;
      if (out.kind == SourceKind::fashion_mnist) {
        names.assign(std::begin(kFashionMnistClasses), std::end(kFashionMnistClasses));
      }
      const ImageSet train = load_idx_split(s.path, "train"), test = load_idx_split(s.path, "test");
      // The class count is the number of distinct training labels, which must be 0..C-1 (a stray label
      // 200 would otherwise make a 201-class model with 191 empty classes).
      const std::string train_labels = idx_labels_path(s.path, "train");
      int64_t classes = 0;
      {
        const Tensor l = train.labels;
        Tensor as_u8 = Tensor::empty({l.size(0)}, DType::u8);
        for (int64_t i = 0; i < l.size(0); ++i) {
          as_u8.data<uint8_t>()[i] = static_cast<uint8_t>(l.data<int64_t>()[i]);
          classes = std::max(classes, l.data<int64_t>()[i] + 1);
        }
        check_idx_labels(as_u8, train_labels);
      }
      if (!names.empty() && classes > static_cast<int64_t>(names.size()))
        throw UserError("labels file '" + train_labels + "' holds label " + std::to_string(classes - 1) +
                        " but the data set has " + std::to_string(names.size()) + " classes (0.." +
                        std::to_string(names.size() - 1) + "): the file is damaged");
      if (names.empty())
        for (int64_t c = 0; c < classes; ++c) names.push_back(std::to_string(c));
      for (int64_t i = 0; i < test.labels.size(0); ++i)
        if (test.labels.data<int64_t>()[i] >= static_cast<int64_t>(names.size()))
          throw UserError("labels file '" + idx_labels_path(s.path, "test") + "': label " +
                          std::to_string(test.labels.data<int64_t>()[i]) + " at index " + std::to_string(i) +
                          " is not one of the training set's " + std::to_string(names.size()) +
                          " classes (0.." + std::to_string(names.size() - 1) +
                          "): class ids must be 0..N-1 and the same in both splits");
      const std::string label = out.kind == SourceKind::fashion_mnist ? "Fashion-MNIST" : "IDX";
      out.train = in_memory(train, names, label + " train (" + s.path + ")");
      out.test = in_memory(test, names, label + " test (" + s.path + ")");
      break;
    }
    case SourceKind::cifar: {
      const CifarVariant variant = s.scheme == "cifar10"    ? CifarVariant::cifar10
                                   : s.scheme == "cifar100" ? CifarVariant::cifar100_fine
                                                            : CifarVariant::cifar100_coarse;
      out.train = load_cifar(s.path, variant, "train");
      out.test = load_cifar(s.path, variant, "test");
      break;
    }
    case SourceKind::folder: {
      if (!fs::is_directory(s.path))
        throw UserError("image folder '" + s.path + "' does not exist or is not a directory");
      const bool split = fs::is_directory(s.path + "/train");
      if (split) {
        out.train = std::make_shared<ImageFolder>(s.path + "/train", o.channels);
        const int64_t channels = out.train->channels();
        for (const char* name : {"val", "test"})
          if (fs::is_directory(s.path + "/" + name)) {
            out.test = std::make_shared<ImageFolder>(s.path + "/" + name, channels);
            break;
          }
        if (out.test && out.test->class_names() != out.train->class_names())
          throw UserError("the class folders of '" + s.path +
                          "/train' and of its evaluation split differ: "
                          "both need the same <class> subdirectories");
      } else {
        out.train = std::make_shared<ImageFolder>(s.path, o.channels);
      }
      break;
    }
  }
  out.train = first_n(out.train, o.train_limit);
  if (out.test) out.test = first_n(out.test, o.test_limit);
  double val_fraction = o.val_fraction;
  if (out.kind == SourceKind::folder && !out.test && val_fraction == 0) {
    // A folder of class subdirectories and nothing else trains on the first try: a tenth is held out.
    val_fraction = kDefaultFolderValFraction;
    std::fprintf(stderr,
                 "note: image folder '%s' has no val/ or test/ split: holding out 10%% of it for evaluation "
                 "(set data.val_fraction to change the share)\n",
                 s.path.c_str());
  }
  if (val_fraction > 0) {
    if (val_fraction >= 1) throw UserError("data.val_fraction must be in [0, 1)");
    auto [train_idx, val_idx] = split_indices(out.train->size(), val_fraction, o.split_seed);
    if (val_idx.empty() || train_idx.empty())
      throw UserError("data.val_fraction " + std::to_string(val_fraction) + " leaves an empty split of " +
                      std::to_string(out.train->size()) + " samples");
    auto base = out.train;
    out.validation = std::make_shared<SubsetDataset>(base, val_idx, base->describe() + ", validation split");
    out.train = std::make_shared<SubsetDataset>(base, train_idx, base->describe() + ", training split");
  }
  if (!out.per_epoch())
    throw UserError("image folder '" + s.path +
                    "' has no val/ or test/ split: set data.val_fraction (e.g. 0.1) "
                    "to hold out part of it for evaluation");
  return out;
}

}  // namespace resnet::data
