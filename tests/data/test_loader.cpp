// The data loader: batch content depends only on (seed, epoch, batch index) — not on workers or on where
// an epoch starts — bad samples are skipped or fatal by choice, shapes are checked.
#include <gtest/gtest.h>

#include <set>

#include "resnet/data/loader.h"
#include "resnet/data/transforms.h"

namespace resnet::data {
namespace {

// N grey 4×4 images; image i is filled with i % 251, label i % 3. Samples listed in `bad` throw.
class Synthetic : public Dataset {
 public:
  Synthetic(int64_t n, std::set<int64_t> bad = {}) : n_(n), bad_(std::move(bad)) {}
  int64_t size() const override { return n_; }
  int64_t label(int64_t i) const override { return i % 3; }
  void load(int64_t i, Image& out) const override {
    if (bad_.count(i)) throw SampleError("'img" + std::to_string(i) + ".png' is corrupt");
    out.resize(1, 4, 4);
    std::fill(out.pixels.begin(), out.pixels.end(), static_cast<uint8_t>(i % 251));
  }
  const std::vector<std::string>& class_names() const override { return names_; }
  int64_t channels() const override { return 1; }
  std::pair<int64_t, int64_t> fixed_size() const override { return {4, 4}; }
  std::string describe() const override { return "synthetic"; }
  std::string source(int64_t i) const override { return "img" + std::to_string(i) + ".png"; }

 private:
  int64_t n_;
  std::set<int64_t> bad_;
  std::vector<std::string> names_{"a", "b", "c"};
};

LoaderOptions options(int workers) {
  return {
      .batch_size = 8, .workers = workers, .prefetch = 3, .seed = 42, .channels = 1, .height = 4, .width = 4};
}

// Every value of every batch of an epoch, in order.
std::vector<float> epoch_values(DataLoader& loader, int64_t epoch, int64_t first = 0) {
  std::vector<float> out;
  loader.start_epoch(epoch, first);
  while (const Batch* b = loader.next()) {
    const float* p = b->images.data<float>();
    out.insert(out.end(), p, p + b->images.numel());
    for (int64_t i = 0; i < b->size; ++i) out.push_back(static_cast<float>(b->labels.data<int64_t>()[i]));
  }
  return out;
}

std::shared_ptr<Transform> augment() {
  return parse_pipeline({"random_crop(4, padding=1)", "hflip", "normalize(mean=0.5, std=0.25)"});
}

TEST(Loader, SameBatchesWithAnyNumberOfWorkers) {
  auto data = std::make_shared<Synthetic>(100);
  DataLoader inline_loader(data, augment(), options(0));
  const auto expected = epoch_values(inline_loader, 3);
  ASSERT_EQ(inline_loader.batches_per_epoch(), 12);  // 100 / 8, last partial batch dropped
  ASSERT_EQ(expected.size(), 12u * 8 * (16 + 1));
  for (int workers : {1, 2, 5}) {
    DataLoader loader(data, augment(), options(workers));
    EXPECT_EQ(epoch_values(loader, 3), expected) << workers << " workers";
    EXPECT_EQ(epoch_values(loader, 3), expected) << "a second pass of the same epoch";
  }
  DataLoader other(data, augment(), options(2));
  EXPECT_NE(epoch_values(other, 4), expected) << "another epoch reshuffles";
}

TEST(Loader, StartingMidEpochGivesTheRestOfTheSameEpoch) {
  auto data = std::make_shared<Synthetic>(100);
  DataLoader loader(data, augment(), options(2));
  const auto whole = epoch_values(loader, 7);
  const auto tail = epoch_values(loader, 7, 5);
  ASSERT_EQ(tail.size(), whole.size() / 12 * 7);
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), whole.end() - static_cast<long>(tail.size())));
  // Abandoning an epoch part-way and starting another works (stale prefetched batches are dropped).
  loader.start_epoch(1);
  loader.next();
  EXPECT_EQ(epoch_values(loader, 7), whole);
}

TEST(Loader, EachEpochIsAPermutation) {
  auto data = std::make_shared<Synthetic>(64);
  LoaderOptions o = options(1);
  DataLoader loader(data, nullptr, o);
  loader.start_epoch(2);
  std::multiset<int64_t> seen;
  while (const Batch* b = loader.next())
    for (int64_t i : b->indices) seen.insert(i);
  EXPECT_EQ(seen.size(), 64u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 64u);
  const auto order = loader.epoch_order(2);
  EXPECT_NE(order, loader.epoch_order(3));
}

TEST(Loader, KeepsTheShortLastBatchWhenAsked) {
  auto data = std::make_shared<Synthetic>(20);
  LoaderOptions o = options(1);
  o.drop_last = false, o.shuffle = false;
  DataLoader loader(data, nullptr, o);
  loader.start_epoch(0);
  std::vector<int64_t> sizes;
  while (const Batch* b = loader.next()) sizes.push_back(b->size);
  EXPECT_EQ(sizes, (std::vector<int64_t>{8, 8, 4}));
}

TEST(Loader, BadSamplesAreFatalOrSkippedByChoice) {
  auto data = std::make_shared<Synthetic>(40, std::set<int64_t>{3, 17});
  LoaderOptions o = options(2);
  o.shuffle = false;
  DataLoader strict(data, nullptr, o);
  strict.start_epoch(0);
  try {
    strict.next();
    FAIL() << "a corrupt sample must stop the loader";
  } catch (const SampleError& e) {
    EXPECT_NE(std::string(e.what()).find("img3.png"), std::string::npos) << e.what();
  }
  o.skip_bad_samples = true;
  DataLoader lenient(data, nullptr, o);
  lenient.start_epoch(0);
  std::vector<int64_t> seen;
  while (const Batch* b = lenient.next()) seen.insert(seen.end(), b->indices.begin(), b->indices.end());
  ASSERT_EQ(seen.size(), 40u);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 3), 0);
  EXPECT_EQ(seen[3], 4) << "a bad sample is replaced by the next one of the order";
}

TEST(Loader, ShapeMismatchNamesTheSampleAndTheFix) {
  auto data = std::make_shared<Synthetic>(16);
  LoaderOptions o = options(0);
  o.height = o.width = 8;
  DataLoader loader(data, nullptr, o);
  loader.start_epoch(0);
  try {
    loader.next();
    FAIL();
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("img"), std::string::npos) << msg;
    EXPECT_NE(msg.find("resize"), std::string::npos) << msg;
  }
}

TEST(Loader, BatchLargerThanTheDataSetIsAClearError) {
  auto data = std::make_shared<Synthetic>(5);
  EXPECT_THROW(DataLoader(data, nullptr, options(0)), UserError);
}

}  // namespace
}  // namespace resnet::data
