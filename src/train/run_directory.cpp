#include "resnet/train/run_directory.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "resnet/core/check.h"
#include "resnet/io/atomic_file.h"
#include "resnet/io/safetensors.h"

namespace resnet::train {
namespace {

namespace fs = std::filesystem;

// What the lock file says about its holder ("" when it cannot be read).
std::string holder_of(int fd) {
  char buf[64] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string pid = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid;
}

}  // namespace

RunDirectoryLock::RunDirectoryLock(const std::string& dir) : dir_(dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir))
    throw UserError("cannot create the run directory '" + dir +
                    "': " + (error ? error.message() : std::string("a file of that name is in the way")) +
                    ": choose another --dir or --name");
  const std::string lock_path = dir + "/.lock";
  fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw UserError("cannot write in the run directory '" + dir + "' (" + std::strerror(errno) +
                    "): make it writable, or choose another --dir or --name");
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = holder_of(fd_);
    close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw UserError("the run directory '" + dir + "' is in use by another training process" +
                      (holder.empty() ? std::string() : " (PID " + holder + ")") +
                      ": wait for it to finish or stop it, or train under another --name");
    throw UserError("cannot lock the run directory '" + dir + "' (" + std::strerror(err) +
                    "): is it on a file system without locks? choose another --dir");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    throw UserError("cannot write in the run directory '" + dir + "' (" + std::strerror(errno) +
                    "): make it writable, or choose another --dir or --name");
  // Temporary files of atomic writes that a killed process left (io/atomic_file.cpp names them
  // <target>.tmp.XXXXXX): nobody else can be writing in a directory we hold the lock of.
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    const auto at = name.rfind(".tmp.");
    if (at != std::string::npos && name.size() == at + 5 + 6 && entry.is_regular_file()) {
      fs::remove(entry.path(), error);
      removed_ += !error;
    }
  }
}

RunDirectoryLock::~RunDirectoryLock() {
  if (fd_ >= 0) close(fd_);  // closing the last descriptor releases the flock
}

bool reconcile_best(const std::string& dir, int64_t committed_best_epoch) {
  const std::string pending = dir + "/" + kPendingBestFile;
  if (!fs::exists(pending)) return false;
  int64_t epoch = -1;
  try {
    const io::TensorFile file = io::load_safetensors(pending);
    const auto it = file.metadata.find("epoch");
    if (it != file.metadata.end()) epoch = std::stoll(it->second);
  } catch (const std::exception&) {
    epoch = -1;  // unreadable: it never reached its commit
  }
  if (epoch >= 0 && epoch == committed_best_epoch) {
    io::rename_durably(pending, dir + "/best.safetensors");
    return true;
  }
  fs::remove(pending);
  return false;
}

}  // namespace resnet::train
