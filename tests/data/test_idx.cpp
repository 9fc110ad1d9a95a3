// IDX files: sizes checked against the header while inflating (never inflating past it), and class ids.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_util.h"
#include "resnet/data/idx.h"
#include "resnet/data/sources.h"

using namespace resnet;

namespace {

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string idx_header(std::initializer_list<uint32_t> dims) {
  std::string h = {0, 0, 8, static_cast<char>(dims.size())};
  for (uint32_t d : dims) h += be32(d);
  return h;
}

// One complete gzip member holding `bytes`.
std::string gzip_member(const std::string& bytes) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, bytes.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string error_of(const std::string& path) {
  try {
    data::read_idx_u8(path);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(Idx, GzipThatInflatesFarBeyondItsHeaderIsRefusedAfterTheDeclaredBytes) {
  const auto dir = resnet::testing::fresh_dir("idx_bomb");
  // Header: 2 images of 28 x 28 (1,568 bytes). The stream then goes on to inflate to 1 GiB of zeros: gzip
  // members are concatenated (gzread reads through them), 4,096 copies of one 256 KiB member (~260 bytes).
  const std::string first = gzip_member(idx_header({2, 28, 28}) + std::string(256 << 10, '\0'));
  const std::string zeros = gzip_member(std::string(256 << 10, '\0'));
  std::string file = first;
  for (int i = 0; i < 4095; ++i) file += zeros;
  ASSERT_LT(file.size(), 8u << 20);
  const std::string path = (dir / "train-images-idx3-ubyte.gz").string();
  write(path, file);
  const auto start = std::chrono::steady_clock::now();
  const std::string msg = error_of(path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("holds more data than its header says (2 x 28 x 28, 1568 bytes)"), std::string::npos)
      << msg;
  // Inflating 1 GiB takes seconds and a 1 GiB buffer; stopping one byte after the data takes microseconds.
  EXPECT_LT(seconds, 0.5) << "the reader inflated far past the header's size";
  std::filesystem::remove_all(dir);
}

TEST(Idx, HeadersThatTheFileCannotHoldAreRefusedBeforeAllocating) {
  const auto dir = resnet::testing::fresh_dir("idx_sizes");
  const std::string gz = (dir / "a.gz").string(), plain = (dir / "a").string();
  // 60,000 x 28 x 28 bytes cannot come out of a ~60-byte gzip file (deflate's limit is 1032:1).
  write(gz, gzip_member(idx_header({60000, 28, 28}) + std::string(100, '\0')));
  std::string msg = error_of(gz);
  EXPECT_NE(msg.find(gz), std::string::npos) << msg;
  EXPECT_NE(msg.find("47040000 bytes), more than the"), std::string::npos) << msg;
  // Dimensions whose product overflows 64 bits.
  write(plain, idx_header({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}) + "x");
  msg = error_of(plain);
  EXPECT_NE(msg.find("an overflowing number of bytes"), std::string::npos) << msg;
  // ... even when a later dimension is 0 (found by fuzz_idx: the element count overflowed in int64).
  write(plain, idx_header({0x9d1f0262, 0xff7f0000, 0}) + "x");
  msg = error_of(plain);
  EXPECT_NE(msg.find("an overflowing number of bytes"), std::string::npos) << msg;
  write(plain, idx_header({0, 0xdf95032f, 0xbaf54edf}) + "x");  // the strides overflowed
  msg = error_of(plain);
  EXPECT_NE(msg.find("an overflowing number of bytes"), std::string::npos) << msg;
  // Plain files: too short and too long.
  write(plain, idx_header({2, 3}) + "12345");
  EXPECT_NE(error_of(plain).find("2 x 3 (6 bytes), more than the 17-byte file"), std::string::npos)
      << error_of(plain);
  write(plain, idx_header({2, 3}) + "1234567");
  EXPECT_NE(error_of(plain).find("holds more data than its header says"), std::string::npos)
      << error_of(plain);
  // Gzipped and too short: the data ends early.
  write(gz, gzip_member(idx_header({2, 3}) + "12345"));
  EXPECT_NE(error_of(gz).find("the data ends after 5"), std::string::npos) << error_of(gz);
  // Exact sizes load, gzipped or not.
  write(plain, idx_header({2, 3}) + "123456");
  EXPECT_EQ(data::read_idx_u8(plain).shape(), (Shape{2, 3}));
  write(gz, gzip_member(idx_header({2, 3}) + "123456"));
  EXPECT_EQ(data::read_idx_u8(gz).data<uint8_t>()[5], '6');
  std::filesystem::remove_all(dir);
}

// An IDX directory of 1x1 images with the given labels for both splits.
void write_idx_dir(const std::filesystem::path& dir, const std::string& train_labels,
                   const std::string& test_labels) {
  for (const auto& [prefix, labels] : {std::pair{"train", train_labels}, std::pair{"t10k", test_labels}}) {
    const auto n = static_cast<uint32_t>(labels.size());
    write(dir / (std::string(prefix) + "-images-idx3-ubyte"), idx_header({n, 1, 1}) + std::string(n, '\0'));
    write(dir / (std::string(prefix) + "-labels-idx1-ubyte"), idx_header({n}) + labels);
  }
}

TEST(Idx, LabelsMustBeZeroToNMinusOneWithEveryClassPresent) {
  const auto dir = resnet::testing::fresh_dir("idx_labels");
  std::string labels;
  for (int i = 0; i < 20; ++i) labels += static_cast<char>(i % 10);
  write_idx_dir(dir, labels, labels);
  EXPECT_EQ(data::open_data_sources("idx:" + dir.string(), {}).train->num_classes(), 10);
  // A stray label 200 would make a 201-class model with 191 classes that have no example.
  std::string stray = labels;
  stray[5] = static_cast<char>(200);
  stray[15] = 5;  // keep class 5 present
  write_idx_dir(dir, stray, labels);
  try {
    data::open_data_sources("idx:" + dir.string(), {});
    ADD_FAILURE() << "a label 200 among 0..9 was accepted";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((dir / "train-labels-idx1-ubyte").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("label 200 at index 5 but class 10 has no example (the labels 0..9 are all present)"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("class ids must be 0..N-1 with every class present"), std::string::npos) << msg;
  }
  // The test split may not use a class the training split lacks.
  std::string test = labels;
  test[3] = 10;
  write_idx_dir(dir, labels, test);
  try {
    data::open_data_sources("idx:" + dir.string(), {});
    ADD_FAILURE() << "a test label 10 with 10 training classes was accepted";
  } catch (const UserError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((dir / "t10k-labels-idx1-ubyte").string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("label 10 at index 3 is not one of the training set's 10 classes"), std::string::npos)
        << msg;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
