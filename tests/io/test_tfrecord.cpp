#include "resnet/io/tfrecord.h"

#include <gtest/gtest.h>

#include "resnet/core/check.h"

namespace resnet::io {
namespace {

TEST(TfRecord, Crc32cMatchesTheStandardCheckValues) {
  // The CRC-32C catalogue's check value, and RFC 3720's (iSCSI) 32 bytes of zeros and of 0xFF.
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
  const std::string zeros(32, '\0'), ones(32, '\xff');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(TfRecord, MaskedCrcIsRotatedAndOffset) {
  const uint32_t c = 0xE3069283u;
  EXPECT_EQ(masked_crc32c("123456789", 9), ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST(TfRecord, RecordsRoundTripAndDamageIsNamed) {
  const std::string file = tfrecord("first") + tfrecord("") + tfrecord(std::string(1000, 'x'));
  EXPECT_EQ(file.size(), 3 * 16 + 5 + 1000u);
  EXPECT_EQ(read_tfrecords(file, "f"), std::vector<std::string>({"first", "", std::string(1000, 'x')}));
  auto error = [](const std::string& bytes) {
    try {
      read_tfrecords(bytes, "events.bin");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string flipped = file;
  flipped[13] ^= 1;  // a byte of the first payload
  EXPECT_NE(error(flipped).find("payload's CRC"), std::string::npos) << error(flipped);
  EXPECT_NE(error(flipped).find("events.bin"), std::string::npos);
  std::string length = file;
  length[0] ^= 4;
  EXPECT_NE(error(length).find("length's CRC"), std::string::npos) << error(length);
  EXPECT_NE(error(file.substr(0, file.size() - 3)).find("ends first"), std::string::npos);
  EXPECT_NE(error(file.substr(0, 7)).find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace resnet::io
