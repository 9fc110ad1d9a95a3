// Inverted dropout as plain parallel loops. The keep decision of an element is
// counter_uniform(seed, logical index) >= p, so the mask is the same for any thread count and layout.
#include "resnet/ops/dropout.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "ops/cpu/dnnl_context.h"
#include "resnet/core/rng.h"

namespace resnet::ops::cpu {
namespace {

// counter_uniform(seed, i) >= p, computed without two out-of-line mix64 calls and a double compare per
// element: mix64(seed) is hoisted, the second mix64 (SplitMix64's finaliser) is inlined, and
// u = (h >> 11)·2^-53 >= p becomes the exact integer test (h >> 11) >= ceil(p·2^53).
constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

// The same arithmetic as resnet::mix64 (rng.cpp), inlined.
inline uint64_t finalise(uint64_t x) {
  x += kGolden;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

struct KeepDecision {
  uint64_t mixed_seed;  // mix64(seed)
  uint64_t threshold;   // ceil(p·2^53)

  static KeepDecision make(uint64_t seed, double p) {
    return {mix64(seed), static_cast<uint64_t>(std::ceil(std::ldexp(p, 53)))};
  }
  bool keep(uint64_t counter) const {
    return (finalise(mixed_seed ^ (counter * kGolden)) >> 11) >= threshold;
  }
};

// Guards the inlined copy against a change of mix64 or counter_uniform: both must agree on every draw.
void verify_against_counter_uniform() {
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{0xDEADBEEF}})
    for (double p : {0.0, 0.1, 0.5, 0.999})
      for (uint64_t i = 0; i < 256; ++i)
        RESNET_CHECK(KeepDecision::make(seed, p).keep(i) == (counter_uniform(seed, i) >= p))
            << "cpu dropout's inlined counter_uniform disagrees with resnet::counter_uniform (rng.h) at seed "
            << seed << ", counter " << i << ", p " << p;
}

// keep[j] = decision for logical index first + j, j < n. Built twice and picked at load time: the hash's
// 64-bit multiplies vectorise only with AVX-512DQ (vpmullq, in x86-64-v4), which the portable build does
// not assume; unit-stride counters let the compiler vectorise it.
__attribute__((target_clones("arch=x86-64-v4", "default"))) void keep_span(KeepDecision decision,
                                                                           uint8_t* keep, int64_t n,
                                                                           uint64_t first) {
  for (int64_t j = 0; j < n; ++j) keep[j] = decision.keep(first + static_cast<uint64_t>(j));
}

// out = in · keep · scale, element by element, for f32 or bf16 tensors (bf16: computed in f32, rounded
// once, nearest-even).
struct ScaleKept {
  const void* in;
  const uint8_t* keep;
  void* out;
  bool bf16;
  float scale;

  // Elements [first, first + n).
  void operator()(int64_t first, int64_t n) const {
    const uint8_t* k = keep + first;
    if (bf16) {
      const uint16_t* i = static_cast<const uint16_t*>(in) + first;
      uint16_t* o = static_cast<uint16_t*>(out) + first;
      for (int64_t j = 0; j < n; ++j)
        o[j] = f32_to_bf16(bf16_to_f32(i[j]) * (static_cast<float>(k[j]) * scale));
      return;
    }
    const float* i = static_cast<const float*>(in) + first;
    float* o = static_cast<float*>(out) + first;
    for (int64_t j = 0; j < n; ++j) o[j] = i[j] * (static_cast<float>(k[j]) * scale);
  }
};

void check_same(const char* op, const Tensor& ref, const char* ref_name, const Tensor& t, const char* name) {
  check_shape(t, ref.shape(), op, name);
  RESNET_CHECK(t.is_dense() && layouts_match(t, ref))
      << op << ": " << name << " " << t.str() << " must be dense in the layout of " << ref_name << " "
      << ref.str();
}

void check_mask(const char* op, const Tensor& ref, const char* ref_name, const Tensor& mask) {
  RESNET_CHECK(mask.dtype() == DType::u8) << op << ": mask must be u8, got " << mask.str();
  check_same(op, ref, ref_name, mask, "mask");
}

}  // namespace

