#include "resnet/core/suggest.h"

#include <algorithm>

namespace resnet {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string closest_names(const std::string& name, const std::vector<std::string>& candidates, size_t count) {
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const auto& c : candidates) ranked.emplace_back(edit_distance(name, c), c);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::string out;
  for (size_t i = 0; i < count && i < ranked.size(); ++i) out += (i ? ", " : "") + ranked[i].second;
  return out;
}

}  // namespace resnet
