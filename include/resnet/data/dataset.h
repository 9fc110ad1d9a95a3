// Datasets: indexed collections of labelled images, the one interface every source implements
// (IDX and CIFAR files decoded into memory, image folders decoded from disk on demand).
//
// Contract:
//  - samples are numbered 0..size()-1; label(i) is in [0, num_classes()).
//  - load(i, out) decodes sample i into `out` as planar u8 pixels [channels][height][width], reusing
//    out.pixels' capacity. It is const and thread-safe: loader workers call it concurrently.
//  - a sample that cannot be read (corrupt or missing file) throws SampleError naming the file and the
//    fault; the loader decides whether that is fatal or skipped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/core/tensor.h"

namespace resnet::data {

// One decoded image, planar: pixels[(c * height + y) * width + x].
struct Image {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<uint8_t> pixels;

  void resize(int64_t c, int64_t h, int64_t w) {
    channels = c, height = h, width = w;
    pixels.resize(static_cast<size_t>(c * h * w));
  }
  uint8_t* plane(int64_t c) { return pixels.data() + c * height * width; }
  const uint8_t* plane(int64_t c) const { return pixels.data() + c * height * width; }
};

// A sample that could not be decoded. A UserError: its message names the file and the fault.
class SampleError : public UserError {
 public:
  using UserError::UserError;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int64_t label(int64_t index) const = 0;
  virtual void load(int64_t index, Image& out) const = 0;
  virtual const std::vector<std::string>& class_names() const = 0;
  int64_t num_classes() const { return static_cast<int64_t>(class_names().size()); }
  // Channels of every decoded sample (1 grey, 3 RGB).
  virtual int64_t channels() const = 0;
  // Height and width shared by every sample, or {0, 0} when sizes vary (image folders).
  virtual std::pair<int64_t, int64_t> fixed_size() const = 0;
  // Human-readable origin, e.g. "Fashion-MNIST train (/usr/share/datasets/fashion-mnist)".
  virtual std::string describe() const = 0;
  // The file a sample comes from, for error messages and predictions ("" for in-memory sets).
  virtual std::string source(int64_t index) const { return ""; }
};

// Decoded images held in memory: images [N, C, H, W] u8, labels [N] i64. For small sets (IDX, CIFAR).
class InMemoryDataset : public Dataset {
 public:
  InMemoryDataset(Tensor images, Tensor labels, std::vector<std::string> class_names,
                  std::string description);
  int64_t size() const override { return images_.size(0); }
  int64_t label(int64_t index) const override;
  void load(int64_t index, Image& out) const override;
  const std::vector<std::string>& class_names() const override { return class_names_; }
  int64_t channels() const override { return images_.size(1); }
  std::pair<int64_t, int64_t> fixed_size() const override { return {images_.size(2), images_.size(3)}; }
  std::string describe() const override { return description_; }
  const Tensor& images() const { return images_; }
  const Tensor& labels() const { return labels_; }

 private:
  Tensor images_, labels_;
  std::vector<std::string> class_names_;
  std::string description_;
};

// A view of some samples of another dataset (a validation split, a subset for a quick run).
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices, std::string description);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  int64_t label(int64_t index) const override { return base_->label(indices_.at(index)); }
  void load(int64_t index, Image& out) const override { base_->load(indices_.at(index), out); }
  const std::vector<std::string>& class_names() const override { return base_->class_names(); }
  int64_t channels() const override { return base_->channels(); }
  std::pair<int64_t, int64_t> fixed_size() const override { return base_->fixed_size(); }
  std::string describe() const override { return description_; }
  std::string source(int64_t index) const override { return base_->source(indices_.at(index)); }

 private:
  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
  std::string description_;
};

// Splits 0..n-1 into (train, validation) with round(n * fraction) validation indices, drawn by a seeded
// shuffle; both lists come back sorted. Same (n, fraction, seed) → same split on every machine.
std::pair<std::vector<int64_t>, std::vector<int64_t>> split_indices(int64_t n, double fraction,
                                                                    uint64_t seed);

}  // namespace resnet::data
