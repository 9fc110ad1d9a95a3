#include "zip_archive.h"

#include <zip.h>

#include <algorithm>

#include "resnet/core/check.h"

namespace resnet::io {

ZipArchive::ZipArchive(std::span<const uint8_t> bytes, const std::string& path) : path_(path) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source) archive_ = zip_open_from_source(source, ZIP_RDONLY, &error);
  if (!archive_) {
    const std::string reason = zip_error_strerror(&error);
    if (source) zip_source_free(source);
    zip_error_fini(&error);
    throw UserError("'" + path + "' is not a readable zip archive (" + reason +
                    "): the file is truncated or damaged; save it again with torch.save");
  }
  zip_error_fini(&error);
}

ZipArchive::~ZipArchive() {
  if (archive_) zip_discard(archive_);
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(archive_, 0);
  for (zip_int64_t i = 0; i < n; ++i)
    if (const char* name = zip_get_name(archive_, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_RAW))
      out.emplace_back(name);
  return out;
}

int64_t ZipArchive::index_of(const std::string& name) const {
  return zip_name_locate(archive_, name.c_str(), ZIP_FL_ENC_RAW);
}

bool ZipArchive::contains(const std::string& name) const {
  return index_of(name) >= 0;
}

uint64_t ZipArchive::size(const std::string& name) const {
  const int64_t index = index_of(name);
  zip_stat_t st;
  zip_stat_init(&st);
  if (index < 0 || zip_stat_index(archive_, static_cast<zip_uint64_t>(index), 0, &st) != 0 ||
      !(st.valid & ZIP_STAT_SIZE))
    throw UserError("'" + path_ + "' lacks the record '" + name +
                    "' (the zip archive is incomplete): save the checkpoint again with torch.save");
  return st.size;
}

std::vector<uint8_t> ZipArchive::read(const std::string& name, int64_t bytes) const {
  const uint64_t available = size(name);
  const uint64_t wanted = bytes < 0 ? available : static_cast<uint64_t>(bytes);
  if (wanted > available)
    throw UserError("'" + path_ + "': record '" + name + "' holds " + std::to_string(available) + " bytes, " +
                    std::to_string(wanted) + " needed: the file is truncated or damaged; save it again");
  zip_file_t* file = zip_fopen_index(archive_, static_cast<zip_uint64_t>(index_of(name)), 0);
  if (!file)
    throw UserError("'" + path_ + "': cannot open record '" + name + "' (" + zip_strerror(archive_) +
                    "): the file is damaged; save it again");
  // Grown as bytes arrive, not sized from the directory's claim: a forged entry announcing gigabytes
  // for a few compressed bytes costs only what it really inflates to.
  std::vector<uint8_t> out;
  constexpr uint64_t kChunk = uint64_t{1} << 24;
  while (out.size() < wanted) {
    const uint64_t done = out.size();
    out.resize(done + std::min(kChunk, wanted - done));
    const zip_int64_t got = zip_fread(file, out.data() + done, out.size() - done);
    if (got <= 0) {
      const std::string reason = got < 0 ? zip_file_strerror(file) : "ends early";
      zip_fclose(file);
      throw UserError("'" + path_ + "': record '" + name + "' cannot be read (" + reason +
                      "): the file is damaged; save it again");
    }
    out.resize(done + static_cast<uint64_t>(got));
  }
  zip_fclose(file);
  return out;
}

}  // namespace resnet::io
