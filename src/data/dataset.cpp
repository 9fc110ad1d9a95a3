#include "resnet/data/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "resnet/core/rng.h"

namespace resnet::data {

InMemoryDataset::InMemoryDataset(Tensor images, Tensor labels, std::vector<std::string> class_names,
                                 std::string description)
    : images_(std::move(images)),
      labels_(std::move(labels)),
      class_names_(std::move(class_names)),
      description_(std::move(description)) {
  RESNET_CHECK(images_.ndim() == 4 && images_.dtype() == DType::u8 && images_.is_contiguous())
      << "images must be contiguous [N, C, H, W] u8, got " << images_.shape();
  RESNET_CHECK(labels_.ndim() == 1 && labels_.dtype() == DType::i64 && labels_.size(0) == images_.size(0))
      << "labels must be [N] i64 matching " << images_.shape() << ", got " << labels_.shape();
  const int64_t* y = labels_.data<int64_t>();
  for (int64_t i = 0; i < labels_.size(0); ++i)
    RESNET_CHECK(y[i] >= 0 && y[i] < static_cast<int64_t>(class_names_.size()))
        << "label " << y[i] << " of sample " << i << " outside [0, " << class_names_.size() << ")";
}

int64_t InMemoryDataset::label(int64_t index) const {
  RESNET_CHECK(index >= 0 && index < size()) << index;
  return labels_.data<int64_t>()[index];
}

void InMemoryDataset::load(int64_t index, Image& out) const {
  RESNET_CHECK(index >= 0 && index < size()) << index;
  out.resize(images_.size(1), images_.size(2), images_.size(3));
  const size_t bytes = out.pixels.size();
  std::memcpy(out.pixels.data(), images_.data<uint8_t>() + index * bytes, bytes);
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices,
                             std::string description)
    : base_(std::move(base)), indices_(std::move(indices)), description_(std::move(description)) {
  for (int64_t i : indices_) RESNET_CHECK(i >= 0 && i < base_->size()) << "subset index " << i;
}

std::pair<std::vector<int64_t>, std::vector<int64_t>> split_indices(int64_t n, double fraction,
                                                                    uint64_t seed) {
  RESNET_CHECK(fraction >= 0 && fraction < 1) << fraction;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  const auto n_val = static_cast<int64_t>(std::llround(static_cast<double>(n) * fraction));
  std::vector<int64_t> val(order.begin(), order.begin() + n_val), train(order.begin() + n_val, order.end());
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  return {train, val};
}

}  // namespace resnet::data
