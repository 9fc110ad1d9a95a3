// The run directory as a transaction: one trainer at a time, nothing half-written left behind.
//
// RunDirectoryLock is held for the whole of a train() or resume(). Taking it
//  - creates the directory and proves it writable, before any data is loaded (a read-only or impossible
//    path fails in a second, naming the directory);
//  - takes an exclusive flock(2) on <dir>/.lock and writes this process's PID into it; a second trainer
//    on the same directory is refused with the holder's PID (the kernel drops the lock when its holder
//    dies, even by SIGKILL, so a crash never leaves the directory locked);
//  - removes the temporary files (*.tmp.XXXXXX) that a killed writer left: with the lock held, no other
//    process can be writing them.
//
// How the files of a run commit together (trainer.cpp, end of an epoch):
//   1. a new best is written to best.next.safetensors, recording its epoch;
//   2. last.safetensors is written: the commit point, its state names the best epoch;
//   3. best.next.safetensors is renamed onto best.safetensors;
//   4. metrics.jsonl/csv and the plots are rewritten from the history in last.safetensors;
//   5. at the end of the run, summary.json.
// Every step is an atomic file write or rename, so a kill leaves a prefix of them; resume reconciles
// that prefix (reconcile_best: roll step 3 forward or step 1 back) and rewrites the files of step 4.
#pragma once

#include <cstdint>
#include <string>

namespace resnet::train {

class RunDirectoryLock {
 public:
  // Throws UserError naming the directory when it cannot be created or written, or when another process
  // holds its lock.
  explicit RunDirectoryLock(const std::string& dir);
  ~RunDirectoryLock();
  RunDirectoryLock(const RunDirectoryLock&) = delete;
  RunDirectoryLock& operator=(const RunDirectoryLock&) = delete;

  const std::string& dir() const { return dir_; }
  // How many stale temporary files taking the lock removed.
  int removed_temporaries() const { return removed_; }

 private:
  std::string dir_;
  int fd_ = -1;
  int removed_ = 0;
};

// The file a new best is staged in before the commit point (see above).
inline constexpr const char* kPendingBestFile = "best.next.safetensors";

// Step 3 of the commit, or its reconciliation on resume: when `dir`/best.next.safetensors exists, it is
// renamed onto best.safetensors if it holds `committed_best_epoch`, and removed otherwise (a kill came
// before the commit point). Returns true when it rolled forward.
bool reconcile_best(const std::string& dir, int64_t committed_best_epoch);

}  // namespace resnet::train
