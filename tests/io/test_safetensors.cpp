#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "resnet/io/safetensors.h"
#include "test_util.h"

using namespace resnet;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("resnet_test_" + std::to_string(getpid()) + "_" + name))
      .string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string header_file(const std::string& json, size_t data_bytes) {
  std::string s(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(s.data(), &n, 8);
  return s + json + std::string(data_bytes, '\0');
}

TEST(Safetensors, RoundTripKeepsNamesShapesTypesAndMetadata) {
  Rng rng(1);
  const Tensor a = resnet::testing::random_tensor({3, 4}, rng);
  const Tensor b = resnet::testing::random_tensor({2, 3, 4, 5}, rng).clone(Layout::channels_last);
  Tensor c = Tensor::empty(Shape{}, DType::i64);
  c.data<int64_t>()[0] = 42;
  const std::string path = temp_path("rt.safetensors");
  io::save_safetensors(path, {{"a", a}, {"layer.b", b}, {"n", c}}, {{"model", "test"}});
  const io::TensorFile f = io::load_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 3u);
  EXPECT_EQ(f.tensors[1].first, "layer.b");
  EXPECT_EQ(f.metadata.at("model"), "test");
  EXPECT_LE(resnet::testing::max_rel_error(f.at("a"), a), 0.0);
  EXPECT_LE(resnet::testing::max_rel_error(f.at("layer.b"), b), 0.0);
  EXPECT_EQ(f.at("n").data<int64_t>()[0], 42);
  EXPECT_THROW(f.at("missing"), UserError);
  std::remove(path.c_str());
}

TEST(Safetensors, CorruptFilesGetClearErrorsNamingTheFile) {
  const std::string path = temp_path("bad.safetensors");
  auto expect_error = [&](const std::string& bytes, const std::string& needle) {
    write_bytes(path, bytes);
    try {
      io::load_safetensors(path);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const UserError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  expect_error("abc", "shorter than");
  expect_error(header_file("{}", 0).substr(0, 7) + std::string(1, '\x7f'), "header length");
  expect_error(header_file("{not json", 0), "not valid JSON");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8), "outside");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", 16), "need 12");
  expect_error(header_file(R"({"w":{"dtype":"Q7","shape":[4],"data_offsets":[0,4]}})", 4),
               "unsupported dtype");
  expect_error(
      header_file(
          R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
          12),
      "overlap");
  // Hostile shapes: 10 GB declared, a product that would overflow 64 bits, negative and non-integer dims.
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[50000,50000],"data_offsets":[0,16]}})", 16),
               "bad shape");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[9,9,9],"data_offsets":[0,16]}})", 16),
               "larger than the file");
  expect_error(
      header_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})", 16),
      "bad shape");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", 16), "bad shape");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}})", 16), "bad shape");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[NaN],"data_offsets":[0,16]}})", 16),
               "not valid JSON");
  expect_error(header_file(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", 16), "outside");
  std::remove(path.c_str());
  EXPECT_THROW(io::load_safetensors(temp_path("does_not_exist")), UserError);
}

TEST(Safetensors, RepeatedHeaderKeysAndTrailingBytesAreRefused) {
  const std::string path = temp_path("strict.safetensors");
  auto error_for = [&](const std::string& bytes) -> std::string {
    write_bytes(path, bytes);
    try {
      io::load_safetensors(path);
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  const std::string w = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  // The data section exactly covers the tensors: accepted.
  EXPECT_EQ(error_for(header_file("{" + w + "}", 8)), "");
  // A tensor named twice (nlohmann::json would silently keep the second).
  std::string msg = error_for(header_file("{" + w + "," + w + "}", 8));
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("names 'w' twice"), std::string::npos) << msg;
  // ... and a metadata key named twice.
  msg = error_for(header_file(R"({"__metadata__":{"a":"1","a":"2"},)" + w + "}", 8));
  EXPECT_NE(msg.find("names 'a' twice"), std::string::npos) << msg;
  // The same key in different objects is fine.
  EXPECT_EQ(error_for(header_file(R"({"__metadata__":{"w":"x"},)" + w + "}", 8)), "");
  // Bytes after the last tensor's data.
  msg = error_for(header_file("{" + w + "}", 8) + "junk");
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("4 bytes follow the last tensor"), std::string::npos) << msg;
  msg = error_for(header_file("{}", 3));
  EXPECT_NE(msg.find("3 bytes follow the last tensor"), std::string::npos) << msg;
  std::remove(path.c_str());
}

TEST(Safetensors, SaveIsAtomicAndLeavesNoTemporaryFiles) {
  const std::string path = temp_path("atomic.safetensors");
  io::save_safetensors(path, {{"x", Tensor::full({4}, 1.0)}});
  io::save_safetensors(path, {{"x", Tensor::full({4}, 2.0)}});
  EXPECT_EQ(io::load_safetensors(path).at("x").get_flat(0), 2.0);
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
    EXPECT_EQ(e.path().string().find(path + ".tmp"), std::string::npos) << e.path();
  std::remove(path.c_str());
}

}  // namespace

