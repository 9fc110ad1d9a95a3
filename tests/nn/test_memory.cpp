// The steady state of training allocates nothing: after a few warm-up steps, 200 more steps neither ask
// the system allocator for a tensor buffer, nor fault in fresh pages, nor grow the resident set. The
// forward keeps only what the backward reads (a residual block drops the outputs its add consumed); the
// backward holds only a few gradient buffers at a time (each input gradient is freed once the layer
// before has used it) and hands each layer's activations back as soon as its backward has run.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "fixture_fill.h"
#include "resnet/models/resnet.h"
#include "resnet/nn/init.h"
#include "resnet/nn/loss.h"
#include "resnet/nn/residual.h"
#include "resnet/optim/sgd.h"
#include "small_training_step.h"

using namespace resnet;

namespace {

int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

TEST(Memory, TwoHundredTrainingStepsAllocateNothingAfterWarmUp) {
  resnet::testing::SmallTrainingStep training;
  auto step = [&] { training.run(); };
  for (int i = 0; i < 5; ++i) step();
  const int64_t allocations = memory_stats().system_allocations;
  const int64_t rss = resident_bytes();
  const int64_t faults = minor_page_faults();
  for (int i = 0; i < 200; ++i) step();
  EXPECT_EQ(memory_stats().system_allocations, allocations) << "tensor buffers allocated in the steady state";
  // A fresh page costs a fault on first touch; reused buffers cost none. One fault per step would mean a
  // buffer (or a scratch area) is new every step.
  const int64_t new_faults = minor_page_faults() - faults;
  EXPECT_LT(new_faults, 200) << new_faults << " page faults in 200 steady-state steps";
  // Resident memory may move by allocator noise (oneDNN's small objects, page cache of the binary);
  // growth per step would show up as ≥ 200 × the smallest activation (32·16·16·16·4 B = 512 KiB).
  const int64_t growth = resident_bytes() - rss;
  EXPECT_LT(growth, 1 << 20) << "resident set grew by " << growth << " bytes over 200 steps";
  std::printf("[ memory ] RSS growth over 200 steps: %lld bytes, %lld page faults; pool peak %lld bytes\n",
              static_cast<long long>(growth), static_cast<long long>(new_faults),
              static_cast<long long>(memory_stats().peak_bytes_in_use));
}

// ResNet-14 (CIFAR layout, 16/32/64 channels): after a training step's forward and backward, the model
// holds its parameter gradients and at most a few activation-sized buffers beyond what it held before
// the forward — not one gradient per layer (each module's input gradient is freed once consumed) and not
// the forward's activations (each module drops them as its backward finishes). Either leak would add
// about 40 activation tensors here.
TEST(Memory, TrainingStepFreesGradientsAndActivationsOnceConsumed) {
  const Tensor x = resnet::testing::fill_input({32, 1, 16, 16});
  const Tensor t = resnet::testing::fill_targets(32, 10);
  nn::CrossEntropyLoss loss_fn(0.1);
  auto make = [](uint64_t seed) {
    auto model = models::cifar_resnet(14, 10, 1);
    Rng rng(seed);
    nn::init_torchvision(*model, rng);
    model->set_input_gradient(false);
    model->train();
    return model;
  };
  {  // Warm-up on a twin: primitives and this thread's staging buffers, so they are not counted below.
    auto twin = make(2);
    loss_fn.forward(twin->forward(x), t);
    twin->backward(loss_fn.backward());
  }
  auto model = make(2);
  const int64_t before = memory_stats().bytes_in_use;
  loss_fn.forward(model->forward(x), t);
  const int64_t after_forward = memory_stats().bytes_in_use;
  model->backward(loss_fn.backward());
  const int64_t added = memory_stats().bytes_in_use - before;
  const int64_t activation = 32 * 16 * 16 * 16 * 4;             // the largest activation tensor, bytes
  const int64_t parameter_grads = 4 * model->num_parameters();  // f32 gradients
  EXPECT_GT(after_forward - before, 10 * activation) << "the forward should have kept its activations";
  EXPECT_LE(added, parameter_grads + 3 * activation)
      << "the step kept " << added << " bytes: gradient buffers or activations are not being released";
  std::printf(
      "[ memory ] a training step kept %lld bytes (the forward %lld; largest activation %lld, parameters' "
      "gradients %lld)\n",
      static_cast<long long>(added), static_cast<long long>(after_forward - before),
      static_cast<long long>(activation), static_cast<long long>(parameter_grads));
}

// A bottleneck with a projection (32 → 16 → 64 channels, batch 8, 8×8): after its forward it holds conv1,
// bn1+ReLU, conv2, bn2+ReLU (each 8·16·64 floats, plus a ReLU bit mask per fused BN), conv3's and the
// projection conv's outputs (BN backward reads its input) and the block's output (the ReLU backward reads
// it) — but not bn3's or the projection BN's outputs, which only the add read.
TEST(Memory, ResidualBlockForwardKeepsOnlyWhatTheBackwardReads) {
  Rng rng(3);
  // channels_last, as the zoo's networks run (their first module converts the input).
  const Tensor x = resnet::testing::fill_input({8, 32, 8, 8}).to(Layout::channels_last);
  {  // Warm-up on a twin: primitives and this thread's staging buffers, so they are not counted below.
    nn::Bottleneck twin(32, 16, 16, 64, 1, nn::BlockShortcut::projection);
    nn::init_torchvision(twin, rng);
    twin.backward(twin.forward(x));
  }
  nn::Bottleneck block(32, 16, 16, 64, 1, nn::BlockShortcut::projection);
  nn::init_torchvision(block, rng);
  block.train();
  const int64_t before = memory_stats().bytes_in_use;
  block.forward(x);
  const int64_t added = memory_stats().bytes_in_use - before;
  const int64_t narrow = 8 * 16 * 8 * 8 * 4, wide = 8 * 64 * 8 * 8 * 4;  // bytes of one f32 activation
  const int64_t masks = 2 * (narrow / 4 / 8);  // oneDNN's workspace: one bit per element
  const int64_t kept = 4 * narrow + masks + 3 * wide;
  // Slack: 4 BNs' saved mean and variance (16–64 floats each, rounded up to 64 B blocks): < 2 KiB. Keeping
  // bn3's and the projection BN's outputs would add 2 × 131,072 B.
  EXPECT_LE(added, kept + 2048) << "the forward kept " << added << " bytes, " << added - kept
                                << " more than the backward reads";
  EXPECT_GE(added, kept) << "the forward kept less than its backward reads";
  std::printf("[ memory ] bottleneck forward kept %lld bytes (the backward reads %lld)\n",
              static_cast<long long>(added), static_cast<long long>(kept));
}

// A big block costs its size rounded to a 4 KiB page, not to a 2 MiB huge page: ResNet-50's 3.2 MB
// layer3 activations would otherwise hold 4 MiB each. A freed block is handed out again for that size.
TEST(Memory, BigBlocksAreRoundedToPagesAndReused) {
  const size_t bytes = 16 * 256 * 14 * 14 * 4 + 1;  // 3,211,265
  const MemoryStats before = memory_stats();
  void* first = nullptr;
  {
    auto s = Storage::allocate(bytes);
    first = s->data();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % (size_t{2} << 20), 0u) << "huge-page aligned";
    EXPECT_EQ(memory_stats().bytes_in_use - before.bytes_in_use, 3211264 + 4096);
  }
  auto again = Storage::allocate(bytes);
  EXPECT_EQ(again->data(), first) << "the freed block was not reused";
}

}  // namespace
