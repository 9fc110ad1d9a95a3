// Data augmentation: hand-computed results on tiny images, torchvision/PIL parity for the deterministic
// resampling (tests/fixtures/transforms.safetensors, from tests/fixtures/generate_transforms.py), the
// statistics of the random transforms, batch mixing, and the spec parser.
#include "resnet/data/transforms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "resnet/data/presets.h"
#include "resnet/io/safetensors.h"

using namespace resnet;
using namespace resnet::data;

namespace {

FloatImage make_image(int64_t c, int64_t h, int64_t w,
                      const std::function<float(int64_t, int64_t, int64_t)>& f) {
  FloatImage image;
  image.resize(c, h, w);
  for (int64_t k = 0; k < c; ++k)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) image.plane(k)[y * w + x] = f(k, y, x);
  return image;
}

float at(const FloatImage& image, int64_t c, int64_t y, int64_t x) {
  return image.plane(c)[y * image.width + x];
}

std::vector<float> values_of(const FloatImage& image) {
  return std::vector<float>(image.values.begin(), image.values.begin() + image.numel());
}

// 3 × 4, v = 10·y + x + 1, and the 7 × 8 images numpy.pad(v, 2, mode) gives (printed by numpy).
FloatImage small_ramp() {
  return make_image(1, 3, 4,
                    [](int64_t, int64_t y, int64_t x) { return static_cast<float>(10 * y + x + 1); });
}
const std::vector<std::vector<float>> kPadZero = {{0, 0, 0, 0, 0, 0, 0, 0},     {0, 0, 0, 0, 0, 0, 0, 0},
                                                  {0, 0, 1, 2, 3, 4, 0, 0},     {0, 0, 11, 12, 13, 14, 0, 0},
                                                  {0, 0, 21, 22, 23, 24, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0},
                                                  {0, 0, 0, 0, 0, 0, 0, 0}};
const std::vector<std::vector<float>> kPadReflect = {
    {23, 22, 21, 22, 23, 24, 23, 22}, {13, 12, 11, 12, 13, 14, 13, 12}, {3, 2, 1, 2, 3, 4, 3, 2},
    {13, 12, 11, 12, 13, 14, 13, 12}, {23, 22, 21, 22, 23, 24, 23, 22}, {13, 12, 11, 12, 13, 14, 13, 12},
    {3, 2, 1, 2, 3, 4, 3, 2}};
const std::vector<std::vector<float>> kPadEdge = {
    {1, 1, 1, 2, 3, 4, 4, 4},         {1, 1, 1, 2, 3, 4, 4, 4},         {1, 1, 1, 2, 3, 4, 4, 4},
    {11, 11, 11, 12, 13, 14, 14, 14}, {21, 21, 21, 22, 23, 24, 24, 24}, {21, 21, 21, 22, 23, 24, 24, 24},
    {21, 21, 21, 22, 23, 24, 24, 24}};
const std::vector<std::vector<float>> kPadSymmetric = {
    {12, 11, 11, 12, 13, 14, 14, 13}, {2, 1, 1, 2, 3, 4, 4, 3},         {2, 1, 1, 2, 3, 4, 4, 3},
    {12, 11, 11, 12, 13, 14, 14, 13}, {22, 21, 21, 22, 23, 24, 24, 23}, {22, 21, 21, 22, 23, 24, 24, 23},
    {12, 11, 11, 12, 13, 14, 14, 13}};

const std::vector<std::vector<float>>& padded(PadMode mode) {
  switch (mode) {
    case PadMode::zero:
      return kPadZero;
    case PadMode::reflect:
      return kPadReflect;
    case PadMode::edge:
      return kPadEdge;
    case PadMode::symmetric:
      return kPadSymmetric;
  }
  return kPadZero;
}

}  // namespace

// ---- basics

TEST(TransformFloat, ToFloatDividesBy255) {
  Image in;
  in.resize(2, 2, 3);
  for (size_t i = 0; i < in.pixels.size(); ++i) in.pixels[i] = static_cast<uint8_t>(i * 23);
  in.pixels[0] = 255;
  FloatImage out;
  to_float(in, out);
  ASSERT_EQ(out.channels, 2);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 3);
  for (size_t i = 0; i < in.pixels.size(); ++i)
    EXPECT_EQ(out.values[i], static_cast<float>(in.pixels[i]) / 255.0f);
  EXPECT_EQ(out.values[0], 1.0f);
}

TEST(TransformFloat, RoundHalfEvenIsPythonRound) {
  EXPECT_EQ(round_half_even(0.5), 0);
  EXPECT_EQ(round_half_even(1.5), 2);
  EXPECT_EQ(round_half_even(2.5), 2);
  EXPECT_EQ(round_half_even(3.5), 4);
  EXPECT_EQ(round_half_even(2.4999), 2);
  EXPECT_EQ(round_half_even(2.5001), 3);
  EXPECT_EQ(round_half_even(7.0), 7);
}

// ---- crop

TEST(TransformCrop, PadModesMatchNumpyPad) {
  for (PadMode mode : {PadMode::zero, PadMode::reflect, PadMode::edge, PadMode::symmetric}) {
    FloatImage image = small_ramp();
    crop(image, Box{-2, -2, 7, 8}, mode);
    ASSERT_EQ(image.height, 7);
    ASSERT_EQ(image.width, 8);
    for (int64_t y = 0; y < 7; ++y)
      for (int64_t x = 0; x < 8; ++x)
        EXPECT_EQ(at(image, 0, y, x), padded(mode)[y][x]) << pad_mode_name(mode) << " at " << y << "," << x;
  }
}

