// "Did you mean …?" for unknown names (models, flags, config keys, transforms): candidates ranked by edit
// distance.
#pragma once

#include <string>
#include <vector>

namespace resnet {

size_t edit_distance(const std::string& a, const std::string& b);
// The `count` candidates closest to `name`, joined as "a, b, c".
std::string closest_names(const std::string& name, const std::vector<std::string>& candidates,
                          size_t count = 3);

}  // namespace resnet
