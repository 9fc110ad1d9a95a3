// Error handling.
//
// Two kinds of failure, two mechanisms:
//  - programmer errors (a broken contract: wrong shape passed to an op, a bad index) use RESNET_CHECK,
//    which throws resnet::CheckError carrying file:line, the failed condition and the streamed values;
//  - user-facing errors (a missing file, a corrupt image, a bad flag) throw resnet::UserError, whose
//    message names the thing, the problem and the fix. The CLI turns it into a message and exit code 2.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace resnet {

class CheckError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

// Collects the streamed message and throws from its destructor at the end of the full expression.
class CheckFailure {
 public:
  CheckFailure(const char* file, int line, const char* condition) {
    stream_ << file << ":" << line << ": check failed: " << condition;
  }
  template <class T>
  CheckFailure& operator<<(const T& value) {
    if (!has_detail_) {
      stream_ << " — ";
      has_detail_ = true;
    }
    stream_ << value;
    return *this;
  }
  [[noreturn]] ~CheckFailure() noexcept(false) { throw CheckError(stream_.str()); }

 private:
  std::ostringstream stream_;
  bool has_detail_ = false;
};

}  // namespace detail
}  // namespace resnet

// RESNET_CHECK(x.ndim() == 4) << "got shape " << x.shape();
#define RESNET_CHECK(cond) \
  if (cond) {              \
  } else                   \
    ::resnet::detail::CheckFailure(__FILE__, __LINE__, #cond)

#define RESNET_CHECK_EQ(a, b) \
  RESNET_CHECK((a) == (b)) << #a << " = " << (a) << ", " << #b << " = " << (b) << " "
