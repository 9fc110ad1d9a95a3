// Data augmentation: seeded per-sample transforms on float images, a pipeline of them, a text syntax for
// configs and flags, and batch-level mixing (mixup, CutMix).
//
// Determinism: every random choice is drawn from the Rng passed to apply(). The loader gives each sample
// its own Rng derived from (seed, epoch, position), so a sample's augmentation depends on nothing else —
// not on threads, not on the other samples. The transforms themselves are immutable after construction,
// so one instance is shared by all worker threads (apply is const and thread-safe).
//
// Correspondence with torchvision 0.14: each transform documents the torchvision transform it reproduces.
// The *distributions* of the random parameters are torchvision's (same formulas, same rounding — Python's
// round() is round-half-to-even, reproduced here); the random *streams* are ours, so an individual draw
// does not equal torch's. Deterministic parts (Resize, CenterCrop, the crop and resample of
// RandomResizedCrop) reproduce torchvision applied to a PIL image: tests/data/test_transforms.cpp checks
// them against tests/fixtures/transforms.safetensors, written by tests/fixtures/generate_transforms.py.
//
// Images are planar float [channels][height][width]. to_float maps u8 to [0, 1] like ToTensor. Geometric
// transforms work at any value range; RandomErasing and Cutout write 0, meant for normalised images
// (0 is then the dataset mean), as in the papers' and torchvision's usual pipelines.
//
// Memory: a transform writes its result into image.scratch and swaps it with image.values, and per-thread
// index/weight tables are kept between calls, so a worker thread that reuses its FloatImage allocates
// nothing once its buffers have reached their largest size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "resnet/core/rng.h"
#include "resnet/core/tensor.h"
#include "resnet/data/dataset.h"

namespace resnet::data {

// The largest height or width a transform may produce or a model card may ask for (16384: 3 GB for one
// RGB f32 image). Larger sizes are refused when the spec is parsed (resize(100000) would otherwise end
// in std::bad_alloc on the first image); sizes a transform computes from the image (resize(S) keeps the
// aspect ratio, random_crop pads) are checked when applied.
inline constexpr int64_t kMaxImageSide = 16384;

// A float image being transformed: values[(c * height + y) * width + x]; values.size() is exactly
// channels · height · width after every operation. `scratch` is working memory.
struct FloatImage {
  int64_t channels = 0, height = 0, width = 0;
  std::vector<float> values, scratch;

