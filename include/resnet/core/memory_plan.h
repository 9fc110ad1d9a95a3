// Planned memory for repeated work — a training step, an evaluation batch: the tensor buffers one step
// takes and frees are laid out once into a single arena, by their sizes and lifetimes, and every later
// step is served from it. The caching pool (memory.h) keeps one block per size ever freed; within a step
// of ResNet-50 those spares come to ~15 % over the bytes actually live, while the arena's layout comes
// within a few per cent of them (arena_plan.h), needs no system call and no page fault, and is mapped on
// huge pages.
//
//   MemoryPlan plan;                       // lives as long as the loop
//   for (...) { PlannedStep step(plan); forward(); backward(); update(); }
//
// Steps: the first is a warm-up (one-time buffers — primitive caches, optimiser state — appear only in
// it); the second is recorded (each request's size, and when each block is freed); at its end the layout
// is planned and the arena mapped and pre-faulted; from the third on, the k-th request of a step gets the
// k-th planned slot. Buffers that outlive their step are left to the pool. While the plan is not in use
// (warm-up, recording, or a step that diverges) large blocks are given back to the system when freed, so
// the spares never build up and the process's peak resident memory is the arena plus what outlives steps.
//
// Safe whatever the code inside does: a request whose size differs from the plan's ends the step's replay
// (the rest of it comes from the pool; two such steps in a row re-record the plan), and a slot whose bytes
// are still held — a tensor kept past its planned lifetime — is never handed out again until released.
// Only requests made on the thread that opened the PlannedStep are planned; other threads (data loaders)
// use the pool as usual. Not copyable; must outlive its PlannedSteps (tensors it served may outlive it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace resnet {

namespace detail {
struct PlanState;
}

struct MemoryPlanStats {
  int64_t steps = 0;             // PlannedSteps closed
  int64_t replayed_steps = 0;    // of them, served from the arena to the end
  int64_t diverged_steps = 0;    // of them, whose requests left the plan part-way
  int64_t plans = 0;             // layouts made (1 unless the work changed)
  int64_t arena_hits = 0;        // requests served from the arena
  int64_t held_slot_misses = 0;  // requests whose slot was still held, served by the pool instead
  size_t arena_bytes = 0;        // the arena mapped now
  size_t planned_buffers = 0;    // slots in the layout
  size_t peak_live_bytes = 0;    // the recorded step's most bytes live at once: the arena's lower bound
};

class MemoryPlan {
 public:
  MemoryPlan();
  ~MemoryPlan();
  MemoryPlan(const MemoryPlan&) = delete;
  MemoryPlan& operator=(const MemoryPlan&) = delete;

  MemoryPlanStats stats() const;

 private:
  friend class PlannedStep;
  detail::PlanState* state_;
};

// One step of the planned work, on the calling thread, for its lifetime. Steps of different plans may
// nest (the inner one plans the requests made while it is open); a plan has one open step at a time.
class PlannedStep {
 public:
  explicit PlannedStep(MemoryPlan& plan);
  ~PlannedStep();
  PlannedStep(const PlannedStep&) = delete;
  PlannedStep& operator=(const PlannedStep&) = delete;

 private:
  detail::PlanState* state_;
  detail::PlanState* outer_;
};

}  // namespace resnet
