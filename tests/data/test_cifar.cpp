// CIFAR binary reader (resnet/data/cifar.h). The tests write the distribution format byte for byte into a
// fresh temporary directory: records of <label byte(s)> <1024 R> <1024 G> <1024 B>.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "resnet/data/cifar.h"
#include "temp_dir.h"

namespace resnet::data {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

// A recognisable value for every (record, channel, row, column): distinct across channels, rows and columns.
uint8_t pattern(int64_t n, int64_t c, int64_t y, int64_t x) {
  return static_cast<uint8_t>(n * 37 + c * 85 + y * 7 + x * 3 + 1);
}

struct Record {
  std::vector<uint8_t> labels;  // 1 byte for CIFAR-10, {coarse, fine} for CIFAR-100
  int64_t pattern_id;           // pixels = pattern(pattern_id, c, y, x)
};

std::vector<uint8_t> encode(const std::vector<Record>& records) {
  std::vector<uint8_t> bytes;
  for (const Record& r : records) {
    bytes.insert(bytes.end(), r.labels.begin(), r.labels.end());
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) bytes.push_back(pattern(r.pattern_id, c, y, x));
  }
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Writes data_batch_1..5 with the given record counts; labels run 0,1,2,… mod 10; pattern ids 0,1,2,…
void write_cifar10_train(const std::string& dir, const std::vector<int>& counts) {
  int64_t n = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    std::vector<Record> records;
    for (int i = 0; i < counts[b]; ++i, ++n) records.push_back({{static_cast<uint8_t>(n % 10)}, n});
    write_file(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", encode(records));
  }
}

void expect_user_error(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    for (const std::string& f : fragments)
      EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  }
}

TEST(CifarReader, Cifar10TrainConcatenatesTheFiveBatches) {
  TempDir dir;
  write_cifar10_train(dir.str(), {2, 1, 3, 1, 2});
  const auto set = load_cifar(dir.str(), CifarVariant::cifar10, "train");
  ASSERT_EQ(set->size(), 9);
  EXPECT_EQ(set->images().shape(), Shape({9, 3, 32, 32}));
  EXPECT_EQ(set->images().dtype(), DType::u8);
  EXPECT_EQ(set->channels(), 3);
  EXPECT_EQ(set->fixed_size(), (std::pair<int64_t, int64_t>{32, 32}));
  for (int64_t i = 0; i < 9; ++i) EXPECT_EQ(set->label(i), i % 10) << i;
  for (int64_t i = 0; i < 9; ++i)  // file order: batch 1's records first
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x)
          ASSERT_EQ(set->images().at<uint8_t>({i, c, y, x}), pattern(i, c, y, x)) << i << c << y << x;
  ASSERT_EQ(set->num_classes(), 10);
  EXPECT_EQ(set->class_names()[0], "airplane");
  EXPECT_EQ(set->class_names()[9], "truck");
  EXPECT_EQ(set->describe(), "CIFAR-10 train (" + dir.str() + ")");
}

TEST(CifarReader, PixelsArePlanarRowMajor) {
  // One record built byte by byte: R plane, then G, then B, each 32 rows of 32.
  TempDir dir;
  std::vector<uint8_t> record(3073, 0);
  record[0] = 7;                       // label
  record[1 + 0] = 11;                  // R (y0, x0)
  record[1 + 31] = 12;                 // R (y0, x31)
  record[1 + 32] = 13;                 // R (y1, x0)
  record[1 + 1024] = 21;               // G (y0, x0)
  record[1 + 1024 + 5 * 32 + 9] = 22;  // G (y5, x9)
  record[1 + 2048 + 1023] = 31;        // B (y31, x31)
  write_file(dir / "test_batch.bin", record);
  const auto set = load_cifar(dir.str(), CifarVariant::cifar10, "test");
  ASSERT_EQ(set->size(), 1);
  EXPECT_EQ(set->label(0), 7);
  Image image;
  set->load(0, image);
  ASSERT_EQ(image.channels, 3);
  ASSERT_EQ(image.height, 32);
  ASSERT_EQ(image.width, 32);
  EXPECT_EQ(image.plane(0)[0 * 32 + 0], 11);
  EXPECT_EQ(image.plane(0)[0 * 32 + 31], 12);
  EXPECT_EQ(image.plane(0)[1 * 32 + 0], 13);
  EXPECT_EQ(image.plane(1)[0], 21);
  EXPECT_EQ(image.plane(1)[5 * 32 + 9], 22);
  EXPECT_EQ(image.plane(2)[31 * 32 + 31], 31);
  int nonzero = 0;
  for (uint8_t p : image.pixels) nonzero += p != 0;
  EXPECT_EQ(nonzero, 6);
}