TEST(TransformCrop, ReflectKeepsReflectingBeyondTheImage) {
  // numpy.pad(v, 5, mode="reflect") rows 0 and 1 (printed by numpy).
  const std::vector<std::vector<float>> expected = {{12, 13, 14, 13, 12, 11, 12, 13, 14, 13, 12, 11, 12, 13},
                                                    {2, 3, 4, 3, 2, 1, 2, 3, 4, 3, 2, 1, 2, 3}};
  FloatImage image = small_ramp();
  crop(image, Box{-5, -5, 2, 14}, PadMode::reflect);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 14; ++x) EXPECT_EQ(at(image, 0, y, x), expected[y][x]) << y << "," << x;
}

TEST(TransformCrop, RandomCropIsAWindowOfThePaddedImageAtUniformOffsets) {
  // A 3 × 4 crop of the 7 × 8 padded image: 5 × 5 possible offsets. Each output must be exactly one
  // window of the hand-computed padded image; over many seeds every offset occurs, about equally often.
  for (PadMode mode : {PadMode::zero, PadMode::reflect, PadMode::edge, PadMode::symmetric}) {
    const RandomCrop transform(3, 4, 2, mode);
    std::map<std::pair<int, int>, int> hits;
    const int draws = 2500;
    for (int seed = 0; seed < draws; ++seed) {
      FloatImage image = small_ramp();
      Rng rng(seed);
      transform.apply(image, rng);
      ASSERT_EQ(image.height, 3);
      ASSERT_EQ(image.width, 4);
      // The offset the rng chose: top = below(5), left = below(5), in that order.
      Rng replay(seed);
      const int top = static_cast<int>(replay.below(5)), left = static_cast<int>(replay.below(5));
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 4; ++x)
          ASSERT_EQ(at(image, 0, y, x), padded(mode)[top + y][left + x]) << pad_mode_name(mode);
      ++hits[{top, left}];
    }
    ASSERT_EQ(hits.size(), 25u) << pad_mode_name(mode);
    for (const auto& [offset, n] : hits) {
      // Binomial(2500, 1/25): mean 100, sd 9.8; 5 sd either side.
      EXPECT_GT(n, 50);
      EXPECT_LT(n, 150);
    }
  }
}

TEST(TransformCrop, ZeroPaddingOffsetFoundFromARamp) {
  // With unique ramp values (and 0 only in the padding), the offset is read off the output itself.
  const RandomCrop transform(28, 2, PadMode::zero);
  for (int seed = 0; seed < 50; ++seed) {
    FloatImage image = make_image(2, 28, 28, [](int64_t c, int64_t y, int64_t x) {
      return static_cast<float>(1000 * c + 30 * y + x + 1);
    });
    Rng rng(seed);
    transform.apply(image, rng);
    // Find the first non-zero pixel of channel 0: it is source pixel (y0, x0) at output (oy, ox).
    int64_t top = -1, left = -1;
    for (int64_t y = 0; y < 28 && top < 0; ++y)
      for (int64_t x = 0; x < 28; ++x)
        if (at(image, 0, y, x) != 0) {
          const auto v = static_cast<int64_t>(at(image, 0, y, x)) - 1;
          top = v / 30 - y + 2, left = v % 30 - x + 2;  // offset in the padded image
          break;
        }
    ASSERT_GE(top, 0);
    ASSERT_LE(top, 4);
    ASSERT_GE(left, 0);
    ASSERT_LE(left, 4);
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t y = 0; y < 28; ++y)
        for (int64_t x = 0; x < 28; ++x) {
          const int64_t sy = top + y - 2, sx = left + x - 2;
          const bool inside = sy >= 0 && sy < 28 && sx >= 0 && sx < 28;
          EXPECT_EQ(at(image, c, y, x), inside ? static_cast<float>(1000 * c + 30 * sy + sx + 1) : 0.0f);
        }
  }
}

TEST(TransformCrop, CropLargerThanThePaddedImageIsAUserError) {
  const RandomCrop transform(32, 2, PadMode::zero);
  FloatImage image = make_image(1, 26, 26, [](int64_t, int64_t, int64_t) { return 0.5f; });
  Rng rng(1);
  try {
    transform.apply(image, rng);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("32×32"), std::string::npos) << what;
    EXPECT_NE(what.find("30×30"), std::string::npos) << what;
  }
  EXPECT_THROW(RandomCrop(0), UserError);
  EXPECT_THROW(RandomCrop(8, -1), UserError);
}

TEST(TransformCrop, SameSizeWithoutPaddingIsIdentity) {
  const RandomCrop transform(3, 4, 0, PadMode::zero);
  FloatImage image = small_ramp();
  const auto before = values_of(image);
  Rng rng(3);
  const Rng::State state = rng.state();
  transform.apply(image, rng);
  EXPECT_EQ(values_of(image), before);
  EXPECT_EQ(rng.state(), state) << "a single valid position draws nothing, as torchvision";
}

// ---- flip

TEST(TransformFlip, MirrorsEveryRowExactly) {
  FloatImage image =
      make_image(2, 3, 5, [](int64_t c, int64_t y, int64_t x) { return float(100 * c + 10 * y + x); });
  hflip(image);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 5; ++x) EXPECT_EQ(at(image, c, y, x), float(100 * c + 10 * y + (4 - x)));
  hflip(image);
  EXPECT_EQ(at(image, 1, 2, 0), 120.0f);
}

