#include "resnet/core/shape.h"

#include <ostream>
#include <sstream>

namespace resnet {

std::string Shape::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << '[';
  for (int i = 0; i < s.ndim(); ++i) os << (i ? ", " : "") << s[i];
  return os << ']';
}

}  // namespace resnet
