// Reading records of a zip archive held in memory (libzip). Private to src/io: the .pth reader's view of
// torch's zip container. Errors throw UserError naming `path` and the record.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

struct zip;

namespace resnet::io {

class ZipArchive {
 public:
  // `bytes` must outlive the archive. Throws UserError when they are not a readable zip archive.
  ZipArchive(std::span<const uint8_t> bytes, const std::string& path);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // Uncompressed size of a record, as its directory entry says.
  uint64_t size(const std::string& name) const;
  // The first `bytes` bytes of a record (all of it when bytes is -1). Throws when the record is missing,
  // shorter than asked, or corrupt. Never decompresses more than asked, so a record claiming a huge size
  // costs nothing until read.
  std::vector<uint8_t> read(const std::string& name, int64_t bytes = -1) const;

 private:
  int64_t index_of(const std::string& name) const;
  zip* archive_ = nullptr;
  std::string path_;
};

}  // namespace resnet::io
