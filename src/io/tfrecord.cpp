#include "resnet/io/tfrecord.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <cstring>

#include "resnet/core/check.h"

namespace resnet::io {

uint32_t crc32c(const void* data, size_t size) {
  // ISA-L's iSCSI CRC takes and returns the register without the final inversions of CRC-32C.
  uint32_t crc = 0xFFFFFFFFu;
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {  // its length is an int
    const int chunk = static_cast<int>(std::min<size_t>(size, 1u << 30));
    crc = crc32_iscsi(const_cast<unsigned char*>(p), chunk, crc);
    p += chunk, size -= static_cast<size_t>(chunk);
  }
  return crc ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string tfrecord(const std::string& payload) {
  std::string out;
  put_le(out, payload.size(), 8);
  put_le(out, masked_crc32c(out.data(), 8), 4);
  out += payload;
  put_le(out, masked_crc32c(payload.data(), payload.size()), 4);
  return out;
}

std::vector<std::string> read_tfrecords(const std::string& bytes, const std::string& name) {
  std::vector<std::string> records;
  size_t at = 0;
  while (at < bytes.size()) {
    const std::string where =
        "'" + name + "', record " + std::to_string(records.size()) + " at byte " + std::to_string(at);
    if (bytes.size() - at < 12) throw UserError(where + ": truncated length header");
    const uint64_t length = get_le(bytes.data() + at, 8);
    if (get_le(bytes.data() + at + 8, 4) != masked_crc32c(bytes.data() + at, 8))
      throw UserError(where + ": the length's CRC does not match (a damaged file)");
    if (length > bytes.size() - at - 12 || bytes.size() - at - 12 - length < 4)
      throw UserError(where + ": holds " + std::to_string(length) + " bytes but the file ends first");
    const char* payload = bytes.data() + at + 12;
    if (get_le(payload + length, 4) != masked_crc32c(payload, length))
      throw UserError(where + ": the payload's CRC does not match (a damaged file)");
    records.emplace_back(payload, length);
    at += 12 + length + 4;
  }
  return records;
}

}  // namespace resnet::io
