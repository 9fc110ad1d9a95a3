#include "resnet/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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

void crash_point(const char* what, const std::string& path) {
  static const long crash_at = [] {
    const char* v = std::getenv("RESNET_CRASH_AT");
    return v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  static const char* trace = std::getenv("RESNET_CRASH_TRACE");
  static std::atomic<long> reached{0};
  if (crash_at <= 0 && !trace) return;
  const long n = ++reached;
  if (trace) {
    if (FILE* f = std::fopen(trace, "a")) {
      std::fprintf(f, "%ld %s%s\n", n, what, path.c_str());
      std::fclose(f);
    }
  }
  if (n == crash_at) {
    std::fprintf(stderr, "crash point %ld (%s%s): killing this process (RESNET_CRASH_AT)\n", n, what,
                 path.c_str());
    std::raise(SIGKILL);
  }
}

void rename_durably(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) fail("rename '" + from + "' onto", to);
  crash_point("renamed onto ", to);
  std::string dir = std::filesystem::path(to).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
}

void write_file_atomically(const std::string& path, const std::function<void(const ByteSink&)>& write) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0) fail("create a temporary file next to", path);
  try {
    auto put = [&](const char* p, size_t bytes) {
      while (bytes > 0) {
        const ssize_t n = ::write(fd, p, bytes);
        if (n < 0) {
          if (errno == EINTR) continue;
          fail("write", tmp);
        }
        p += n;
        bytes -= static_cast<size_t>(n);
      }
    };
    bool first = true;
    write([&](const void* data, size_t bytes) {
      const char* p = static_cast<const char*>(data);
      if (first && bytes >= 2) {  // the crash point "half written" splits the first piece
        put(p, bytes / 2);
        crash_point("half written ", path);
        p += bytes / 2;
        bytes -= bytes / 2;
      }
      first = false;
      put(p, bytes);
    });
    if (fsync(fd) != 0) fail("fsync", tmp);
    if (fchmod(fd, 0644) != 0) fail("set permissions of", tmp);
    if (close(fd) != 0) fail("close", tmp);
  } catch (...) {
    close(fd);
    unlink(tmp.c_str());
    throw;
  }
  crash_point("written, not renamed ", path);
  try {
    rename_durably(tmp, path);
  } catch (...) {
    unlink(tmp.c_str());
    throw;
  }
}

void write_text_atomically(const std::string& path, const std::string& text) {
  write_file_atomically(path, [&](const ByteSink& sink) { sink(text.data(), text.size()); });
}

}  // namespace resnet::io