TEST(TransformFlip, FlipsWithProbabilityP) {
  for (double p : {0.0, 0.3, 0.5, 1.0}) {
    const RandomHorizontalFlip flip(p);
    int flipped = 0;
    const int draws = 4000;
    for (int seed = 0; seed < draws; ++seed) {
      FloatImage image = small_ramp();
      Rng rng(seed);
      flip.apply(image, rng);
      const float first = at(image, 0, 0, 0);
      ASSERT_TRUE(first == 4.0f || first == 1.0f) << first;
      flipped += first == 4.0f;
    }
    const double se = std::sqrt(p * (1 - p) / draws);
    EXPECT_NEAR(flipped / double(draws), p, 3 * se + 1e-12) << "p = " << p;
  }
  EXPECT_THROW(RandomHorizontalFlip(1.5), UserError);
}

// ---- normalize

TEST(TransformNormalize, PerChannelValues) {
  FloatImage image =
      make_image(3, 2, 2, [](int64_t c, int64_t y, int64_t x) { return 0.1f * float(c + y + x); });
  const auto before = image;
  const std::vector<double> mean = {0.485, 0.456, 0.406}, std = {0.229, 0.224, 0.225};
  Rng rng(0);
  Normalize(mean, std).apply(image, rng);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 4; ++i)
      EXPECT_EQ(image.plane(c)[i],
                (before.plane(c)[i] - float(mean[c])) / float(std[c]));  // torch's float math
  // One value for every channel.
  FloatImage grey = make_image(1, 1, 2, [](int64_t, int64_t, int64_t x) { return x ? 1.0f : 0.0f; });
  Normalize({0.5}, {0.25}).apply(grey, rng);
  EXPECT_EQ(grey.values[0], -2.0f);
  EXPECT_EQ(grey.values[1], 2.0f);
}

TEST(TransformNormalize, RejectsBadArguments) {
  EXPECT_THROW(Normalize({0.5}, {0.0}), UserError);
  EXPECT_THROW(Normalize({}, {1.0}), UserError);
  FloatImage image = make_image(1, 2, 2, [](int64_t, int64_t, int64_t) { return 0.0f; });
  Rng rng(0);
  try {
    Normalize({0.4, 0.5, 0.6}, {1.0}).apply(image, rng);
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("1-channel"), std::string::npos) << e.what();
  }
}

// ---- center crop

TEST(TransformCenterCrop, OffsetsFollowTorchvisionRounding) {
  // top = int(round((H - h) / 2.0)), Python's round: 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4.
  EXPECT_EQ(center_crop_box(5, 5, 4, 4), (Box{0, 0, 4, 4}));
  EXPECT_EQ(center_crop_box(7, 7, 4, 4), (Box{2, 2, 4, 4}));
  EXPECT_EQ(center_crop_box(9, 10, 4, 4), (Box{2, 3, 4, 4}));
  EXPECT_EQ(center_crop_box(11, 8, 4, 4), (Box{4, 2, 4, 4}));
  EXPECT_EQ(center_crop_box(37, 53, 32, 52), (Box{2, 0, 32, 52}));
  EXPECT_EQ(center_crop_box(256, 384, 224, 224), (Box{16, 80, 224, 224}));
  // Larger than the image: zero padding (crop - size) // 2 before.
  EXPECT_EQ(center_crop_box(3, 3, 6, 6), (Box{-1, -1, 6, 6}));
  EXPECT_EQ(center_crop_box(3, 10, 4, 4), (Box{0, 3, 4, 4}));
  EXPECT_EQ(center_crop_box(37, 53, 40, 60), (Box{-1, -3, 40, 60}));
}

TEST(TransformCenterCrop, OddSizesAndPadding) {
  FloatImage image = make_image(1, 7, 9, [](int64_t, int64_t y, int64_t x) { return float(10 * y + x + 1); });
  Rng rng(0);
  CenterCrop(4, 4).apply(image, rng);  // top round(1.5) = 2, left round(2.5) = 2
  ASSERT_EQ(image.height, 4);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 4; ++x) EXPECT_EQ(at(image, 0, y, x), float(10 * (y + 2) + (x + 2) + 1));
  FloatImage small = small_ramp();  // 3 × 4 → 6 × 5: rows padded 1 before, 2 after; columns 0 and 1
  CenterCrop(6, 5).apply(small, rng);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 5; ++x) {
      const int64_t sy = y - 1, sx = x;
      EXPECT_EQ(at(small, 0, y, x), sy >= 0 && sy < 3 && sx < 4 ? float(10 * sy + sx + 1) : 0.0f)
          << y << "," << x;
    }
}

// ---- resize

TEST(TransformResize, ShorterSideSizeTruncatesLikeTorchvision) {
  EXPECT_EQ(shorter_side_size(37, 53, 20), (std::pair<int64_t, int64_t>{20, 28}));  // int(28.65)
  EXPECT_EQ(shorter_side_size(53, 37, 20), (std::pair<int64_t, int64_t>{28, 20}));
  EXPECT_EQ(shorter_side_size(200, 300, 256), (std::pair<int64_t, int64_t>{256, 384}));
  EXPECT_EQ(shorter_side_size(375, 500, 256), (std::pair<int64_t, int64_t>{256, 341}));  // int(341.33)
  EXPECT_EQ(shorter_side_size(64, 64, 32), (std::pair<int64_t, int64_t>{32, 32}));
}

