// Learning-rate schedules, as a pure function of the optimiser step (0-based): the same step always gets
// the same rate, so a resumed run continues the schedule exactly.
//
//   constant   lr
//   multistep  lr · gamma^(number of milestones ≤ step)          the paper's ÷10 at 32k and 48k iterations
//   cosine     min_lr + (lr - min_lr) · ½(1 + cos(π · t))        t = progress after warm-up, 0 → 1
//   onecycle   linear ramp lr/div_factor → lr over the first pct_start of the run, then cosine down to
//              lr/(div_factor · final_div_factor)                (Smith & Topin; PyTorch OneCycleLR, 2
//              phases)
//
// Warm-up (any schedule but onecycle, which has its own) covers the first warmup_steps:
//   linear     from warmup_start_factor · lr up to the schedule's rate
//   constant   exactly warmup_lr, then the schedule jumps in (the paper's ResNet-110 trick: 0.01 for the
//              first ~400 iterations, then 0.1)
// Milestones and the cosine/onecycle horizon are in steps; the trainer converts epochs to steps.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace resnet::optim {

struct ScheduleOptions {
  std::string kind = "cosine";  // constant | multistep | cosine | onecycle
  double lr = 0.1;
  int64_t total_steps = 0;            // horizon of cosine / onecycle
  std::vector<int64_t> milestones{};  // multistep, ascending
  double gamma = 0.1;                 // multistep factor
  double min_lr = 0.0;                // cosine floor
  int64_t warmup_steps = 0;
  std::string warmup = "linear";     // linear | constant
  double warmup_start_factor = 0.0;  // linear warm-up starts at this fraction of lr
  double warmup_lr = 0.01;           // constant warm-up rate
  double pct_start = 0.25, div_factor = 25.0, final_div_factor = 1e4;  // onecycle
};

class LrSchedule {
 public:
  // Validates the options (UserError naming the bad field and its allowed values).
  explicit LrSchedule(ScheduleOptions options);
  double at(int64_t step) const;
  const ScheduleOptions& options() const { return o_; }

 private:
  double after_warmup(int64_t step) const;
  ScheduleOptions o_;
};

}  // namespace resnet::optim
