#include "resnet/core/memory_budget.h"

#include <sys/sysinfo.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "resnet/core/check.h"

namespace resnet {
namespace {

struct Budget {
  uint64_t bytes = std::numeric_limits<uint64_t>::max();
  std::string source = "unknown";
};

// "123", "64M", "2G" → bytes; throws UserError naming the variable otherwise.
uint64_t parse_limit(const std::string& text) {
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) value = UINT64_MAX / 1024 / 1024;
    value = value * 10 + digit;
    ++i;
  }
  int shift = 0;
  if (i + 1 == text.size()) {
    switch (std::toupper(static_cast<unsigned char>(text[i]))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        shift = -1;
    }
    ++i;
  }
  if (i == 0 || i != text.size() || shift < 0 || value == 0)
    throw UserError("RESNET_MEMORY_LIMIT='" + text +
                    "' is not a positive number of bytes: write e.g. 2000000000 or 2G (or unset it)");
  if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift))
    return std::numeric_limits<uint64_t>::max();
  return value << shift;
}

Budget budget() {
  Budget b;
  if (const char* env = std::getenv("RESNET_MEMORY_LIMIT"); env && *env) {
    b.bytes = parse_limit(env);
    b.source = "RESNET_MEMORY_LIMIT";
    return b;
  }
  struct sysinfo si {};
  if (sysinfo(&si) == 0) {
    b.bytes = static_cast<uint64_t>(si.totalram) * static_cast<uint64_t>(si.mem_unit);
    b.source = "physical memory";
  }
  // cgroup v2: the limit of the group this process runs in ("max" when none).
  std::ifstream cgroup("/proc/self/cgroup");
  for (std::string line; std::getline(cgroup, line);) {
    if (line.rfind("0::", 0) != 0) continue;
    std::ifstream max_file("/sys/fs/cgroup" + line.substr(3) + "/memory.max");
    std::string text;
    if (max_file >> text && !text.empty() && text != "max") {
      char* end = nullptr;
      const unsigned long long limit = std::strtoull(text.c_str(), &end, 10);
      if (end && *end == '\0' && limit > 0 && limit < b.bytes) {
        b.bytes = limit;
        b.source = "cgroup memory.max";
      }
    }
  }
  return b;
}

}  // namespace

uint64_t usable_memory_bytes() {
  return budget().bytes;
}

std::string usable_memory_source() {
  return budget().source;
}

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes)) return "an unbounded amount of memory";
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (bytes >= 1000.0 && u < 6) bytes /= 1000.0, ++u;
  if (u == 6 && bytes >= 1000.0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2g EB", bytes);
    return buf;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%.0f bytes", bytes);
  else
    std::snprintf(buf, sizeof buf, bytes < 100.0 ? "%.1f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

void check_memory_budget(double bytes, const std::string& what, const std::string& fix) {
  const Budget b = budget();
  if (std::isfinite(bytes) && bytes >= 0 && bytes <= static_cast<double>(b.bytes)) return;
  throw UserError(what + " needs " + format_bytes(bytes) + ", this machine has " +
                  format_bytes(static_cast<double>(b.bytes)) + " (" + b.source + "): " + fix);
}

}  // namespace resnet