TEST(TransformResize, ConstantImageStaysConstant) {
  for (auto [h, w] :
       std::vector<std::pair<int64_t, int64_t>>{{5, 7}, {64, 17}, {1, 1}, {100, 3}, {13, 200}}) {
    FloatImage image = make_image(2, 37, 53, [](int64_t c, int64_t, int64_t) { return c ? 0.7f : 0.25f; });
    resize(image, h, w);
    ASSERT_EQ(image.height, h);
    ASSERT_EQ(image.width, w);
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t i = 0; i < h * w; ++i) EXPECT_NEAR(image.plane(c)[i], c ? 0.7f : 0.25f, 1e-6f);
  }
}

TEST(TransformResize, IdentityWhenSizeEquals) {
  FloatImage image = make_image(
      3, 37, 53, [](int64_t c, int64_t y, int64_t x) { return float((x * 7 + y * 13 + c * 50) % 256); });
  const auto before = values_of(image);
  Rng rng(0);
  Resize(37).apply(image, rng);  // shorter side already 37
  EXPECT_EQ(values_of(image), before);
  Resize(37, 53).apply(image, rng);
  EXPECT_EQ(values_of(image), before);
}

TEST(TransformResize, ValuesStayWithinTheInputRange) {
  FloatImage image =
      make_image(1, 40, 40, [](int64_t, int64_t y, int64_t x) { return float((x * 7 + y * 13) % 2); });
  resize(image, 17, 61);
  for (int64_t i = 0; i < image.numel(); ++i) {
    EXPECT_GE(image.values[i], 0.0f);
    EXPECT_LE(image.values[i], 1.0f + 1e-6f);
  }
}

namespace {

// The fixture inputs: the formulas of tests/fixtures/generate_transforms.py, as u8 → float.
FloatImage fixture_image_a() {
  Image in;
  in.resize(3, 37, 53);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 37; ++y)
      for (int64_t x = 0; x < 53; ++x)
        in.plane(c)[y * 53 + x] = static_cast<uint8_t>((x * 7 + y * 13 + c * 50) % 256);
  FloatImage out;
  to_float(in, out);
  return out;
}

FloatImage fixture_image_b() {
  Image in;
  in.resize(3, 200, 300);
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 200; ++y)
      for (int64_t x = 0; x < 300; ++x) {
        const int64_t t = (x * 5 + y * 3 + c * 60) % 510;
        in.plane(c)[y * 300 + x] = static_cast<uint8_t>(t < 256 ? t : 509 - t);
      }
  FloatImage out;
  to_float(in, out);
  return out;
}

struct ParityError {
  double max_abs = 0;  // in u8 levels
  double mean_abs = 0;
  double off_by_one = 0;  // fraction of values where round(ours · 255) != PIL
};

// Compares ours (float, [0, 1]) with PIL's u8 output stored as [H, W, 3].
ParityError compare_with_pil(const FloatImage& ours, const Tensor& pil) {
  EXPECT_EQ(pil.ndim(), 3);
  EXPECT_EQ(pil.size(0), ours.height);
  EXPECT_EQ(pil.size(1), ours.width);
  EXPECT_EQ(pil.size(2), ours.channels);
  ParityError e;
  if (pil.size(0) != ours.height || pil.size(1) != ours.width || pil.size(2) != ours.channels) {
    e.max_abs = INFINITY;
    return e;
  }
  const uint8_t* p = pil.data<uint8_t>();
  int64_t differing = 0;
  for (int64_t c = 0; c < ours.channels; ++c)
    for (int64_t y = 0; y < ours.height; ++y)
      for (int64_t x = 0; x < ours.width; ++x) {
        const double v = double(at(ours, c, y, x)) * 255.0;
        const double ref = p[(y * ours.width + x) * ours.channels + c];
        e.max_abs = std::max(e.max_abs, std::abs(v - ref));
        e.mean_abs += std::abs(v - ref);
        differing += std::lround(v) != ref;
      }
  e.mean_abs /= double(ours.numel());
  e.off_by_one = double(differing) / double(ours.numel());
  return e;
}

}  // namespace