  void resize(int64_t c, int64_t h, int64_t w) {
    channels = c, height = h, width = w;
    values.resize(static_cast<size_t>(c * h * w));
  }
  int64_t numel() const { return channels * height * width; }
  float* plane(int64_t c) { return values.data() + c * height * width; }
  const float* plane(int64_t c) const { return values.data() + c * height * width; }
};

// u8 → float in [0, 1]: value / 255 (torchvision ToTensor), correctly rounded.
void to_float(const Image& in, FloatImage& out);

// ---- functional
// The deterministic operations the transforms are built from (torchvision.transforms.functional).

// How pixels outside the image are filled (torchvision padding_mode; numpy.pad's modes):
//   zero      constant 0 ("constant" with fill=0)
//   reflect   mirror without repeating the edge pixel: … 2 1 | 0 1 2 … (padding larger than the image
//             keeps reflecting)
//   edge      repeat the edge pixel: … 0 0 | 0 1 2 …
//   symmetric mirror repeating the edge pixel: … 1 0 | 0 1 2 …
enum class PadMode { zero, reflect, edge, symmetric };
const char* pad_mode_name(PadMode mode);

// A rectangle of pixels: rows [top, top + height), columns [left, left + width).
struct Box {
  int64_t top = 0, left = 0, height = 0, width = 0;
  int64_t area() const { return height * width; }
  bool operator==(const Box&) const = default;
};

// Crops the window `box` of the image; the window may extend past any border (even entirely), those
// pixels are filled by `mode`. This is torchvision's pad-then-crop in one step.
void crop(FloatImage& image, const Box& box, PadMode mode = PadMode::zero);

// Mirrors every row (torchvision F.hflip).
void hflip(FloatImage& image);

// Resamples the window `box` (inside the image) to height × width, exactly as PIL's Image.resize with
// BILINEAR does for torchvision: separable, horizontal pass then vertical; each output sample is centred at
// in = (out + 0.5) * scale (scale = in_size / out_size, pixel centres aligned), its weights are the
// triangle filter stretched by max(scale, 1) — so a downscale averages over the whole footprint
// (antialiasing) — evaluated at the input pixel centres inside the window, normalised to sum 1.
// Differences from PIL: PIL rounds to u8 after each pass and uses 22-bit fixed-point weights; here
// everything stays float, so results differ from PIL's by < 1/255 (see the parity test). The weights are
// non-negative, so outputs stay within the input range and no clamp is needed (PIL clamps only to fit u8).
// A dimension whose size does not change is copied, not filtered.
void resized_crop(FloatImage& image, const Box& box, int64_t height, int64_t width);
inline void resize(FloatImage& image, int64_t height, int64_t width) {
  resized_crop(image, Box{0, 0, image.height, image.width}, height, width);
}

// torchvision's Resize(int size) output size: the shorter side becomes `size`, the longer one
// int(size * long / short) (truncated). Returns {height, width}.
std::pair<int64_t, int64_t> shorter_side_size(int64_t height, int64_t width, int64_t size);

// torchvision's CenterCrop window for a crop of height × width: top = int(round((H - h) / 2.0)) with
// Python's round-half-to-even; when the crop is larger than the image in a dimension, the image is
// zero-padded by (h - H) // 2 before and the rest after, i.e. top = -((h - H) // 2).
Box center_crop_box(int64_t image_height, int64_t image_width, int64_t height, int64_t width);

// Python's round() of a float to an integer: halves go to the even neighbour.
int64_t round_half_even(double x);

// ---- transforms
class Transform {
 public:
  virtual ~Transform() = default;
  // Transforms `image` in place, drawing any random choice from `rng`. Throws UserError when the image
  // does not suit the transform (e.g. a crop larger than the padded image).
  virtual void apply(FloatImage& image, Rng& rng) const = 0;
  // The transform in parse_transform's syntax, e.g. "random_crop(32, padding=4, mode=zero)"; parsing it
  // gives an equivalent transform.
  virtual std::string describe() const = 0;
};

// torchvision Normalize(mean, std): channel c becomes (x - mean[c]) / std[c], computed in float like
// torch (float(mean), float(std), subtract then divide). mean and std have 1 entry (every channel) or
// one per channel; a count that fits neither is reported at apply. std must be > 0.
class Normalize final : public Transform {
 public:
  Normalize(std::vector<double> mean, std::vector<double> std);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;

 private:
  std::vector<double> mean_, std_;
};

// torchvision RandomCrop(size, padding, padding_mode=mode) (fill 0): pads `padding` pixels on every side,
// then takes a height × width crop whose top-left corner is uniform over all valid positions: top uniform
// in [0, H + 2·padding - height], left likewise (top drawn first). A crop larger than the padded image is
// a UserError at apply.
class RandomCrop final : public Transform {
 public:
  explicit RandomCrop(int64_t size, int64_t padding = 0, PadMode mode = PadMode::zero)
      : RandomCrop(size, size, padding, mode) {}
  RandomCrop(int64_t height, int64_t width, int64_t padding, PadMode mode);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;

 private:
  int64_t height_, width_, padding_;
  PadMode mode_;
};

// torchvision RandomHorizontalFlip(p): mirrors when uniform() < p. One draw per call.
class RandomHorizontalFlip final : public Transform {
 public:
  explicit RandomHorizontalFlip(double p = 0.5);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;

 private:
  double p_;
};

// torchvision Resize on a PIL image, BILINEAR (always antialiased for PIL): Resize(size) maps the shorter
// side to `size` (shorter_side_size), Resize(height, width) resizes exactly. Resampling: resized_crop.
class Resize final : public Transform {
 public:
  explicit Resize(int64_t size);
  Resize(int64_t height, int64_t width);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;

 private:
  int64_t size_ = 0, height_ = 0, width_ = 0;  // size_ > 0: shorter side; else exact height_ × width_
};

// torchvision CenterCrop(size) / CenterCrop((height, width)): the window of center_crop_box, zero-padded
// where the crop is larger than the image.
class CenterCrop final : public Transform {
 public:
  explicit CenterCrop(int64_t size) : CenterCrop(size, size) {}
  CenterCrop(int64_t height, int64_t width);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;