void dropout_forward(const Tensor& x, double p, uint64_t seed, Tensor& y, Tensor& mask) {
  constexpr const char* op = "cpu::dropout_forward";
  check_same_dtype(op, {{&x, "x"}, {&y, "y"}});
  RESNET_CHECK(x.is_dense()) << op << ": x must be dense, got " << x.str();
  check_same(op, x, "x", y, "y");
  check_mask(op, x, "x", mask);
  RESNET_CHECK(p >= 0.0 && p < 1.0) << op << ": p = " << p << " outside [0, 1)";
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  static std::once_flag verified;
  std::call_once(verified, verify_against_counter_uniform);
  const KeepDecision decision = KeepDecision::make(seed, p);
  uint8_t* keep = mask.data<uint8_t>();
  const ScaleKept scale_kept{x.raw(), keep, y.raw(), x.dtype() == DType::bf16, scale};

  if (x.is_contiguous()) {  // memory order is the logical order
    constexpr int64_t kChunk = 4096;
    const int64_t n = x.numel(), chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < chunks; ++i) {
      const int64_t begin = i * kChunk, len = std::min(kChunk, n - begin);
      keep_span(decision, keep + begin, len, static_cast<uint64_t>(begin));
      scale_kept(begin, len);
    }
    return;
  }
  // channels_last: the mask of a block of pixels of one row is drawn in logical (c, w) order into a
  // buffer, where the counters run consecutively, then transposed into NHWC memory.
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  constexpr int64_t kBuffer = 16384;
  const int64_t block = std::max<int64_t>(1, std::min(W, kBuffer / C));
  const int64_t blocks_per_row = (W + block - 1) / block;
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t b = 0; b < N; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t blk = 0; blk < blocks_per_row; ++blk) {
        const int64_t w0 = blk * block, width = std::min(block, W - w0);
        const int64_t pixel0 = ((b * H + h) * W + w0) * C;
        if (C * width > kBuffer) {  // a single pixel wider than the buffer: draw element by element
          for (int64_t c = 0; c < C; ++c)
            keep[pixel0 + c] = decision.keep(static_cast<uint64_t>(((b * C + c) * H + h) * W + w0));
          scale_kept(pixel0, C);
          continue;
        }
        alignas(64) uint8_t drawn[kBuffer];  // [c][w] for this block
        for (int64_t c = 0; c < C; ++c)
          keep_span(decision, drawn + c * width, width,
                    static_cast<uint64_t>(((b * C + c) * H + h) * W + w0));
        for (int64_t w = 0; w < width; ++w)
          for (int64_t c = 0; c < C; ++c) keep[pixel0 + w * C + c] = drawn[c * width + w];
        scale_kept(pixel0, width * C);
      }
}

void dropout_backward(const Tensor& dy, const Tensor& mask, double p, Tensor& dx) {
  constexpr const char* op = "cpu::dropout_backward";
  check_same_dtype(op, {{&dy, "dy"}, {&dx, "dx"}});
  RESNET_CHECK(dy.is_dense()) << op << ": dy must be dense, got " << dy.str();
  check_same(op, dy, "dy", dx, "dx");
  check_mask(op, dy, "dy", mask);
  RESNET_CHECK(p >= 0.0 && p < 1.0) << op << ": p = " << p << " outside [0, 1)";
  // All three share one memory order, so a flat loop pairs the right elements.
  const float scale = static_cast<float>(1.0 / (1.0 - p));
  const ScaleKept scale_kept{dy.raw(), mask.data<uint8_t>(), dx.raw(), dy.dtype() == DType::bf16, scale};
  const int64_t n = dy.numel();
  constexpr int64_t kChunk = 16384;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t begin = i * kChunk;
    scale_kept(begin, std::min(kChunk, n - begin));
  }
}

}  // namespace resnet::ops::cpu
