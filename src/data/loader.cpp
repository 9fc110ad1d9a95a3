#include "resnet/data/loader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <system_error>

#include "resnet/core/memory_budget.h"
#include "resnet/core/rng.h"

namespace resnet::data {

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t position) {
  return mix64(mix64(mix64(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(position));
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, std::shared_ptr<const Transform> transform,
                       const LoaderOptions& options)
    : dataset_(std::move(dataset)), transform_(std::move(transform)), options_(options) {
  RESNET_CHECK(options_.batch_size > 0 && options_.prefetch > 0 && options_.workers >= 0);
  if (dataset_->size() == 0) throw UserError(dataset_->describe() + " holds no samples");
  if (options_.drop_last && dataset_->size() < options_.batch_size)
    throw UserError("the batch size " + std::to_string(options_.batch_size) + " exceeds the " +
                    std::to_string(dataset_->size()) + " samples of " + dataset_->describe() +
                    ": lower the batch size");
  // A batch larger than the whole data set only wastes memory when the last batch may be partial.
  if (!options_.drop_last) options_.batch_size = std::min(options_.batch_size, dataset_->size());
  // The prefetched batches, checked against the machine before they are allocated.
  check_memory_budget(4.0 * static_cast<double>(options_.prefetch) *
                          static_cast<double>(options_.batch_size) * static_cast<double>(options_.channels) *
                          static_cast<double>(options_.height) * static_cast<double>(options_.width),
                      "loading " + std::to_string(options_.prefetch) + " batches of " +
                          std::to_string(options_.batch_size) + " " + std::to_string(options_.channels) +
                          "×" + std::to_string(options_.height) + "×" + std::to_string(options_.width) +
                          " images of " + dataset_->describe() + " ahead",
                      "lower the batch size or the batches decoded ahead (data.prefetch)");
  slots_.resize(static_cast<size_t>(options_.prefetch));
  for (auto& slot : slots_) {
    slot.images =
        Tensor::empty({options_.batch_size, options_.channels, options_.height, options_.width}, DType::f32);
    slot.labels = Tensor::empty({options_.batch_size}, DType::i64);
  }
  try {
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { worker_loop(); });
  } catch (const std::system_error& e) {
    // The threads already started must be joined, or their destructors end the process.
    const size_t started = workers_.size();
    stop_workers();
    throw UserError("could not start " + std::to_string(options_.workers) + " data loader threads (" +
                    std::to_string(started) + " started: " + e.what() +
                    "): lower data.workers (1 or 2 keep up with training on most machines)");
  }
}

DataLoader::~DataLoader() {
  stop_workers();
}

void DataLoader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

int64_t DataLoader::batch_count_in_epoch() const {
  const int64_t n = dataset_->size(), b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

int64_t DataLoader::batches_per_epoch() const {
  return batch_count_in_epoch();
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(dataset_->size()));
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    Rng rng(mix64(options_.seed ^ 0x5eedf00dULL) ^ static_cast<uint64_t>(epoch));
    for (size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  }
  return order;
}

void DataLoader::start_epoch(int64_t epoch, int64_t first_batch) {
  RESNET_CHECK(first_batch >= 0 && first_batch <= batch_count_in_epoch()) << first_batch;
  std::unique_lock lock(mutex_);
  // Stop new claims and wait for work in flight (it reads order_) to finish.
  end_ = next_to_claim_;
  changed_.wait(lock, [&] { return in_flight_ == 0; });
  ++generation_;
  order_ = epoch_order(epoch);
  epoch_ = epoch;
  next_to_claim_ = next_to_return_ = released_ = first_batch;
  end_ = batch_count_in_epoch();
  for (auto& slot : slots_) slot.ready_for = -1, slot.error = nullptr;
  lock.unlock();
  changed_.notify_all();
}

void DataLoader::worker_loop() {
  FloatImage scratch;
  Image decoded;
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] {
      return stopping_ || (next_to_claim_ < end_ && next_to_claim_ < released_ + options_.prefetch);
    });
    if (stopping_) return;
    const int64_t b = next_to_claim_++;
    const uint64_t generation = generation_;
    Slot& slot = slots_[static_cast<size_t>(b % options_.prefetch)];
    slot.ready_for = -1;
    ++in_flight_;
    lock.unlock();
    std::exception_ptr error;
    try {
      assemble(b, slot, scratch, decoded);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    --in_flight_;
    if (generation == generation_) slot.ready_for = b, slot.error = error;
    changed_.notify_all();
  }
}

