#include "resnet/core/format.h"

#include <cstdio>

namespace resnet {

std::string format_count(double n) {
  const struct {
    double scale;
    const char* suffix;
  } units[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
  char buf[48];
  for (const auto& u : units)
    if (n >= u.scale) {
      std::snprintf(buf, sizeof buf, "%.3g%s", n / u.scale, u.suffix);
      return buf;
    }
  std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

}  // namespace resnet
