// Shared by the libFuzzer targets (fuzz/fuzz_*.cpp, built with -DRESNET_FUZZ=ON, run by scripts/fuzz.sh).
//
// Contract of every target: any input must either be accepted or raise resnet::UserError (a message for
// the user). Anything else is a finding: a crash or sanitizer report, and any other exception —
// std::bad_alloc (an allocation sized by the file), CheckError (a broken internal contract),
// nlohmann::json or std:: exceptions (an unchecked field) — escapes the target, reaches std::terminate and
// is reported by libFuzzer as a crash with the input saved.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace resnet::fuzz {

// A per-process scratch directory in memory (/dev/shm when present), emptied at start.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    auto d = base / ("resnet_fuzz_" + std::to_string(getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes `data` to scratch_dir()/name (replacing it) and returns the path: the parsers under test read files.
inline std::string write_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (scratch_dir() / name).string();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

}  // namespace resnet::fuzz