// PIL rounds to u8 after each of its two passes (adding 0.5 and truncating) and uses 22-bit fixed-point
// weights; we stay in float. Its intermediate rounding moves a value by at most 0.5 level, which the second
// pass's convex weights carry through, and its final rounding by another 0.5: so |ours · 255 - PIL| <= 1
// level, i.e. 1/255 in [0, 1] units — the bar required of us. The bound is reached: on b's linear ramps
// the 4× downscale's symmetric footprints average to exact halves (181.5), which PIL rounds up in both
// passes (177 → 178). The tolerance adds 1e-4 level for our own float32 rounding (about 1e-5 measured).
TEST(TransformResize, MatchesTorchvisionOnPilImages) {
  const io::TensorFile fx = io::load_safetensors(RESNET_FIXTURES_DIR "/transforms.safetensors");
  Rng rng(0);
  struct Case {
    const char* name;
    std::function<FloatImage()> run;
  };
  const std::vector<Case> cases = {
      {"a.resize_20",
       [&] {
         auto im = fixture_image_a();
         Resize(20).apply(im, rng);
         return im;
       }},
      {"a.resize_11x17",
       [&] {
         auto im = fixture_image_a();
         Resize(11, 17).apply(im, rng);
         return im;
       }},
      {"a.resize_60x20",
       [&] {
         auto im = fixture_image_a();
         Resize(60, 20).apply(im, rng);
         return im;
       }},
      {"a.center_crop_32x52",
       [&] {
         auto im = fixture_image_a();
         CenterCrop(32, 52).apply(im, rng);
         return im;
       }},
      {"b.resize_256_center_crop_224",
       [&] {
         auto im = fixture_image_b();
         Resize(256).apply(im, rng);
         CenterCrop(224).apply(im, rng);
         return im;
       }},
      {"b.resize_50",
       [&] {
         auto im = fixture_image_b();
         Resize(50).apply(im, rng);
         return im;
       }},
      {"b.resized_crop_17_23_150x101_to_40",
       [&] {
         auto im = fixture_image_b();
         resized_crop(im, Box{17, 23, 150, 101}, 40, 40);
         return im;
       }},
  };
  double worst = 0;
  for (const auto& c : cases) {
    const ParityError e = compare_with_pil(c.run(), fx.at(c.name));
    std::printf("[ PIL parity ] %-36s max |ours·255 - PIL| = %.5f  mean %.4f  rounded differs %.2f%%\n",
                c.name, e.max_abs, e.mean_abs, 100 * e.off_by_one);
    EXPECT_LE(e.max_abs, 1.0 + 1e-4) << c.name;
    // No resampling: exact but for u8 / 255 · 255 in float.
    if (std::string(c.name).find("center_crop_32x52") != std::string::npos) {
      EXPECT_LE(e.max_abs, 1e-4);
    }
    worst = std::max(worst, e.max_abs);
  }
  std::printf("[ PIL parity ] worst %.5f levels = %.7f in [0, 1] units (bar: 1/255 = %.6f)\n", worst,
              worst / 255, 1.0 / 255);
}

// The same algorithm without PIL's u8 roundings (generate_transforms.py's float64 re-implementation, which
// with the roundings reproduces PIL's output bit for bit): what remains is our float32 arithmetic only.
TEST(TransformResize, MatchesPilAlgorithmWithoutRounding) {
  const io::TensorFile fx = io::load_safetensors(RESNET_FIXTURES_DIR "/transforms.safetensors");
  const std::vector<std::tuple<const char*, int64_t, int64_t>> cases = {{"a.resize_20", 20, 28},
                                                                        {"a.resize_11x17", 11, 17}};
  for (const auto& [name, h, w] : cases) {
    FloatImage image = fixture_image_a();
    resize(image, h, w);
    const Tensor& ref = fx.at(std::string(name) + ".unrounded");
    ASSERT_EQ(ref.numel(), image.numel());
    double max_err = 0;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          max_err = std::max(max_err, std::abs(double(at(image, c, y, x)) - ref.at<float>({y, x, c})));
    std::printf("[ PIL parity ] %-36s unrounded: max |ours - ref| = %.2e (in [0, 1] units)\n", name, max_err);
    EXPECT_LE(max_err, 2e-6) << name;
  }
}

// ---- random resized crop

TEST(TransformResizedCrop, BoxStatistics) {
  const RandomResizedCrop transform(224);
  const int draws = 2000;
  double area_sum = 0;
  int fallbacks = 0;
  for (int seed = 0; seed < draws; ++seed) {
    Rng rng(seed);
    const Box b = transform.sample_box(300, 400, rng);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_GT(b.height, 0);
    ASSERT_GT(b.width, 0);
    ASSERT_LE(b.top + b.height, 300);
    ASSERT_LE(b.left + b.width, 400);
    const double fraction = double(b.area()) / (300.0 * 400.0);
    if (b == (Box{0, 0, 300, 400})) ++fallbacks;
    // Rounding of w and h moves the area and the ratio a little off the drawn values.
    EXPECT_GE(fraction, 0.08 * 0.97);
    EXPECT_LE(fraction, 1.0);
    const double ratio = double(b.width) / double(b.height);
    EXPECT_GE(ratio, 0.75 * 0.97);
    EXPECT_LE(ratio, 4.0 / 3.0 * 1.03);
    area_sum += fraction;
  }
  // Accepted draws are biased to small areas (large ones with an extreme ratio do not fit): the mean
  // area fraction lies below the unconditional 0.54.
  const double mean = area_sum / draws;
  EXPECT_GT(mean, 0.35);
  EXPECT_LT(mean, 0.56);
  EXPECT_LT(fallbacks, draws / 50);
  std::printf("[ rrc ] mean area fraction %.3f, fallbacks %d of %d\n", mean, fallbacks, draws);
}

TEST(TransformResizedCrop, FallbackIsTheCentralCropClampedToTheRatio) {
  // ratio [2, 3] never fits a 10 × 10 image with scale [1, 1] → central crop 10 wide, round(10 / 2) = 5 high.
  const RandomResizedCrop transform(8, 8, Range{1.0, 1.0}, Range{2.0, 3.0});
  Rng rng(7);
  EXPECT_EQ(transform.sample_box(10, 10, rng), (Box{2, 0, 5, 10}));
  // A wide image: h = H, w = round(H · 3/4) for ratio [0.5, 0.75].
  const RandomResizedCrop tall(8, 8, Range{1.0, 1.0}, Range{0.5, 0.75});
  EXPECT_EQ(tall.sample_box(10, 40, rng), (Box{0, 16, 10, 8}));
}

TEST(TransformResizedCrop, OutputIsResizedBoxAndDeterministic) {
  const RandomResizedCrop transform(24);
  FloatImage base = fixture_image_b();
  for (int seed = 0; seed < 5; ++seed) {
    FloatImage image = base, expected = base;
    Rng rng(seed), replay(seed);
    transform.apply(image, rng);
    resized_crop(expected, transform.sample_box(200, 300, replay), 24, 24);
    ASSERT_EQ(image.height, 24);
    ASSERT_EQ(image.width, 24);
    EXPECT_EQ(values_of(image), values_of(expected));
    EXPECT_EQ(rng.state(), replay.state());
  }
}

