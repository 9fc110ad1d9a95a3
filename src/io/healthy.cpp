#include "resnet/io/healthy.h"

#include <atomic>

#include "resnet/core/finite.h"

namespace resnet::io {
namespace {

std::atomic<bool> allow_nonfinite_weights{false};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

void set_allow_nonfinite_weights(bool allow) {
  allow_nonfinite_weights = allow;
}

bool nonfinite_weights_allowed() {
  return allow_nonfinite_weights;
}

void check_healthy(const std::string& name, const Tensor& t, const std::string& path) {
  const std::string where = "tensor '" + name + "' of '" + path + "'";
  const std::string fix =
      ": the file is damaged or comes from a run that diverged; use an earlier checkpoint (eval, "
      "predict, forward, export, import and convert load it anyway with --allow-nonfinite, for forensics)";
  if (const auto i = first_nonfinite(t))
    throw UserError(where + " holds " + describe_value(t.get_flat(*i)) + " at index " +
                    describe_index(t.shape(), *i) + fix);
  if (ends_with(name, "running_var"))
    if (const auto i = first_negative(t))
      throw UserError(where + " holds the negative variance " + describe_value(t.get_flat(*i)) +
                      " at index " + describe_index(t.shape(), *i) + fix);
}

}  // namespace resnet::io