TEST(CifarReader, Cifar10ArchiveSubdirectoryAndMetaNames) {
  TempDir dir;
  const std::string sub = dir / "cifar-10-batches-bin";
  write_file(sub + "/test_batch.bin", encode({{{3}, 0}, {{9}, 1}}));
  // As shipped: one name per line, trailing blank lines; CRLF and stray spaces tolerated.
  write_text(sub + "/batches.meta.txt",
             "plane\r\ncar\nbird\n cat \ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n\n");
  const auto set = load_cifar(dir.str(), CifarVariant::cifar10, "test");
  ASSERT_EQ(set->size(), 2);
  EXPECT_EQ(set->label(0), 3);
  EXPECT_EQ(set->label(1), 9);
  EXPECT_EQ(set->images().at<uint8_t>({1, 2, 31, 30}), pattern(1, 2, 31, 30));
  EXPECT_EQ(set->class_names(), (std::vector<std::string>{"plane", "car", "bird", "cat", "deer", "dog",
                                                          "frog", "horse", "ship", "truck"}));
  EXPECT_EQ(set->describe(), "CIFAR-10 test (" + sub + ")");
}

TEST(CifarReader, Cifar100FineAndCoarseLabels) {
  TempDir dir;
  // {coarse, fine}
  write_file(dir / "train.bin", encode({{{4, 99}, 0}, {{19, 0}, 1}, {{0, 42}, 2}}));
  const auto fine = load_cifar(dir.str(), CifarVariant::cifar100_fine, "train");
  ASSERT_EQ(fine->size(), 3);
  EXPECT_EQ(fine->label(0), 99);
  EXPECT_EQ(fine->label(1), 0);
  EXPECT_EQ(fine->label(2), 42);
  ASSERT_EQ(fine->num_classes(), 100);
  EXPECT_EQ(fine->class_names()[0], "class_0");
  EXPECT_EQ(fine->class_names()[99], "class_99");
  EXPECT_EQ(fine->images().at<uint8_t>({2, 1, 3, 4}), pattern(2, 1, 3, 4));  // 2 label bytes skipped

  const auto coarse = load_cifar(dir.str(), CifarVariant::cifar100_coarse, "train");
  EXPECT_EQ(coarse->label(0), 4);
  EXPECT_EQ(coarse->label(1), 19);
  EXPECT_EQ(coarse->label(2), 0);
  ASSERT_EQ(coarse->num_classes(), 20);
  EXPECT_EQ(coarse->class_names()[19], "superclass_19");
  EXPECT_NE(coarse->describe().find("coarse"), std::string::npos);
}