const Batch* DataLoader::next() {
  std::unique_lock lock(mutex_);
  released_ = next_to_return_;  // the caller is done with the batch returned last time
  changed_.notify_all();
  if (next_to_return_ >= end_) return nullptr;
  const int64_t b = next_to_return_;
  Slot& slot = slots_[static_cast<size_t>(b % options_.prefetch)];
  if (workers_.empty()) {
    lock.unlock();
    assemble(b, slot, caller_scratch_, caller_decoded_);
    lock.lock();
  } else {
    changed_.wait(lock, [&] { return slot.ready_for == b; });
    if (slot.error) {
      auto error = slot.error;
      slot.error = nullptr;
      std::rethrow_exception(error);
    }
  }
  ++next_to_return_;
  return &slot.batch;
}

void DataLoader::assemble(int64_t batch_index, Slot& slot, FloatImage& image, Image& decoded) {
  const int64_t n = dataset_->size(), first = batch_index * options_.batch_size;
  const int64_t size = std::min(options_.batch_size, n - first);
  const int64_t C = options_.channels, H = options_.height, W = options_.width, per_sample = C * H * W;
  Batch& batch = slot.batch;
  batch.index = batch_index;
  batch.size = size;
  batch.indices.resize(static_cast<size_t>(size));
  batch.images = slot.images.narrow(0, 0, size);
  batch.labels = slot.labels.narrow(0, 0, size);
  float* out = slot.images.data<float>();
  int64_t* labels = slot.labels.data<int64_t>();
  for (int64_t i = 0; i < size; ++i) {
    const int64_t position = first + i;
    int64_t index = order_[static_cast<size_t>(position)];
    for (int64_t attempt = 1;; ++attempt) {
      try {
        dataset_->load(index, decoded);
        break;
      } catch (const SampleError& e) {
        if (!options_.skip_bad_samples) throw;
        {
          std::lock_guard report(report_mutex_);
          if (reported_bad_.insert(index).second) std::fprintf(stderr, "warning: skipping %s\n", e.what());
        }
        if (attempt >= n)
          throw UserError("no sample of " + dataset_->describe() + " can be read (last error: " + e.what() +
                          ")");
        index = order_[static_cast<size_t>((position + attempt) % n)];
      }
    }
    to_float(decoded, image);
    if (transform_) {
      Rng rng(sample_seed(options_.seed, epoch_, position));
      transform_->apply(image, rng);
    }
    if (image.channels != C || image.height != H || image.width != W) {
      std::string where = dataset_->source(index);  // (built stepwise: GCC 12 misfires -Wrestrict on "'" + s)
      if (where.empty()) {
        where = "sample " + std::to_string(index);
      } else {
        where.insert(0, 1, '\'');
        where.push_back('\'');
      }
      throw UserError(where + " is " + std::to_string(image.channels) + "×" + std::to_string(image.height) +
                      "×" + std::to_string(image.width) + " after the transforms, but the model takes " +
                      std::to_string(C) + "×" + std::to_string(H) + "×" + std::to_string(W) +
                      ": add resize/center_crop transforms (or set the image size) so every image comes out "
                      "the same size");
    }
    std::memcpy(out + i * per_sample, image.values.data(), static_cast<size_t>(per_sample) * sizeof(float));
    labels[i] = dataset_->label(index);
    batch.indices[static_cast<size_t>(i)] = index;
  }
}

}  // namespace resnet::data
