#include "resnet/models/class_names.h"

#include <fstream>

#include "resnet/core/check.h"

namespace resnet::models {

std::vector<std::string> read_class_names(const std::string& path, int64_t classes) {
  std::ifstream in(path);
  if (!in)
    throw UserError("cannot open --class-names '" + path + "': give a text file with one class name a line");
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  while (!names.empty() && names.back().empty()) names.pop_back();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i].empty())
      throw UserError("--class-names '" + path + "': line " + std::to_string(i + 1) +
                      " is blank: every class needs a name, one a line");
  if (static_cast<int64_t>(names.size()) != classes)
    throw UserError("--class-names '" + path + "' has " + std::to_string(names.size()) +
                    " names for a model of " + std::to_string(classes) +
                    " classes: one name a line, in class-index order");
  return names;
}

}  // namespace resnet::models