TEST(CifarReader, Cifar100SubdirectoryWithNameFiles) {
  TempDir dir;
  const std::string sub = dir / "cifar-100-binary";
  write_file(sub + "/test.bin", encode({{{1, 2}, 5}}));
  std::string fine_names, coarse_names;
  for (int i = 0; i < 100; ++i) fine_names += "fine" + std::to_string(i) + "\n";
  for (int i = 0; i < 20; ++i) coarse_names += "coarse" + std::to_string(i) + "\n";
  write_text(sub + "/fine_label_names.txt", fine_names);
  write_text(sub + "/coarse_label_names.txt", coarse_names);
  const auto fine = load_cifar(dir.str(), CifarVariant::cifar100_fine, "test");
  EXPECT_EQ(fine->label(0), 2);
  EXPECT_EQ(fine->class_names()[2], "fine2");
  EXPECT_EQ(fine->images().at<uint8_t>({0, 0, 0, 0}), pattern(5, 0, 0, 0));
  const auto coarse = load_cifar(dir.str(), CifarVariant::cifar100_coarse, "test");
  EXPECT_EQ(coarse->label(0), 1);
  EXPECT_EQ(coarse->class_names()[1], "coarse1");
}

TEST(CifarReader, TruncatedFileIsAnError) {
  TempDir dir;
  write_cifar10_train(dir.str(), {2, 2, 2, 2, 2});
  std::vector<uint8_t> bytes = encode({{{1}, 0}, {{2}, 1}});
  bytes.resize(bytes.size() - 100);  // the last record cut short
  write_file(dir / "data_batch_4.bin", bytes);
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar10, "train"); },
                    {dir / "data_batch_4.bin", "6046 bytes", "not a whole number of 3073-byte"});
  write_file(dir / "train.bin", std::vector<uint8_t>(3074 * 3 + 1, 0));
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar100_fine, "train"); },
                    {dir / "train.bin", "3074-byte CIFAR-100 records"});
}

TEST(CifarReader, EmptyFileIsAnError) {
  TempDir dir;
  write_file(dir / "test_batch.bin", {});
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar10, "test"); },
                    {dir / "test_batch.bin", "is empty"});
}

TEST(CifarReader, LabelOutOfRangeNamesTheRecord) {
  TempDir dir;
  write_cifar10_train(dir.str(), {1, 1, 1, 1, 1});
  write_file(dir / "data_batch_3.bin", encode({{{0}, 0}, {{9}, 1}, {{10}, 2}}));
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar10, "train"); },
                    {"record 2 of '" + (dir / "data_batch_3.bin") + "'", "label 10", "0..9"});

  write_file(dir / "test.bin", encode({{{3, 100}, 0}}));
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar100_fine, "test"); },
                    {"record 0 of '" + (dir / "test.bin") + "'", "fine label 100", "0..99"});
  // A bad coarse label is caught even when only fine labels are asked for.
  write_file(dir / "test.bin", encode({{{3, 1}, 0}, {{20, 1}, 1}}));
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar100_fine, "test"); },
                    {"record 1 of", "coarse label 20", "0..19"});
}

TEST(CifarReader, MissingFilesListWhatWasLookedFor) {
  TempDir dir;
  expect_user_error(
      [&] { load_cifar(dir.str(), CifarVariant::cifar10, "test"); },
      {dir / "test_batch.bin", dir / "cifar-10-batches-bin/test_batch.bin", "cifar-10-binary.tar.gz"});
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar100_coarse, "train"); },
                    {dir / "train.bin", dir / "cifar-100-binary/train.bin"});
  // Half an extraction: batches 4 and 5 missing are named.
  write_cifar10_train(dir.str(), {1, 1, 1});
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar10, "train"); },
                    {dir / "data_batch_4.bin", dir / "data_batch_5.bin", "only part"});
  expect_user_error([&] { load_cifar(dir / "no_such_dir", CifarVariant::cifar10, "train"); },
                    {dir / "no_such_dir", "does not exist"});
}

TEST(CifarReader, UnknownSplitAndBadNameFile) {
  TempDir dir;
  write_file(dir / "test_batch.bin", encode({{{0}, 0}}));
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar10, "val"); }, {"unknown split 'val'"});
  write_text(dir / "batches.meta.txt", "a\nb\nc\n");
  expect_user_error([&] { load_cifar(dir.str(), CifarVariant::cifar10, "test"); },
                    {dir / "batches.meta.txt", "names 3 classes", "has 10"});
}

}  // namespace
}  // namespace resnet::data
