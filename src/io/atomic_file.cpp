#include "resnet/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "resnet/core/check.h"

namespace resnet::io {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw UserError("cannot " + what + " '" + path + "': " + std::strerror(errno) +
                  " (check that the directory exists, is writable and the disk is not full)");
}

}  // namespace

void write_file_atomically(const std::string& path, const std::function<void(const ByteSink&)>& write) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) fail("create a temporary file next to", path);
  try {
    write([&](const void* data, size_t bytes) {
      const char* p = static_cast<const char*>(data);
      while (bytes > 0) {
        const ssize_t n = ::write(fd, p, bytes);
        if (n < 0) {
          if (errno == EINTR) continue;
          fail("write", tmp);
        }
        p += n;
        bytes -= static_cast<size_t>(n);
      }
    });
    if (fsync(fd) != 0) fail("fsync", tmp);
    if (fchmod(fd, 0644) != 0) fail("set permissions of", tmp);
    if (close(fd) != 0) fail("close", tmp);
  } catch (...) {
    close(fd);
    unlink(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    unlink(tmp.c_str());
    fail("rename a temporary file onto", path);
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_file_atomically(path, [&](const ByteSink& sink) { sink(text.data(), text.size()); });
}

}  // namespace resnet::io
