#include "resnet/train/progress.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace resnet::train {

namespace {
std::atomic<bool> progress_enabled{true};
}  // namespace

void set_progress_enabled(bool enabled) {
  progress_enabled = enabled;
}

std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)), total_(total > 0 ? total : 1), tty_(isatty(STDERR_FILENO)) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void ProgressBar::update(int64_t done, const std::string& status) {
  if (done >= total_) return;  // the last state is drawn by finish()
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  } else {
    const int decile = static_cast<int>(10 * done / total_);
    if (decile == last_decile_) return;
    last_decile_ = decile;
  }
  last_draw_ = now;
  draw(done, status, false);
}

void ProgressBar::finish(const std::string& status) {
  draw(total_, status, true);
}

void ProgressBar::stop(int64_t done, const std::string& status) {
  draw(done, status, true);
}

void ProgressBar::draw(int64_t done, const std::string& status, bool final) {
  if (!progress_enabled) return;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total_);
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  std::string timing = final
                           ? "in " + format_duration(elapsed)
                           : (done > 0 ? "ETA " + format_duration(elapsed * (1 - fraction) / fraction) : "");
  std::fprintf(stderr, "%s%s [%s] %lld/%lld  %s  %s%s", tty_ ? "\r\033[2K" : "", label_.c_str(), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), status.c_str(), timing.c_str(),
               (final || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace resnet::train
