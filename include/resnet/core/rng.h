// Random numbers.
//
// Rng is a seeded sequential generator (xoshiro256**) used where numbers are drawn one after another on a
// single thread (initialisation, shuffling): same seed → same sequence on every machine. Its state can be
// saved and restored exactly (checkpoints).
//
// counter_uniform() is a stateless hash of (seed, counter) for parallel draws such as dropout masks: the
// value of element i depends only on the seed and i, so any number of threads gives identical results.
#pragma once

#include <array>
#include <cstdint>

namespace resnet {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);

  uint64_t next_u64();
  double uniform();  // [0, 1), 53 random bits
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  double normal();  // mean 0, std 1 (Box–Muller; deterministic)
  double normal(double mean, double std) { return mean + std * normal(); }
  uint64_t below(uint64_t n);  // uniform integer in [0, n), unbiased

  using State = std::array<uint64_t, 4>;
  State state() const { return s_; }
  void set_state(const State& s) { s_ = s; }

 private:
  State s_{};
};

// SplitMix64 finaliser: a good 64-bit mix, used to derive seeds and for counter-based draws.
uint64_t mix64(uint64_t x);
// Uniform in [0, 1) from (seed, counter), independent of call order.
inline double counter_uniform(uint64_t seed, uint64_t counter) {
  return static_cast<double>(mix64(mix64(seed) ^ (counter * 0x9E3779B97F4A7C15ULL)) >> 11) * 0x1.0p-53;
}

}  // namespace resnet