 private:
  int64_t height_, width_;
};

// An interval [lo, hi] of a random parameter.
struct Range {
  double lo = 0, hi = 0;
};

// torchvision RandomResizedCrop(size, scale, ratio), BILINEAR on PIL. sample_box: up to 10 attempts, each
// drawing an area fraction uniform in `scale` and an aspect ratio w/h = exp(uniform(log ratio.lo,
// log ratio.hi)); w = round(sqrt(area · r)), h = round(sqrt(area / r)); accepted when 0 < w <= W and
// 0 < h <= H, with top then left uniform over the valid positions. If no attempt fits: the central crop
// of the whole image narrowed to the nearest ratio in range. Then the box is resampled to
// height × width (resized_crop). scale within (0, 1] — values above 1 never fit and fall back —, ratio > 0.
class RandomResizedCrop final : public Transform {
 public:
  explicit RandomResizedCrop(int64_t size, Range scale = {0.08, 1.0}, Range ratio = {3.0 / 4.0, 4.0 / 3.0})
      : RandomResizedCrop(size, size, scale, ratio) {}
  RandomResizedCrop(int64_t height, int64_t width, Range scale, Range ratio);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;
  // The crop window for an image_height × image_width image (what apply uses).
  Box sample_box(int64_t image_height, int64_t image_width, Rng& rng) const;

 private:
  int64_t height_, width_;
  Range scale_, ratio_;
};

// torchvision RandomErasing(p, scale, ratio, value) — Zhong et al. 2017, "Random Erasing Data
// Augmentation". With probability p (uniform() < p): up to 10 attempts, each drawing an area fraction
// uniform in `scale` and r = exp(uniform(log ratio.lo, log ratio.hi)); h = round(sqrt(area · r)),
// w = round(sqrt(area / r)) (note: h and w the other way round from RandomResizedCrop, as torchvision);
// accepted when h < H and w < W, then top and left uniform; the rectangle, all channels, is set to `value`
// or, with random_values, to independent standard normal values (torchvision value="random"). No attempt
// fitting → unchanged. Usually placed after Normalize.
struct RandomErasingOptions {
  double p = 0.5;
  Range scale{0.02, 0.33};
  Range ratio{0.3, 3.3};
  double value = 0.0;
  bool random_values = false;
};
class RandomErasing final : public Transform {
 public:
  explicit RandomErasing(RandomErasingOptions options = {});
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;
  // The erased rectangle (area 0 when nothing is erased). Draws the same numbers as apply, except the
  // random values.
  Box sample_box(int64_t image_height, int64_t image_width, Rng& rng) const;

 private:
  RandomErasingOptions options_;
};

// Cutout — DeVries & Taylor 2017, "Improved Regularization of Convolutional Neural Networks with Cutout":
// with probability p, a size × size square centred at a uniform pixel (cy uniform in [0, H), then cx),
// rows [cy - size/2, cy - size/2 + size) clipped to the image, set to 0 in every channel. For even sizes
// this is the reference code's square exactly; for odd sizes the reference's is one pixel smaller
// (size - 1). Applied after Normalize (0 = the mean), as in the reference.
class Cutout final : public Transform {
 public:
  explicit Cutout(int64_t size, double p = 1.0);
  void apply(FloatImage& image, Rng& rng) const override;
  std::string describe() const override;
  Box sample_box(int64_t image_height, int64_t image_width, Rng& rng) const;  // area 0: not applied

 private:
  int64_t size_;
  double p_;
};

// A pipeline: applies each transform in order (torchvision Compose). Empty = identity.
class Compose final : public Transform {
 public:
  Compose() = default;
  Compose& add(std::unique_ptr<Transform> transform);
  void apply(FloatImage& image, Rng& rng) const override;
  // The members' descriptions joined by ", " (split_transform_specs splits it back); "" when empty.
  std::string describe() const override;
  const std::vector<std::unique_ptr<Transform>>& transforms() const { return transforms_; }
  size_t size() const { return transforms_.size(); }
  bool empty() const { return transforms_.empty(); }