// ---- erasing, cutout

TEST(TransformErasing, ErasesARectangleOfZerosWithExpectedStatistics) {
  const RandomErasing transform;  // p 0.5, scale [0.02, 0.33], ratio [0.3, 3.3], value 0
  const int draws = 2000;
  int applied = 0;
  double area_sum = 0;
  for (int seed = 0; seed < draws; ++seed) {
    FloatImage image = make_image(3, 32, 32, [](int64_t, int64_t, int64_t) { return 1.0f; });
    Rng rng(seed), replay(seed);
    transform.apply(image, rng);
    const Box b = transform.sample_box(32, 32, replay);
    // Exactly the box is zero, in every channel: a rectangle of zeros.
    int64_t zeros = 0;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) {
          const bool in_box = y >= b.top && y < b.top + b.height && x >= b.left && x < b.left + b.width;
          ASSERT_EQ(at(image, c, y, x), in_box ? 0.0f : 1.0f);
          zeros += in_box;
        }
    ASSERT_EQ(zeros, 3 * b.area());
    if (b.area() > 0) {
      ++applied;
      const double fraction = b.area() / 1024.0;
      EXPECT_LT(b.height, 32);
      EXPECT_LT(b.width, 32);
      EXPECT_GE(fraction, 0.012);  // 0.02 of the area, less rounding of h and w
      EXPECT_LE(fraction, 0.36);
      area_sum += fraction;
    }
  }
  const double se = std::sqrt(0.25 / draws);
  EXPECT_NEAR(applied / double(draws), 0.5, 3 * se);
  // Area uniform in [0.02, 0.33] → mean 0.175; tall/wide draws that do not fit bias it down a little.
  const double mean = area_sum / applied;
  EXPECT_GT(mean, 0.14);
  EXPECT_LT(mean, 0.19);
  std::printf("[ erasing ] applied %.3f, mean erased fraction %.4f\n", applied / double(draws), mean);
}

TEST(TransformErasing, RandomValuesAreStandardNormal) {
  RandomErasingOptions o;
  o.p = 1.0;
  o.random_values = true;
  const RandomErasing transform(o);
  double sum = 0, sum2 = 0;
  int64_t n = 0;
  for (int seed = 0; seed < 200; ++seed) {
    FloatImage image = make_image(1, 32, 32, [](int64_t, int64_t, int64_t) { return 100.0f; });
    Rng rng(seed);
    transform.apply(image, rng);
    for (float v : image.values)
      if (v != 100.0f) sum += v, sum2 += double(v) * v, ++n;
  }
  ASSERT_GT(n, 10000);
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sum2 / n, 1.0, 0.05);
}

TEST(TransformCutout, SquareStatisticsMatchTheClippedExpectation) {
  const Cutout transform(8);
  // E[area] = E[rows] · E[columns]: each is the length of [c - 4, c + 4) ∩ [0, 32), c uniform in [0, 32).
  double expected_len = 0;
  for (int c = 0; c < 32; ++c) expected_len += std::min(c + 4, 32) - std::max(c - 4, 0);
  expected_len /= 32;
  const double expected_area = expected_len * expected_len;
  const int draws = 2000;
  double sum = 0, sum2 = 0;
  for (int seed = 0; seed < draws; ++seed) {
    FloatImage image = make_image(2, 32, 32, [](int64_t, int64_t, int64_t) { return 1.0f; });
    Rng rng(seed), replay(seed);
    transform.apply(image, rng);
    const Box b = transform.sample_box(32, 32, replay);
    ASSERT_LE(b.height, 8);
    ASSERT_LE(b.width, 8);
    ASSERT_GE(b.height, 4);
    int64_t zeros = 0;
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t y = 0; y < 32; ++y)
        for (int64_t x = 0; x < 32; ++x) {
          const bool in_box = y >= b.top && y < b.top + b.height && x >= b.left && x < b.left + b.width;
          ASSERT_EQ(at(image, c, y, x), in_box ? 0.0f : 1.0f);
          zeros += in_box;
        }
    sum += double(zeros) / 2, sum2 += double(zeros) * zeros / 4;
  }
  const double mean = sum / draws, sd = std::sqrt(sum2 / draws - mean * mean);
  EXPECT_NEAR(mean, expected_area, 3 * sd / std::sqrt(draws));
  std::printf("[ cutout ] mean area %.2f (expected %.2f)\n", mean, expected_area);
  // p = 0: never applied.
  FloatImage image = small_ramp();
  Rng rng(1);
  Cutout(2, 0.0).apply(image, rng);
  EXPECT_EQ(values_of(image), values_of(small_ramp()));
}

// ---- pipeline

