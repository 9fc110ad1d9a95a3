// A progress bar for long work: "train 1/3 [#######.....]  412/469  loss 0.512  acc 81.2%  905 img/s  ETA
// 0:07". On a terminal it redraws one line (at most 10 times a second); when stderr is not a terminal (CI,
// logs) it prints a plain line every 10 % instead, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace resnet::train {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  // `done` items of `total`; `status` is appended after the counts (e.g. running loss).
  void update(int64_t done, const std::string& status = "");
  // Draws the final state and ends the line.
  void finish(const std::string& status = "");
  // Ends the line at `done` of `total` (work stopped early).
  void stop(int64_t done, const std::string& status);

 private:
  void draw(int64_t done, const std::string& status, bool final);
  std::string label_;
  int64_t total_;
  bool tty_;
  int last_decile_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

std::string format_duration(double seconds);  // "1:05", "1:02:03"

// Off: every ProgressBar draws nothing (`resnet … --quiet`). On by default.
void set_progress_enabled(bool enabled);

}  // namespace resnet::train