 private:
  std::vector<std::unique_ptr<Transform>> transforms_;
};

// ---- presets
// torchvision's ImageNet evaluation transform, the one its ResNet weights were measured with:
//   Resize(256) (shorter side, PIL's antialiased bilinear), CenterCrop(224), ToTensor, Normalize(mean, std)
// with the ImageNet statistics below. For a crop size S the resize is int(S * 256 / 224) (timm's
// crop_pct 0.875), which is 256 at 224.
inline constexpr double kImageNetMean[3] = {0.485, 0.456, 0.406};
inline constexpr double kImageNetStd[3] = {0.229, 0.224, 0.225};
// The transform as specs for parse_pipeline (what a checkpoint's "eval_transforms" holds):
// {"resize(256)", "center_crop(224)", "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"}.
std::vector<std::string> imagenet_eval_transform_specs(int64_t crop = 224);
// A decoded image (decode_image: u8, 1 or 3 channels, any size; grey is replicated into R, G and B as
// PIL's convert('RGB') does) through that transform: f32 [1, 3, crop, crop], contiguous NCHW, ready for
// a converted torchvision ResNet. Matches torchvision on the same decoded pixels within one u8 level
// (1/255) per value before normalisation: PIL rounds to u8 after each resampling pass, this stays in float
// (tests/data/test_imagenet_preprocess.cpp).
Tensor imagenet_eval_preprocess(const Image& image, int64_t crop = 224);

// ---- parsing
// One transform from text: name, optionally followed by (arguments): positional ones first, then
// key=value; a value is a number, a word or a list [a, b, …]. Names and parameters:
//   normalize(mean=M, std=S)                      M, S: a number or a list (one per channel)
//   random_crop(size, padding=0, mode=zero)       size: n or [h, w]; mode: zero|reflect|edge|symmetric
//   hflip(p=0.5)
//   resize(size)                                  n: shorter side; [h, w] or (h, w): exact
//   center_crop(size)                             n, [h, w] or (h, w)
//   random_resized_crop(size, scale=[0.08, 1], ratio=[0.75, 1.3333333333333333])
//   random_erasing(p=0.5, scale=[0.02, 0.33], ratio=[0.3, 3.3], value=0)   value: a number or "random"
//   cutout(size, p=1)
// Examples: "random_crop(28, padding=2, mode=reflect)", "hflip", "normalize(mean=[0.485,0.456,0.406],
// std=[0.229,0.224,0.225])". Names are case-insensitive and '-' may stand for '_'. Errors throw UserError
// naming the spec and the problem; an unknown name or parameter lists the valid ones and suggests the
// closest.
std::unique_ptr<Transform> parse_transform(const std::string& spec);
// The names parse_transform accepts.
const std::vector<std::string>& transform_names();
// A pipeline of parse_transform(spec) for each spec, in order.
std::unique_ptr<Compose> parse_pipeline(const std::vector<std::string>& specs);
// Splits "random_crop(32, padding=4), hflip" at the commas outside parentheses and brackets (for a
// pipeline given as one flag); blank entries are dropped.
std::vector<std::string> split_transform_specs(const std::string& text);

// ---- batch mixing
// On a batch `images` [N, C, H, W] f32, dense (contiguous or channels_last), already normalised, mixed in
// place (the handle is const, the data is not). Labels are not touched: the loss becomes
// lambda · loss(labels) + (1 - lambda) · loss(labels[other]).
struct MixedBatch {
  std::vector<int64_t> other;  // [N] the partner of each sample: labels_b[i] = labels[other[i]]
  double lambda = 1.0;         // weight of the original label
};

// mixup — Zhang et al. 2018: lambda ~ Beta(alpha, alpha), other = a uniform random permutation (a sample
// may be its own partner, as in the reference code); x_i = l · x_i + m · x_other[i] computed in float with
// l = float(lambda), m = float(1 - lambda). alpha > 0.
MixedBatch mixup(const Tensor& images, double alpha, Rng& rng);

// CutMix — Yun et al. 2019, following the reference code: lambda ~ Beta(alpha, alpha), other = a random
// permutation; a box of cut_h = int(H · sqrt(1 - lambda)), cut_w = int(W · sqrt(1 - lambda)) centred at
// (cy, cx) uniform over the pixels: rows [cy - cut_h/2, cy + cut_h/2) clipped to the image (so 2·(cut/2)
// before clipping, as the reference), columns likewise; every sample's box is replaced by its partner's
// (pixels read before any is written); lambda is then recomputed as 1 - box area / (H · W).
// alpha > 0. The box used is returned through `box` when non-null.
MixedBatch cutmix(const Tensor& images, double alpha, Rng& rng, Box* box = nullptr);

// Gamma(shape, 1) by Marsaglia–Tsang (2000); shape < 1 via Gamma(shape + 1) · U^(1/shape). shape > 0.
double sample_gamma(double shape, Rng& rng);
// Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b), evaluated in log space so that small a, b (whose
// gamma draws underflow) still give a value in [0, 1]. a, b > 0.
double sample_beta(double a, double b, Rng& rng);
// A uniform random permutation of 0..n-1 (Fisher–Yates with rng.below).
std::vector<int64_t> random_permutation(int64_t n, Rng& rng);

}  // namespace resnet::data