namespace {

TEST(Safetensors, HalfPrecisionStorageRoundTripsEveryHalfExactly) {
  // A file holding all 65,536 F16 bit patterns, decoded by the loader to f32...
  std::string bits(65536 * 2, '\0');
  for (uint32_t h = 0; h < 65536; ++h) std::memcpy(&bits[2 * h], &h, 2);
  const std::string json = R"({"h":{"dtype":"F16","shape":[65536],"data_offsets":[0,131072]}})";
  const std::string raw_path = temp_path("all_halves.safetensors");
  write_bytes(raw_path, header_file(json, 0) + bits);
  const Tensor decoded = io::load_safetensors(raw_path).at("h");
  ASSERT_EQ(decoded.dtype(), DType::f32);
  EXPECT_EQ(decoded.get_flat(0x3c00), 1.0);
  EXPECT_EQ(decoded.get_flat(0x7bff), 65504.0);
  EXPECT_EQ(decoded.get_flat(0x0001), std::ldexp(1.0, -24));  // smallest subnormal
  // ... and written back as F16: every non-NaN value must come back bit for bit.
  const std::string half_path = temp_path("halves_again.safetensors");
  io::save_safetensors(half_path, {{"h", decoded}}, {}, io::FloatStorage::f16);
  const Tensor again = io::load_safetensors(half_path).at("h");
  for (int64_t i = 0; i < 65536; ++i) {
    if (std::isnan(decoded.get_flat(i))) {
      ASSERT_TRUE(std::isnan(again.get_flat(i))) << i;
    } else {
      ASSERT_EQ(again.get_flat(i), decoded.get_flat(i)) << "half pattern " << i;
    }
  }
  // Rounding to nearest, ties to even, and overflow to infinity.
  const float in[] = {1.0f + std::ldexp(1.0f, -11),
                      1.0f + 3 * std::ldexp(1.0f, -11),
                      65519.0f,
                      65520.0f,
                      std::ldexp(1.0f, -25),
                      std::ldexp(3.0f, -26)};
  const double out[] = {1.0, 1.0 + std::ldexp(1.0, -9), 65504.0, INFINITY, 0.0, std::ldexp(1.0, -24)};
  Tensor t = Tensor::empty({6});
  for (int i = 0; i < 6; ++i) t.set_flat(i, in[i]);
  io::save_safetensors(half_path, {{"t", t}}, {}, io::FloatStorage::f16);
  const Tensor r = io::load_safetensors(half_path).at("t");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(r.get_flat(i), out[i]) << "input " << in[i];
  // BF16 storage keeps the dtype.
  io::save_safetensors(half_path, {{"t", t}}, {}, io::FloatStorage::bf16);
  EXPECT_EQ(io::load_safetensors(half_path).at("t").dtype(), DType::bf16);
  std::remove(raw_path.c_str());
  std::remove(half_path.c_str());
}

}  // namespace
