// TFRecord files, the container of TensorBoard's event files: each record is
//   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · the payload · uint32 masked
//   CRC-32C of the payload
// where masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8. The CRC-32C is ISA-L's (hardware when present).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace resnet::io {

uint32_t crc32c(const void* data, size_t size);  // CRC-32C (Castagnoli), as iSCSI and ext4 use it
uint32_t masked_crc32c(const void* data, size_t size);

// One framed record holding `payload`.
std::string tfrecord(const std::string& payload);

// Every record of a TFRecord file's `bytes`, each CRC checked. UserError naming `name` on a truncated or
// corrupt record.
std::vector<std::string> read_tfrecords(const std::string& bytes, const std::string& name);

}  // namespace resnet::io