TEST(TransformPipeline, SameSeedSameOutputDifferentSeedsDiffer) {
  const auto pipeline = parse_pipeline({"random_resized_crop(32)", "hflip", "normalize(mean=0.5, std=0.25)",
                                        "random_erasing(p=1, value=random)", "cutout(8)"});
  const FloatImage base = fixture_image_b();
  auto run = [&](uint64_t seed) {
    FloatImage image = base;
    Rng rng(seed);
    pipeline->apply(image, rng);
    return values_of(image);
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
  const auto crop = parse_pipeline({"random_crop(28, padding=2, mode=reflect)"});
  FloatImage a = fixture_image_a(), b = fixture_image_a();
  Rng r1(5), r2(5);
  crop->apply(a, r1);
  crop->apply(b, r2);
  EXPECT_EQ(values_of(a), values_of(b));
}

TEST(TransformPipeline, SteadyStateAllocatesNothing) {
  const auto pipeline = parse_pipeline({"random_resized_crop(24)", "hflip", "random_crop(24, padding=2)",
                                        "normalize(mean=0.5, std=0.25)", "random_erasing", "cutout(4)"});
  const FloatImage base = fixture_image_a();
  FloatImage image;
  auto step = [&](uint64_t seed) {
    image.resize(base.channels, base.height, base.width);
    std::copy(base.values.begin(), base.values.end(), image.values.begin());
    Rng rng(seed);
    pipeline->apply(image, rng);
  };
  for (int i = 0; i < 20; ++i) step(i);  // buffers reach their largest size
  const std::set<const float*> buffers = {image.values.data(), image.scratch.data()};
  for (int i = 20; i < 200; ++i) {
    step(i);
    EXPECT_EQ(buffers, (std::set<const float*>{image.values.data(), image.scratch.data()}));
  }
}

// ---- mixing

TEST(TransformBeta, MeanWithinThreeStandardErrors) {
  for (auto [a, b] : std::vector<std::pair<double, double>>{{0.2, 0.2}, {1, 1}, {2, 5}, {0.5, 3}, {8, 2}}) {
    Rng rng(11);
    const int n = 20000;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const double x = sample_beta(a, b, rng);
      ASSERT_GE(x, 0.0);
      ASSERT_LE(x, 1.0);
      sum += x;
    }
    const double mean = a / (a + b), var = a * b / ((a + b) * (a + b) * (a + b + 1));
    EXPECT_NEAR(sum / n, mean, 3 * std::sqrt(var / n)) << "Beta(" << a << ", " << b << ")";
  }
  for (double k : {0.3, 1.0, 4.5}) {
    Rng rng(12);
    const int n = 20000;
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += sample_gamma(k, rng);
    EXPECT_NEAR(sum / n, k, 3 * std::sqrt(k / n)) << "Gamma(" << k << ")";  // mean = var = k
  }
}

TEST(TransformMixup, PixelsAreExactConvexCombinations) {
  Rng fill(3);
  Tensor images = Tensor::empty({6, 2, 3, 4});
  for (int64_t i = 0; i < images.numel(); ++i) images.set_flat(i, fill.uniform(-2, 2));
  const Tensor original = images.clone();
  Rng rng(9);
  const MixedBatch m = mixup(images, 0.4, rng);
  ASSERT_EQ(m.other.size(), 6u);
  EXPECT_GE(m.lambda, 0.0);
  EXPECT_LE(m.lambda, 1.0);
  std::vector<int64_t> sorted = m.other;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // Builds are -std=c++20 (no FP contraction), so this expression rounds exactly as the library's.
  const auto l = static_cast<float>(m.lambda), r = static_cast<float>(1.0 - m.lambda);
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t c = 0; c < 2; ++c)
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const float a = original.at<float>({i, c, y, x}), b = original.at<float>({m.other[i], c, y, x});
          EXPECT_EQ(images.at<float>({i, c, y, x}), l * a + r * b);
        }
  // Same seed → same mixing.
  Tensor again = original.clone();
  Rng rng2(9);
  const MixedBatch m2 = mixup(again, 0.4, rng2);
  EXPECT_EQ(m2.other, m.other);
  EXPECT_EQ(m2.lambda, m.lambda);
  EXPECT_THROW(mixup(again, 0.0, rng2), UserError);
}

TEST(TransformCutmix, BoxComesFromThePartnerAndLambdaIsTheAreaLeft) {
  for (int seed = 0; seed < 50; ++seed) {
    Tensor images =
        Tensor::empty({4, 3, 10, 12}, DType::f32, seed % 2 ? Layout::channels_last : Layout::contiguous);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < 10; ++y)
          for (int64_t x = 0; x < 12; ++x)
            images.at<float>({i, c, y, x}) = float(1000 * i + 100 * c + 12 * y + x);
    const Tensor original = images.clone();
    Rng rng(seed);
    Box box;
    const MixedBatch m = cutmix(images, 1.0, rng, &box);
    EXPECT_GE(m.lambda, 0.0);
    EXPECT_LE(m.lambda, 1.0);
    EXPECT_DOUBLE_EQ(m.lambda, 1.0 - double(box.area()) / 120.0);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t c = 0; c < 3; ++c)
        for (int64_t y = 0; y < 10; ++y)
          for (int64_t x = 0; x < 12; ++x) {
            const bool in_box =
                y >= box.top && y < box.top + box.height && x >= box.left && x < box.left + box.width;
            EXPECT_EQ(images.at<float>({i, c, y, x}), original.at<float>({in_box ? m.other[i] : i, c, y, x}));
          }
  }
}

// ---- parser

