#include "resnet/optim/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "resnet/core/check.h"

namespace resnet::optim {

LrSchedule::LrSchedule(ScheduleOptions options) : o_(std::move(options)) {
  const std::string& k = o_.kind;
  if (k != "constant" && k != "multistep" && k != "cosine" && k != "onecycle")
    throw UserError("unknown schedule '" + k + "': use constant, multistep, cosine or onecycle");
  if (o_.warmup != "linear" && o_.warmup != "constant")
    throw UserError("unknown warm-up '" + o_.warmup + "': use linear or constant");
  if (!(o_.lr > 0)) throw UserError("the learning rate must be positive, got " + std::to_string(o_.lr));
  if (o_.warmup_steps < 0) throw UserError("warm-up steps must be ≥ 0");
  if ((k == "cosine" || k == "onecycle") && o_.total_steps <= o_.warmup_steps)
    throw UserError("the " + k + " schedule needs more steps (" + std::to_string(o_.total_steps) +
                    ") than warm-up steps (" + std::to_string(o_.warmup_steps) + ")");
  if (!std::is_sorted(o_.milestones.begin(), o_.milestones.end()))
    throw UserError("schedule milestones must be ascending");
  if (k == "onecycle" && !(o_.pct_start > 0 && o_.pct_start < 1))
    throw UserError("onecycle pct_start must be in (0, 1)");
}

double LrSchedule::after_warmup(int64_t step) const {
  if (o_.kind == "constant") return o_.lr;
  if (o_.kind == "multistep") {
    const auto passed =
        std::upper_bound(o_.milestones.begin(), o_.milestones.end(), step) - o_.milestones.begin();
    return o_.lr * std::pow(o_.gamma, static_cast<double>(passed));
  }
  const double pi = std::numbers::pi;
  if (o_.kind == "cosine") {
    const double t = std::clamp(
        static_cast<double>(step - o_.warmup_steps) / static_cast<double>(o_.total_steps - o_.warmup_steps),
        0.0, 1.0);
    return o_.min_lr + (o_.lr - o_.min_lr) * 0.5 * (1 + std::cos(pi * t));
  }
  // onecycle
  const double start = o_.lr / o_.div_factor, end = start / o_.final_div_factor;
  const double up = o_.pct_start * static_cast<double>(o_.total_steps) - 1;
  const double s = static_cast<double>(step);
  if (s <= up) return start + (o_.lr - start) * (up > 0 ? s / up : 1.0);
  const double t = std::clamp((s - up) / (static_cast<double>(o_.total_steps) - 1 - up), 0.0, 1.0);
  return end + (o_.lr - end) * 0.5 * (1 + std::cos(pi * t));
}

double LrSchedule::at(int64_t step) const {
  RESNET_CHECK(step >= 0) << step;
  if (o_.kind != "onecycle" && step < o_.warmup_steps) {
    if (o_.warmup == "constant") return o_.warmup_lr;
    const double target = after_warmup(o_.warmup_steps);
    const double f = o_.warmup_start_factor + (1 - o_.warmup_start_factor) * static_cast<double>(step + 1) /
                                                  static_cast<double>(o_.warmup_steps);
    return target * f;
  }
  return after_warmup(step);
}

}  // namespace resnet::optim
