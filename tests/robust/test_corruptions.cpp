// robust/corruptions.h: every corruption keeps the shape and the [0, 1] range, is a function of (seed,
// image index), grows with its severity, and the deterministic ones match their formulas written here.
#include <gtest/gtest.h>

#include <cmath>

#include "resnet/core/check.h"
#include "resnet/robust/corruptions.h"
#include "test_util.h"

using namespace resnet;

namespace {

// Four 1×28×28 images with edges and texture (a garment-like blob on a dark ground).
Tensor images() {
  Tensor x = Tensor::empty({4, 1, 28, 28});
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t y = 0; y < 28; ++y)
      for (int64_t c = 0; c < 28; ++c) {
        const double r = std::hypot(y - 13.5 - i, c - 13.5 + i);
        const double v = r < 9 + i ? 0.55 + 0.35 * std::sin(0.35 * y + 0.15 * c * (i + 1)) : 0.05;
        x.data<float>()[(i * 28 + y) * 28 + c] = static_cast<float>(v);
      }
  return x;
}

double mean_abs_change(const Tensor& a, const Tensor& b) {
  double s = 0;
  for (int64_t e = 0; e < a.numel(); ++e) s += std::abs(a.data<float>()[e] - b.data<float>()[e]);
  return s / static_cast<double>(a.numel());
}

TEST(Corruptions, KeepShapeAndRangeAndGrowWithSeverity) {
  const Tensor x = images();
  for (robust::Corruption c : robust::all_corruptions()) {
    SCOPED_TRACE(std::string(robust::corruption_name(c)));
    std::vector<double> change;
    for (int s = 1; s <= robust::kSeverities; ++s) {
      const Tensor y = robust::corrupt(x, c, s, 3);
      ASSERT_EQ(y.shape(), x.shape());
      for (int64_t e = 0; e < y.numel(); ++e) ASSERT_TRUE(y.data<float>()[e] >= 0 && y.data<float>()[e] <= 1);
      change.push_back(mean_abs_change(x, y));
    }
    EXPECT_GT(change.front(), 0.0);
    EXPECT_GT(change.back(), change.front());
    for (size_t s = 1; s < change.size(); ++s)
      EXPECT_GE(change[s], 0.8 * change[s - 1]) << "severity " << s + 1;
  }
  EXPECT_EQ(robust::parse_corruption("jpeg"), robust::Corruption::jpeg);
  EXPECT_THROW(robust::parse_corruption("fog"), UserError);
}

TEST(Corruptions, AreAFunctionOfSeedAndImageIndex) {
  const Tensor x = images();
  for (robust::Corruption c : {robust::Corruption::gaussian_noise, robust::Corruption::impulse_noise,
                               robust::Corruption::motion_blur, robust::Corruption::elastic}) {
    SCOPED_TRACE(std::string(robust::corruption_name(c)));
    const Tensor a = robust::corrupt(x, c, 3, 5), b = robust::corrupt(x, c, 3, 5);
    EXPECT_EQ(mean_abs_change(a, b), 0.0);
    EXPECT_GT(mean_abs_change(a, robust::corrupt(x, c, 3, 6)), 0.0);
    // Images 2 and 3 alone, told their index, get what they got in the batch of four.
    const Tensor tail = robust::corrupt(x.narrow(0, 2, 2).clone(Layout::contiguous), c, 3, 5, 2);
    EXPECT_EQ(mean_abs_change(tail, a.narrow(0, 2, 2).clone(Layout::contiguous)), 0.0);
  }
}

TEST(Corruptions, DeterministicOnesFollowTheirFormulas) {
  const Tensor x = images();
  const int64_t plane = 28 * 28;
  // brightness: + .15 at severity 3, clipped.
  const Tensor bright = robust::corrupt(x, robust::Corruption::brightness, 3);
  for (int64_t e = 0; e < x.numel(); ++e)
    ASSERT_FLOAT_EQ(bright.data<float>()[e], std::min(1.0f, x.data<float>()[e] + 0.15f));
  // contrast: (x − mean)·.3 + mean per image and channel at severity 4.
  const Tensor flat = robust::corrupt(x, robust::Corruption::contrast, 4);
  for (int64_t i = 0; i < 4; ++i) {
    double mean = 0;
    for (int64_t e = 0; e < plane; ++e) mean += x.data<float>()[i * plane + e];
    mean /= plane;
    for (int64_t e = 0; e < plane; ++e)
      ASSERT_NEAR(flat.data<float>()[i * plane + e], (x.data<float>()[i * plane + e] - mean) * 0.3 + mean,
                  1e-6);
  }
  // Blurs and resamplings keep a constant image constant; JPEG nearly so.
  const Tensor grey = Tensor::full({1, 1, 28, 28}, 0.4);
  for (robust::Corruption c :
       {robust::Corruption::defocus_blur, robust::Corruption::motion_blur, robust::Corruption::zoom_blur,
        robust::Corruption::elastic, robust::Corruption::pixelate, robust::Corruption::jpeg}) {
    SCOPED_TRACE(std::string(robust::corruption_name(c)));
    EXPECT_LE(mean_abs_change(robust::corrupt(grey, c, 5), grey),
              c == robust::Corruption::jpeg ? 2.0 / 255 : 1e-6);
  }
  // defocus at severity 1: a disk of radius .3 holds only the centre pixel, so the kernel is the 3×3
  // Gaussian of σ = .4: a point spreads with weights exp(−d²/(2σ²)), normalised.
  Tensor dot = Tensor::zeros({1, 1, 28, 28});
  dot.data<float>()[14 * 28 + 14] = 1.0f;
  const Tensor spread = robust::corrupt(dot, robust::Corruption::defocus_blur, 1);
  const double side = std::exp(-1 / 0.32), corner = std::exp(-2 / 0.32), all = 1 + 4 * side + 4 * corner;
  EXPECT_NEAR(spread.data<float>()[14 * 28 + 14], 1 / all, 1e-6);
  EXPECT_NEAR(spread.data<float>()[13 * 28 + 14], side / all, 1e-6);
  EXPECT_NEAR(spread.data<float>()[13 * 28 + 13], corner / all, 1e-6);
}

}  // namespace
