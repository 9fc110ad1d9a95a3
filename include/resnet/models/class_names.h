// A class-names file, as `convert` and `import` take it (--class-names): one name a line, in class-index
// order, for a network of `classes` outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace resnet::models {

// Windows line ends and trailing blank lines are accepted. UserError naming `path` when it cannot be
// read, holds a blank name, or holds another number of names than `classes`.
std::vector<std::string> read_class_names(const std::string& path, int64_t classes);

}  // namespace resnet::models
