// The data loader: worker threads decode and augment samples ahead of the training step into a ring of
// reused batch buffers.
//
// Determinism: the sample order of an epoch is a shuffle seeded by (seed, epoch), and each sample's
// augmentation draws from its own Rng seeded by (seed, epoch, position in the epoch). A batch's content
// therefore depends only on (seed, epoch, batch index) — never on the number of workers or on timing — and
// an epoch can start at any batch (exact resume).
//
// Threads: workers are plain std::threads, not OpenMP, so they never resize or occupy the compute pool;
// with workers = 0 batches are assembled on the caller's thread (tests, tiny sets).
//
// Memory: `prefetch` batches are decoded ahead, at most; image folders are never held decoded beyond that.
//
// Bad samples: a sample whose load() throws SampleError is reported once (by path) on stderr and replaced
// by the next readable sample of the epoch's order when skip_bad_samples is set; otherwise the error is
// rethrown from next() on the caller's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "resnet/data/dataset.h"
#include "resnet/data/transforms.h"

namespace resnet::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = true;  // a short last batch would change batch-norm statistics; evaluation keeps it
  int workers = 1;
  int prefetch = 4;
  uint64_t seed = 0;
  bool skip_bad_samples = false;
  // The shape every transformed sample must have: [channels, height, width].
  int64_t channels = 1, height = 28, width = 28;
};

struct Batch {
  Tensor images;  // [size, C, H, W] f32, a view into the loader's buffer (valid until the next next())
  Tensor labels;  // [size] i64
  std::vector<int64_t> indices;  // dataset index of each sample (after any replacement of a bad one)
  int64_t index = 0;             // batch index within the epoch
  int64_t size = 0;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, std::shared_ptr<const Transform> transform,
             const LoaderOptions& options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  int64_t batches_per_epoch() const;
  // Begins epoch `epoch` (any integer; it seeds the order) at batch `first_batch`.
  void start_epoch(int64_t epoch, int64_t first_batch = 0);
  // The next batch of the current epoch, or nullptr when it is done. Rethrows a worker's error.
  const Batch* next();

  const Dataset& dataset() const { return *dataset_; }
  const LoaderOptions& options() const { return options_; }
  // The order of dataset indices in `epoch` (identity when shuffle is off).
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  struct Slot {
    Tensor images, labels;
    Batch batch;
    int64_t ready_for = -1;  // batch index whose content the slot holds, -1 when free
    std::exception_ptr error;
  };
  void stop_workers();
  void worker_loop();
  void assemble(int64_t batch_index, Slot& slot, FloatImage& scratch, Image& decoded);
  int64_t batch_count_in_epoch() const;

  std::shared_ptr<const Dataset> dataset_;
  std::shared_ptr<const Transform> transform_;
  LoaderOptions options_;
  std::vector<Slot> slots_;

  // Epoch state, guarded by mutex_ while workers run.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<int64_t> order_;
  int64_t epoch_ = 0, next_to_claim_ = 0, next_to_return_ = 0, released_ = 0, end_ = 0, in_flight_ = 0;
  uint64_t generation_ = 0;  // bumps on every start_epoch so stale work is discarded
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  FloatImage caller_scratch_;
  Image caller_decoded_;

  std::mutex report_mutex_;
  std::set<int64_t> reported_bad_;
};

// The seed of one sample's augmentation; exposed for tests.
uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t position);

}  // namespace resnet::data