TEST(TransformParse, AcceptsTheDocumentedExamples) {
  const std::vector<std::pair<std::string, std::string>> examples = {
      {"random_crop(28, padding=2, mode=reflect)", "random_crop(28, padding=2, mode=reflect)"},
      {"hflip", "hflip(p=0.5)"},
      {"hflip(p=0.3)", "hflip(p=0.3)"},
      {"normalize(mean=0.2860, std=0.3530)", "normalize(mean=0.286, std=0.353)"},
      {"normalize(mean=[0.485,0.456,0.406], std=[0.229,0.224,0.225])",
       "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"},
      {"resize(256)", "resize(256)"},
      {"resize([11, 17])", "resize([11, 17])"},
      {"resize(11, 17)", "resize([11, 17])"},
      {"center_crop(32, 52)", "center_crop([32, 52])"},
      {"center_crop(224)", "center_crop(224)"},
      {"random_resized_crop(224, scale=[0.08,1], ratio=[0.75,1.3333])",
       "random_resized_crop(224, scale=[0.08, 1], ratio=[0.75, 1.3333])"},
      {"random_erasing(p=0.5)", "random_erasing(p=0.5, scale=[0.02, 0.33], ratio=[0.3, 3.3], value=0)"},
      {"random_erasing(value=random)",
       "random_erasing(p=0.5, scale=[0.02, 0.33], ratio=[0.3, 3.3], value=random)"},
      {"cutout(8)", "cutout(8, p=1)"},
      {"  Random-Crop ( 32 , padding = 4 )  ", "random_crop(32, padding=4, mode=zero)"},
      {"random_crop(size=[24, 28])", "random_crop([24, 28], padding=0, mode=zero)"},
  };
  for (const auto& [spec, description] : examples) {
    std::unique_ptr<Transform> t;
    ASSERT_NO_THROW(t = parse_transform(spec)) << spec;
    EXPECT_EQ(t->describe(), description) << spec;
    // describe() parses back to the same transform.
    EXPECT_EQ(parse_transform(t->describe())->describe(), description);
  }
  const auto pipeline = parse_pipeline(split_transform_specs(
      "random_crop(32, padding=4), hflip; normalize(mean=[0.4914, 0.4822, 0.4465], std=0.25)"));
  ASSERT_EQ(pipeline->size(), 3u);
  EXPECT_EQ(pipeline->describe(),
            "random_crop(32, padding=4, mode=zero), hflip(p=0.5), normalize(mean=[0.4914, 0.4822, 0.4465], "
            "std=0.25)");
  EXPECT_EQ(split_transform_specs(pipeline->describe()).size(), 3u);
}

TEST(TransformParse, RejectsTyposWithASuggestion) {
  auto message = [](const std::string& spec) -> std::string {
    try {
      parse_transform(spec);
    } catch (const UserError& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for " << spec;
    return "";
  };
  const std::string typo = message("hfilp");
  EXPECT_NE(typo.find("\"hfilp\""), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean \"hflip\""), std::string::npos) << typo;
  EXPECT_NE(typo.find("random_resized_crop"), std::string::npos) << typo;  // lists valid names
  EXPECT_NE(message("random_crop(32, pading=4)").find("did you mean \"padding\""), std::string::npos);
  EXPECT_NE(message("random_crop(32, mode=reflct)").find("did you mean \"reflect\""), std::string::npos);
  EXPECT_NE(message("normalise(mean=0.5, std=0.2)").find("did you mean \"normalize\""), std::string::npos);
  EXPECT_NE(message("random_crop").find("needs size"), std::string::npos);
  EXPECT_NE(message("random_crop(2.5)").find("integer"), std::string::npos);
  EXPECT_NE(message("resize(11, 17, 3)").find("too many"), std::string::npos);
  EXPECT_NE(message("random_crop(24, 2, reflect, 1)").find("[h, w]"), std::string::npos);
  EXPECT_NE(message("hflip(p=2)").find("[0, 1]"), std::string::npos);
  EXPECT_NE(message("hflip(p=0.5").find("')'"), std::string::npos);
  EXPECT_NE(message("hflip(p=abc)").find("number"), std::string::npos);
  EXPECT_NE(message("cutout(8, p=0.5, p=0.4)").find("twice"), std::string::npos);
  EXPECT_NE(message("random_resized_crop(224, scale=[0.5])").find("[lo, hi]"), std::string::npos);
  EXPECT_NE(message("random_resized_crop(224, scale=[0.9, 0.1])").find("lo <= hi"), std::string::npos);
  EXPECT_NE(message("").find("empty"), std::string::npos);
  EXPECT_NE(message("hflip(p=0.5) extra").find("column"), std::string::npos);
  // Every message names the spec.
  EXPECT_EQ(message("cutout(0)").rfind("transform \"cutout(0)\"", 0), 0u);
}

namespace resnet::testing {
namespace {

// The default pipelines by data set kind (data/presets.h): torchvision's recipes, no mirrored digits.
TEST(DefaultTransforms, FollowTheDataSetKind) {
  using data::SourceKind;
  EXPECT_EQ(data::default_transform_specs(SourceKind::idx, true, 28),
            (std::vector<std::string>{"random_crop(28, padding=2)", "normalize"}));
  EXPECT_EQ(data::default_transform_specs(SourceKind::cifar, true, 32),
            (std::vector<std::string>{"random_crop(32, padding=4)", "hflip", "normalize"}));
  EXPECT_EQ(data::default_transform_specs(SourceKind::folder, true, 224),
            (std::vector<std::string>{"random_resized_crop(224)", "hflip", "normalize"}));
  EXPECT_EQ(data::default_transform_specs(SourceKind::folder, false, 224),
            (std::vector<std::string>{"resize(256)", "center_crop(224)", "normalize"}));
  EXPECT_EQ(data::default_transform_specs(SourceKind::cifar, false, 32),
            (std::vector<std::string>{"normalize"}));
}

}  // namespace
}  // namespace resnet::testing
