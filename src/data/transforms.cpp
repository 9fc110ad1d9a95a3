// Over 600 lines: every transform of the pipeline language (parsing and applying each, side by side), which
// share the spec parser and the image helpers at the top.
#include "resnet/data/transforms.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include "resnet/core/memory_budget.h"
#include "resnet/core/suggest.h"

namespace resnet::data {

namespace {

// Shortest text that reads back as the same double ("0.1", "1", "1.3333333333333333").
std::string fmt(double x) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), x);
  return std::string(buffer, result.ptr);
}

std::string fmt_list(const std::vector<double>& xs) {
  if (xs.size() == 1) return fmt(xs[0]);
  std::string out = "[";
  for (size_t i = 0; i < xs.size(); ++i) out += (i ? ", " : "") + fmt(xs[i]);
  return out + "]";
}

std::string fmt_range(const Range& r) {
  return "[" + fmt(r.lo) + ", " + fmt(r.hi) + "]";
}

std::string fmt_size(int64_t height, int64_t width) {
  if (height == width) return std::to_string(height);
  return "[" + std::to_string(height) + ", " + std::to_string(width) + "]";
}

void check_probability(const char* what, double p) {
  if (!(p >= 0.0 && p <= 1.0)) throw UserError(std::string(what) + ": p must be in [0, 1], got " + fmt(p));
}

void check_positive_size(const char* what, int64_t height, int64_t width) {
  if (height <= 0 || width <= 0)
    throw UserError(std::string(what) + ": size must be positive, got " + fmt_size(height, width));
  if (height > kMaxImageSide || width > kMaxImageSide)
    throw UserError(std::string(what) + ": size " + fmt_size(height, width) + " exceeds the largest side " +
                    std::to_string(kMaxImageSide) + " an image may have (one " + std::to_string(height) +
                    "×" + std::to_string(width) + " RGB image needs " +
                    format_bytes(12.0 * static_cast<double>(height) * static_cast<double>(width)) +
                    "): use a size of at most " + std::to_string(kMaxImageSide));
}

// A size a transform computes from its input (resize(S) keeps the aspect ratio: a 100×1 image at
// resize(16384) would be 1638400 wide).
void check_output_size(const std::string& what, int64_t height, int64_t width) {
  if (height > kMaxImageSide || width > kMaxImageSide)
    throw UserError(what + ": the result would be " + std::to_string(height) + "×" + std::to_string(width) +
                    ", beyond the largest side " + std::to_string(kMaxImageSide) +
                    " an image may have: use a smaller size or crop first");
}

void check_range(const char* what, const char* name, const Range& r, double min_exclusive) {
  if (!(std::isfinite(r.lo) && std::isfinite(r.hi) && r.lo > min_exclusive && r.lo <= r.hi))
    throw UserError(std::string(what) + ": " + name + " must be [lo, hi] with " + fmt(min_exclusive) +
                    " < lo <= hi, got " + fmt_range(r));
}

// The result of an operation is written into `scratch`; this makes it the image.
void commit(FloatImage& image, int64_t c, int64_t h, int64_t w) {
  std::swap(image.values, image.scratch);
  image.channels = c, image.height = h, image.width = w;
}

float* begin_output(FloatImage& image, int64_t c, int64_t h, int64_t w) {
  image.scratch.resize(static_cast<size_t>(c * h * w));
  return image.scratch.data();
}

// Index of the source pixel for padded position i of a dimension of n pixels; -1 = zero fill.
int64_t source_index(int64_t i, int64_t n, PadMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::zero:
      return -1;
    case PadMode::edge:
      return i < 0 ? 0 : n - 1;
    case PadMode::reflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t m = i % period;
      if (m < 0) m += period;
      return m < n ? m : period - m;
    }
    case PadMode::symmetric: {
      const int64_t period = 2 * n;
      int64_t m = i % period;
      if (m < 0) m += period;
      return m < n ? m : period - 1 - m;
    }
  }
  return -1;
}

// Resampling weights of one dimension (PIL's precompute_coeffs with the bilinear filter).
struct Kernel {
  int64_t taps = 0;
  std::vector<int64_t> first, count;
  std::vector<float> weights;  // [out][taps]
};

void build_kernel(int64_t in_size, int64_t out_size, Kernel& k) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filterscale = std::max(scale, 1.0);  // upscaling keeps the plain triangle
  const double support = 1.0 * filterscale;         // the triangle's support is 1, stretched
  const double inverse = 1.0 / filterscale;
  k.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  k.first.resize(static_cast<size_t>(out_size));
  k.count.resize(static_cast<size_t>(out_size));
  k.weights.assign(static_cast<size_t>(out_size * k.taps), 0.0f);
  thread_local std::vector<double> w;
  w.resize(static_cast<size_t>(k.taps));
  for (int64_t o = 0; o < out_size; ++o) {
    const double center = (static_cast<double>(o) + 0.5) * scale;
    // C's truncating casts, as PIL: the window is rounded, then clipped to the input.
    const int64_t lo = std::max<int64_t>(static_cast<int64_t>(center - support + 0.5), 0);
    const int64_t hi = std::min<int64_t>(static_cast<int64_t>(center + support + 0.5), in_size);
    const int64_t n = hi - lo;
    double sum = 0;
    for (int64_t t = 0; t < n; ++t) {
      const double x = std::abs((static_cast<double>(t + lo) - center + 0.5) * inverse);
      w[t] = x < 1.0 ? 1.0 - x : 0.0;
      sum += w[t];
    }
    float* out = k.weights.data() + o * k.taps;
    for (int64_t t = 0; t < n; ++t) out[t] = static_cast<float>(sum != 0.0 ? w[t] / sum : w[t]);
    k.first[o] = lo;
    k.count[o] = n;
  }
}

// Marsaglia–Tsang, returning log of the Gamma(shape, 1) draw.
double log_gamma_draw(double shape, Rng& rng) {
  if (shape < 1.0) {
    const double u = 1.0 - rng.uniform();  // (0, 1]
    return log_gamma_draw(shape + 1.0, rng) + std::log(u) / shape;
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = rng.normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = rng.uniform();
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return std::log(d * v);
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return std::log(d * v);
  }
}

void check_batch(const Tensor& images, const char* what) {
  RESNET_CHECK(images.ndim() == 4 && images.dtype() == DType::f32 && images.is_dense())
      << what << " needs a dense [N, C, H, W] f32 batch, got " << images.str();
}

void check_alpha(double alpha, const char* what) {
  if (!(alpha > 0.0 && std::isfinite(alpha)))
    throw UserError(std::string(what) + ": alpha must be a positive number, got " + fmt(alpha));
}

}  // namespace

// ---- functional

void to_float(const Image& in, FloatImage& out) {
  out.resize(in.channels, in.height, in.width);
  const uint8_t* src = in.pixels.data();
  float* dst = out.values.data();
  const size_t n = out.values.size();
  for (size_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]) / 255.0f;
}

const char* pad_mode_name(PadMode mode) {
  switch (mode) {
    case PadMode::zero:
      return "zero";
    case PadMode::reflect:
      return "reflect";
    case PadMode::edge:
      return "edge";
    case PadMode::symmetric:
      return "symmetric";
  }
  return "?";
}

int64_t round_half_even(double x) {
  const double r = std::round(x);  // halves away from zero
  if (std::abs(x - std::trunc(x)) == 0.5) return static_cast<int64_t>(2.0 * std::round(x / 2.0));
  return static_cast<int64_t>(r);
}

void crop(FloatImage& image, const Box& box, PadMode mode) {
  RESNET_CHECK(box.height >= 0 && box.width >= 0) << "crop of " << box.height << "x" << box.width;
  const int64_t C = image.channels, H = image.height, W = image.width;
  if (mode != PadMode::zero && (H == 0 || W == 0))
    throw UserError(std::string("cannot pad an empty image in mode ") + pad_mode_name(mode));
  float* out = begin_output(image, C, box.height, box.width);
  const bool inside = box.top >= 0 && box.left >= 0 && box.top + box.height <= H && box.left + box.width <= W;
  if (inside) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < box.height; ++y)
        std::memcpy(out + (c * box.height + y) * box.width, image.plane(c) + (box.top + y) * W + box.left,
                    sizeof(float) * box.width);
  } else {
    thread_local std::vector<int64_t> rows, cols;
    rows.resize(static_cast<size_t>(box.height));
    cols.resize(static_cast<size_t>(box.width));
    for (int64_t y = 0; y < box.height; ++y) rows[y] = source_index(box.top + y, H, mode);
    for (int64_t x = 0; x < box.width; ++x) cols[x] = source_index(box.left + x, W, mode);
    for (int64_t c = 0; c < C; ++c) {
      const float* src = image.plane(c);
      for (int64_t y = 0; y < box.height; ++y) {
        float* dst = out + (c * box.height + y) * box.width;
        if (rows[y] < 0) {
          std::fill(dst, dst + box.width, 0.0f);
          continue;
        }
        const float* row = src + rows[y] * W;
        for (int64_t x = 0; x < box.width; ++x) dst[x] = cols[x] < 0 ? 0.0f : row[cols[x]];
      }
    }
  }
  commit(image, C, box.height, box.width);
}

void hflip(FloatImage& image) {
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = 0; y < image.height; ++y) {
      float* row = image.plane(c) + y * image.width;
      std::reverse(row, row + image.width);
    }
}

void resized_crop(FloatImage& image, const Box& box, int64_t height, int64_t width) {
  const int64_t C = image.channels, H = image.height, W = image.width;
  if (box.top < 0 || box.left < 0 || box.height <= 0 || box.width <= 0 || box.top + box.height > H ||
      box.left + box.width > W)
    throw UserError("resize: window rows [" + std::to_string(box.top) + ", " +
                    std::to_string(box.top + box.height) + ") × columns [" + std::to_string(box.left) + ", " +
                    std::to_string(box.left + box.width) + ") is not a non-empty part of the " +
                    std::to_string(H) + "×" + std::to_string(W) + " image");
  if (height <= 0 || width <= 0)
    throw UserError("resize: output size must be positive, got " + std::to_string(height) + "×" +
                    std::to_string(width));
  thread_local Kernel kernel;

  // Horizontal pass (first, as PIL): the window's rows → C × box.height × width.
  if (box.width == width) {
    if (box.height != H || box.width != W) crop(image, box);
  } else {
    build_kernel(box.width, width, kernel);
    float* out = begin_output(image, C, box.height, width);
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = 0; y < box.height; ++y) {
        const float* src = image.plane(c) + (box.top + y) * W + box.left;
        float* dst = out + (c * box.height + y) * width;
        for (int64_t o = 0; o < width; ++o) {
          const float* w = kernel.weights.data() + o * kernel.taps;
          const float* s = src + kernel.first[o];
          float acc = 0.0f;
          for (int64_t t = 0; t < kernel.count[o]; ++t) acc += w[t] * s[t];
          dst[o] = acc;
        }
      }
    commit(image, C, box.height, width);
  }

  // Vertical pass: C × box.height × width → C × height × width.
  if (box.height == height) return;
  build_kernel(box.height, height, kernel);
  float* out = begin_output(image, C, height, width);
  for (int64_t c = 0; c < C; ++c) {
    const float* src = image.plane(c);
    for (int64_t o = 0; o < height; ++o) {
      float* dst = out + (c * height + o) * width;
      std::fill(dst, dst + width, 0.0f);
      const float* w = kernel.weights.data() + o * kernel.taps;
      for (int64_t t = 0; t < kernel.count[o]; ++t) {
        const float* row = src + (kernel.first[o] + t) * width;
        const float wt = w[t];
        for (int64_t x = 0; x < width; ++x) dst[x] += wt * row[x];
      }
    }
  }
  commit(image, C, height, width);
}

std::pair<int64_t, int64_t> shorter_side_size(int64_t height, int64_t width, int64_t size) {
  RESNET_CHECK(height > 0 && width > 0 && size > 0) << height << "x" << width << " → " << size;
  const int64_t shorter = std::min(height, width), longer = std::max(height, width);
  // Python: int(size * long / short) — an exact integer product, one correctly rounded division, truncation.
  const auto new_long =
      static_cast<int64_t>(static_cast<double>(size * longer) / static_cast<double>(shorter));
  return width <= height ? std::pair{new_long, size} : std::pair{size, new_long};
}

Box center_crop_box(int64_t image_height, int64_t image_width, int64_t height, int64_t width) {
  auto offset = [](int64_t image, int64_t crop) {
    if (crop > image) return -((crop - image) / 2);  // zero padding before: (crop - image) // 2
    return round_half_even(static_cast<double>(image - crop) / 2.0);
  };
  return Box{offset(image_height, height), offset(image_width, width), height, width};
}

// ---- transforms

Normalize::Normalize(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {
  if (mean_.empty() || std_.empty()) throw UserError("normalize: mean and std need at least one value each");
  for (double m : mean_)
    if (!std::isfinite(m)) throw UserError("normalize: mean must be finite, got " + fmt(m));
  for (double s : std_)
    if (!(s > 0.0 && std::isfinite(s))) throw UserError("normalize: std must be positive, got " + fmt(s));
}

void Normalize::apply(FloatImage& image, Rng&) const {
  const auto C = static_cast<size_t>(image.channels);
  for (const auto& [name, values] : {std::pair{"mean", &mean_}, std::pair{"std", &std_}})
    if (values->size() != 1 && values->size() != C)
      throw UserError(describe() + ": " + name + " has " + std::to_string(values->size()) + " values for a " +
                      std::to_string(C) +
                      "-channel image; give one value for all channels or one per channel");
  const int64_t plane = image.height * image.width;
  for (size_t c = 0; c < C; ++c) {
    const auto m = static_cast<float>(mean_[mean_.size() == 1 ? 0 : c]);
    const auto s = static_cast<float>(std_[std_.size() == 1 ? 0 : c]);
    float* x = image.plane(static_cast<int64_t>(c));
    for (int64_t i = 0; i < plane; ++i) x[i] = (x[i] - m) / s;
  }
}

std::string Normalize::describe() const {
  return "normalize(mean=" + fmt_list(mean_) + ", std=" + fmt_list(std_) + ")";
}

RandomCrop::RandomCrop(int64_t height, int64_t width, int64_t padding, PadMode mode)
    : height_(height), width_(width), padding_(padding), mode_(mode) {
  check_positive_size("random_crop", height, width);
  if (padding < 0 || padding > kMaxImageSide)
    throw UserError("random_crop: padding must be in [0, " + std::to_string(kMaxImageSide) + "], got " +
                    std::to_string(padding));
}

void RandomCrop::apply(FloatImage& image, Rng& rng) const {
  const int64_t padded_h = image.height + 2 * padding_, padded_w = image.width + 2 * padding_;
  if (height_ > padded_h || width_ > padded_w)
    throw UserError(describe() + ": the crop " + std::to_string(height_) + "×" + std::to_string(width_) +
                    " does not fit the padded image " + std::to_string(padded_h) + "×" +
                    std::to_string(padded_w) + " (image " + std::to_string(image.height) + "×" +
                    std::to_string(image.width) + " + " + std::to_string(padding_) +
                    " on every side); use a smaller size or more padding");
  const auto top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(padded_h - height_ + 1)));
  const auto left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(padded_w - width_ + 1)));
  crop(image, Box{top - padding_, left - padding_, height_, width_}, mode_);
}

std::string RandomCrop::describe() const {
  return "random_crop(" + fmt_size(height_, width_) + ", padding=" + std::to_string(padding_) +
         ", mode=" + pad_mode_name(mode_) + ")";
}

RandomHorizontalFlip::RandomHorizontalFlip(double p) : p_(p) {
  check_probability("hflip", p);
}

void RandomHorizontalFlip::apply(FloatImage& image, Rng& rng) const {
  if (rng.uniform() < p_) hflip(image);
}

std::string RandomHorizontalFlip::describe() const {
  return "hflip(p=" + fmt(p_) + ")";
}

Resize::Resize(int64_t size) : size_(size) {
  check_positive_size("resize", size, size);
}

Resize::Resize(int64_t height, int64_t width) : height_(height), width_(width) {
  check_positive_size("resize", height, width);
}

void Resize::apply(FloatImage& image, Rng&) const {
  if (image.height <= 0 || image.width <= 0) throw UserError(describe() + ": the image is empty");
  const auto [h, w] =
      size_ > 0 ? shorter_side_size(image.height, image.width, size_) : std::pair{height_, width_};
  check_output_size(describe(), h, w);
  resize(image, h, w);
}

std::string Resize::describe() const {
  return "resize(" +
         (size_ > 0 ? std::to_string(size_)
                    : "[" + std::to_string(height_) + ", " + std::to_string(width_) + "]") +
         ")";
}

CenterCrop::CenterCrop(int64_t height, int64_t width) : height_(height), width_(width) {
  check_positive_size("center_crop", height, width);
}

void CenterCrop::apply(FloatImage& image, Rng&) const {
  crop(image, center_crop_box(image.height, image.width, height_, width_), PadMode::zero);
}

std::string CenterCrop::describe() const {
  return "center_crop(" + fmt_size(height_, width_) + ")";
}

RandomResizedCrop::RandomResizedCrop(int64_t height, int64_t width, Range scale, Range ratio)
    : height_(height), width_(width), scale_(scale), ratio_(ratio) {
  check_positive_size("random_resized_crop", height, width);
  check_range("random_resized_crop", "scale", scale, 0.0);
  check_range("random_resized_crop", "ratio", ratio, 0.0);
}

Box RandomResizedCrop::sample_box(int64_t image_height, int64_t image_width, Rng& rng) const {
  const auto H = static_cast<double>(image_height), W = static_cast<double>(image_width);
  const double area = H * W, log_lo = std::log(ratio_.lo), log_hi = std::log(ratio_.hi);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(scale_.lo, scale_.hi);
    const double r = std::exp(rng.uniform(log_lo, log_hi));
    const int64_t w = round_half_even(std::sqrt(target * r)), h = round_half_even(std::sqrt(target / r));
    if (w > 0 && w <= image_width && h > 0 && h <= image_height) {
      const auto top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image_height - h + 1)));
      const auto left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image_width - w + 1)));
      return Box{top, left, h, w};
    }
  }
  // Fallback: the whole image, narrowed to the closest ratio in range, centred.
  int64_t w = image_width, h = image_height;
  const double in_ratio = W / H;
  if (in_ratio < ratio_.lo)
    h = std::clamp<int64_t>(round_half_even(W / ratio_.lo), 1, image_height);
  else if (in_ratio > ratio_.hi)
    w = std::clamp<int64_t>(round_half_even(H * ratio_.hi), 1, image_width);
  return Box{(image_height - h) / 2, (image_width - w) / 2, h, w};
}

void RandomResizedCrop::apply(FloatImage& image, Rng& rng) const {
  if (image.height <= 0 || image.width <= 0) throw UserError(describe() + ": the image is empty");
  resized_crop(image, sample_box(image.height, image.width, rng), height_, width_);
}

std::string RandomResizedCrop::describe() const {
  return "random_resized_crop(" + fmt_size(height_, width_) + ", scale=" + fmt_range(scale_) +
         ", ratio=" + fmt_range(ratio_) + ")";
}

RandomErasing::RandomErasing(RandomErasingOptions options) : options_(options) {
  check_probability("random_erasing", options.p);
  check_range("random_erasing", "scale", options.scale, 0.0);
  check_range("random_erasing", "ratio", options.ratio, 0.0);
  if (!std::isfinite(options.value))
    throw UserError("random_erasing: value must be finite, got " + fmt(options.value));
}

Box RandomErasing::sample_box(int64_t image_height, int64_t image_width, Rng& rng) const {
  if (!(rng.uniform() < options_.p)) return Box{};
  const double area = static_cast<double>(image_height) * static_cast<double>(image_width);
  const double log_lo = std::log(options_.ratio.lo), log_hi = std::log(options_.ratio.hi);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * rng.uniform(options_.scale.lo, options_.scale.hi);
    const double r = std::exp(rng.uniform(log_lo, log_hi));
    const int64_t h = round_half_even(std::sqrt(target * r)), w = round_half_even(std::sqrt(target / r));
    if (!(h < image_height && w < image_width)) continue;
    const auto top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image_height - h + 1)));
    const auto left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image_width - w + 1)));
    return Box{top, left, h, w};
  }
  return Box{};
}

void RandomErasing::apply(FloatImage& image, Rng& rng) const {
  const Box box = sample_box(image.height, image.width, rng);
  if (box.area() == 0) return;
  const auto value = static_cast<float>(options_.value);
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = box.top; y < box.top + box.height; ++y) {
      float* row = image.plane(c) + y * image.width + box.left;
      for (int64_t x = 0; x < box.width; ++x)
        row[x] = options_.random_values ? static_cast<float>(rng.normal()) : value;
    }
}

std::string RandomErasing::describe() const {
  return "random_erasing(p=" + fmt(options_.p) + ", scale=" + fmt_range(options_.scale) +
         ", ratio=" + fmt_range(options_.ratio) +
         ", value=" + (options_.random_values ? std::string("random") : fmt(options_.value)) + ")";
}

Cutout::Cutout(int64_t size, double p) : size_(size), p_(p) {
  check_positive_size("cutout", size, size);
  check_probability("cutout", p);
}

Box Cutout::sample_box(int64_t image_height, int64_t image_width, Rng& rng) const {
  if (!(rng.uniform() < p_) || image_height <= 0 || image_width <= 0) return Box{};
  const auto cy = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image_height)));
  const auto cx = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image_width)));
  const int64_t y0 = std::clamp<int64_t>(cy - size_ / 2, 0, image_height);
  const int64_t y1 = std::clamp<int64_t>(cy - size_ / 2 + size_, 0, image_height);
  const int64_t x0 = std::clamp<int64_t>(cx - size_ / 2, 0, image_width);
  const int64_t x1 = std::clamp<int64_t>(cx - size_ / 2 + size_, 0, image_width);
  return Box{y0, x0, y1 - y0, x1 - x0};
}

void Cutout::apply(FloatImage& image, Rng& rng) const {
  const Box box = sample_box(image.height, image.width, rng);
  for (int64_t c = 0; c < image.channels; ++c)
    for (int64_t y = box.top; y < box.top + box.height; ++y) {
      float* row = image.plane(c) + y * image.width + box.left;
      std::fill(row, row + box.width, 0.0f);
    }
}

std::string Cutout::describe() const {
  return "cutout(" + std::to_string(size_) + ", p=" + fmt(p_) + ")";
}

Compose& Compose::add(std::unique_ptr<Transform> transform) {
  RESNET_CHECK(transform != nullptr) << "Compose::add(nullptr)";
  transforms_.push_back(std::move(transform));
  return *this;
}

void Compose::apply(FloatImage& image, Rng& rng) const {
  for (const auto& t : transforms_) t->apply(image, rng);
}

std::string Compose::describe() const {
  std::string out;
  for (const auto& t : transforms_) out += (out.empty() ? "" : ", ") + t->describe();
  return out;
}

// ---- parsing

namespace {

struct Value {
  enum class Kind { number, word, list } kind = Kind::number;
  double number = 0;
  std::string word;
  std::vector<double> list;
  std::string text;  // as written, for messages
};

struct Call {
  std::string name;
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;
};

class SpecError {
 public:
  explicit SpecError(const std::string& spec) : spec_(spec) {}
  [[noreturn]] void fail(const std::string& problem) const {
    throw UserError("transform \"" + spec_ + "\": " + problem);
  }

 private:
  const std::string& spec_;
};

// Recursive descent over: name [ '(' [arg {',' arg}] ')' ].
class SpecParser {
 public:
  explicit SpecParser(const std::string& spec) : s_(spec), error_(spec) {}

  Call parse() {
    Call call;
    skip_space();
    if (at_end()) error_.fail("empty transform; valid transforms: " + join_names());
    call.name = identifier("a transform name");
    for (char& ch : call.name)
      ch = ch == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    skip_space();
    if (!at_end() && s_[i_] == '(') {
      ++i_;
      skip_space();
      if (!at_end() && s_[i_] == ')') {
        ++i_;
      } else {
        for (;;) {
          argument(call);
          skip_space();
          if (at_end()) error_.fail("missing ')'");
          if (s_[i_] == ')') {
            ++i_;
            break;
          }
          if (s_[i_] != ',') unexpected("',' or ')'");
          ++i_;
        }
      }
      skip_space();
    }
    if (!at_end()) unexpected("the end of the transform");
    return call;
  }

  static std::string join_names() {
    std::string out;
    for (const auto& n : transform_names()) out += (out.empty() ? "" : ", ") + n;
    return out;
  }

 private:
  bool at_end() const { return i_ >= s_.size(); }
  void skip_space() {
    while (!at_end() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  static bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
  static bool is_name_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  }
  static bool is_number_start(char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  }

  [[noreturn]] void unexpected(const std::string& expected) {
    if (at_end()) error_.fail("expected " + expected + " at the end");
    error_.fail("expected " + expected + " at column " + std::to_string(i_ + 1) + ", found '" +
                s_.substr(i_, 1) + "'");
  }

  std::string identifier(const char* what) {
    if (at_end() || !is_name_start(s_[i_])) unexpected(what);
    const size_t start = i_;
    while (!at_end() && is_name_char(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }

  double number() {
    const size_t start = i_;
    while (!at_end() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == '-' ||
                         s_[i_] == '+'))
      ++i_;
    std::string text = s_.substr(start, i_ - start);
    const char* begin = text.c_str();
    if (*begin == '+') ++begin;
    double x = 0;
    const auto result = std::from_chars(begin, text.c_str() + text.size(), x);
    if (result.ec != std::errc() || result.ptr != text.c_str() + text.size() || !std::isfinite(x))
      error_.fail("\"" + text + "\" is not a number");
    return x;
  }

  Value value() {
    skip_space();
    Value v;
    const size_t start = i_;
    if (at_end()) unexpected("a value");
    if (s_[i_] == '[') {
      v.kind = Value::Kind::list;
      ++i_;
      skip_space();
      if (!at_end() && s_[i_] == ']') {
        ++i_;
      } else {
        for (;;) {
          skip_space();
          if (at_end() || !is_number_start(s_[i_])) unexpected("a number");
          v.list.push_back(number());
          skip_space();
          if (!at_end() && s_[i_] == ']') {
            ++i_;
            break;
          }
          if (at_end() || s_[i_] != ',') unexpected("',' or ']'");
          ++i_;
        }
      }
    } else if (is_number_start(s_[i_])) {
      v.kind = Value::Kind::number;
      v.number = number();
    } else if (is_name_start(s_[i_])) {
      v.kind = Value::Kind::word;
      v.word = identifier("a value");
    } else {
      unexpected("a value");
    }
    v.text = s_.substr(start, i_ - start);
    return v;
  }

  void argument(Call& call) {
    skip_space();
    // key=value when an identifier is followed by '='; a bare word is a positional value.
    if (!at_end() && is_name_start(s_[i_])) {
      const size_t save = i_;
      std::string key = identifier("a parameter");
      skip_space();
      if (!at_end() && s_[i_] == '=') {
        ++i_;
        for (char& ch : key)
          ch = ch == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        call.named.emplace_back(key, value());
        return;
      }
      i_ = save;
    }
    if (!call.named.empty()) error_.fail("a positional argument follows a key=value one");
    call.positional.push_back(value());
  }

  const std::string& s_;
  SpecError error_;
  size_t i_ = 0;
};

// A call's arguments bound to a transform's parameters (positional ones in the listed order).
class Params {
 public:
  Params(const std::string& spec, const Call& call, std::vector<std::string> names)
      : error_(spec), name_(call.name), names_(std::move(names)) {
    if (call.positional.size() > names_.size())
      error_.fail("too many positional arguments; usage: " + signature() +
                  (name_ == "random_crop" || name_ == "random_resized_crop"
                       ? " (write a height × width size as [h, w])"
                       : ""));
    for (size_t i = 0; i < call.positional.size(); ++i) bound_[names_[i]] = call.positional[i];
    for (const auto& [key, v] : call.named) {
      if (std::find(names_.begin(), names_.end(), key) == names_.end())
        error_.fail(name_ + " has no parameter \"" + key + "\"" +
                    (names_.empty() ? "" : " (did you mean \"" + closest_names(key, names_, 1) + "\"?)") +
                    "; usage: " + signature());
      if (!bound_.emplace(key, v).second) error_.fail(key + " is given twice");
    }
  }

  bool has(const std::string& key) const { return bound_.count(key) != 0; }

  const Value& required(const std::string& key, const std::string& example) const {
    const auto it = bound_.find(key);
    if (it == bound_.end()) error_.fail(name_ + " needs " + key + ", e.g. " + example);
    return it->second;
  }

  double number(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    return as_number(key, bound_.at(key));
  }

  double as_number(const std::string& key, const Value& v) const {
    if (v.kind != Value::Kind::number) error_.fail(key + " must be a number, got " + v.text);
    return v.number;
  }

  int64_t as_integer(const std::string& key, double x, const std::string& text) const {
    if (!(x == std::floor(x) && std::abs(x) < 1e15)) error_.fail(key + " must be an integer, got " + text);
    return static_cast<int64_t>(x);
  }

  int64_t integer(const std::string& key, int64_t fallback) const {
    if (!has(key)) return fallback;
    const Value& v = bound_.at(key);
    return as_integer(key, as_number(key, v), v.text);
  }

  // n or [h, w] (or [n]) → {h, w}.
  std::pair<int64_t, int64_t> size(const std::string& key, const std::string& example,
                                   bool* single = nullptr) const {
    const Value& v = required(key, example);
    if (single) *single = v.kind == Value::Kind::number;
    if (v.kind == Value::Kind::number) {
      const int64_t n = as_integer(key, v.number, v.text);
      return {n, n};
    }
    if (v.kind == Value::Kind::list && (v.list.size() == 1 || v.list.size() == 2)) {
      const int64_t h = as_integer(key, v.list[0], v.text), w = as_integer(key, v.list.back(), v.text);
      if (single) *single = v.list.size() == 1;
      return {h, w};
    }
    error_.fail(key + " must be a number or [height, width], got " + v.text);
  }

  std::vector<double> numbers(const std::string& key, const std::string& example) const {
    const Value& v = required(key, example);
    if (v.kind == Value::Kind::number) return {v.number};
    if (v.kind == Value::Kind::list && !v.list.empty()) return v.list;
    error_.fail(key + " must be a number or a list of numbers, got " + v.text);
  }

  Range range(const std::string& key, Range fallback) const {
    if (!has(key)) return fallback;
    const Value& v = bound_.at(key);
    if (v.kind != Value::Kind::list || v.list.size() != 2)
      error_.fail(key + " must be [lo, hi], got " + v.text);
    return Range{v.list[0], v.list[1]};
  }

  const Value* get(const std::string& key) const {
    const auto it = bound_.find(key);
    return it == bound_.end() ? nullptr : &it->second;
  }

  [[noreturn]] void fail(const std::string& problem) const { error_.fail(problem); }

 private:
  std::string signature() const {
    std::string out = name_ + "(";
    for (size_t i = 0; i < names_.size(); ++i) out += (i ? ", " : "") + names_[i];
    return out + ")";
  }

  SpecError error_;
  std::string name_;
  std::vector<std::string> names_;
  std::map<std::string, Value> bound_;
};

PadMode parse_pad_mode(const Params& params) {
  const Value* v = params.get("mode");
  if (!v) return PadMode::zero;
  static const std::vector<std::pair<std::string, PadMode>> modes = {
      {"zero", PadMode::zero}, {"constant", PadMode::zero},  {"reflect", PadMode::reflect},
      {"edge", PadMode::edge}, {"replicate", PadMode::edge}, {"symmetric", PadMode::symmetric}};
  std::vector<std::string> names;
  for (const auto& [name, mode] : modes) {
    if (v->kind == Value::Kind::word && v->word == name) return mode;
    names.push_back(name);
  }
  params.fail("mode \"" + v->text + "\" is not a padding mode (did you mean \"" +
              closest_names(v->text, names, 1) + "\"?); valid modes: zero, reflect, edge, symmetric");
}

// resize(h, w) and center_crop(h, w): two positional numbers stand for the list [h, w].
Call with_size_pair(const Call& call) {
  if (call.positional.size() != 2 || call.positional[0].kind != Value::Kind::number ||
      call.positional[1].kind != Value::Kind::number)
    return call;
  Call out = call;
  Value pair;
  pair.kind = Value::Kind::list;
  pair.list = {call.positional[0].number, call.positional[1].number};
  pair.text = call.positional[0].text + ", " + call.positional[1].text;
  out.positional = {pair};
  return out;
}

using Builder = std::unique_ptr<Transform> (*)(const std::string& spec, const Call& call);

const std::vector<std::pair<std::string, Builder>>& builders() {
  static const std::vector<std::pair<std::string, Builder>> table = {
      {"normalize",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, call, {"mean", "std"});
         const char* example = "normalize(mean=0.2860, std=0.3530)";
         return std::make_unique<Normalize>(p.numbers("mean", example), p.numbers("std", example));
       }},
      {"random_crop",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, call, {"size", "padding", "mode"});
         const auto [h, w] = p.size("size", "random_crop(32, padding=4, mode=reflect)");
         return std::make_unique<RandomCrop>(h, w, p.integer("padding", 0), parse_pad_mode(p));
       }},
      {"hflip",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, call, {"p"});
         return std::make_unique<RandomHorizontalFlip>(p.number("p", 0.5));
       }},
      {"resize",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, with_size_pair(call), {"size"});
         bool single = false;
         const auto [h, w] = p.size("size", "resize(256) or resize([224, 224])", &single);
         if (single) return std::make_unique<Resize>(h);
         return std::make_unique<Resize>(h, w);
       }},
      {"center_crop",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, with_size_pair(call), {"size"});
         const auto [h, w] = p.size("size", "center_crop(224)");
         return std::make_unique<CenterCrop>(h, w);
       }},
      {"random_resized_crop",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, call, {"size", "scale", "ratio"});
         const auto [h, w] = p.size("size", "random_resized_crop(224, scale=[0.08, 1])");
         return std::make_unique<RandomResizedCrop>(h, w, p.range("scale", {0.08, 1.0}),
                                                    p.range("ratio", {3.0 / 4.0, 4.0 / 3.0}));
       }},
      {"random_erasing",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, call, {"p", "scale", "ratio", "value"});
         RandomErasingOptions o;
         o.p = p.number("p", o.p);
         o.scale = p.range("scale", o.scale);
         o.ratio = p.range("ratio", o.ratio);
         if (const Value* v = p.get("value")) {
           if (v->kind == Value::Kind::word && v->word == "random")
             o.random_values = true;
           else if (v->kind == Value::Kind::number)
             o.value = v->number;
           else
             p.fail("value must be a number or \"random\", got " + v->text);
         }
         return std::make_unique<RandomErasing>(o);
       }},
      {"cutout",
       [](const std::string& spec, const Call& call) -> std::unique_ptr<Transform> {
         const Params p(spec, call, {"size", "p"});
         const auto [h, w] = p.size("size", "cutout(16)");
         if (h != w)
           p.fail("cutout's size is one number (a square), got [" + std::to_string(h) + ", " +
                  std::to_string(w) + "]");
         return std::make_unique<Cutout>(h, p.number("p", 1.0));
       }},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& transform_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [name, builder] : builders()) out.push_back(name);
    return out;
  }();
  return names;
}

std::unique_ptr<Transform> parse_transform(const std::string& spec) {
  const Call call = SpecParser(spec).parse();
  for (const auto& [name, builder] : builders()) {
    if (name != call.name) continue;
    try {
      return builder(spec, call);
    } catch (const UserError& e) {
      const std::string what = e.what();
      if (what.rfind("transform \"", 0) == 0) throw;
      throw UserError("transform \"" + spec + "\": " + what);  // a constructor's check
    }
  }
  throw UserError("transform \"" + spec + "\": unknown transform \"" + call.name + "\" (did you mean \"" +
                  closest_names(call.name, transform_names(), 1) +
                  "\"?); valid transforms: " + SpecParser::join_names());
}

std::unique_ptr<Compose> parse_pipeline(const std::vector<std::string>& specs) {
  auto pipeline = std::make_unique<Compose>();
  for (const auto& spec : specs) pipeline->add(parse_transform(spec));
  return pipeline;
}

std::vector<std::string> split_transform_specs(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  auto flush = [&] {
    const size_t b = current.find_first_not_of(" \t\r\n"), e = current.find_last_not_of(" \t\r\n");
    if (b != std::string::npos) out.push_back(current.substr(b, e - b + 1));
    current.clear();
  };
  for (char c : text) {
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') depth = std::max(0, depth - 1);
    if ((c == ',' || c == ';') && depth == 0) {
      flush();
      continue;
    }
    current += c;
  }
  flush();
  return out;
}

// ---- batch mixing

double sample_gamma(double shape, Rng& rng) {
  RESNET_CHECK(shape > 0.0 && std::isfinite(shape)) << "gamma shape " << shape;
  return std::exp(log_gamma_draw(shape, rng));
}

double sample_beta(double a, double b, Rng& rng) {
  RESNET_CHECK(a > 0.0 && b > 0.0 && std::isfinite(a) && std::isfinite(b))
      << "beta(" << a << ", " << b << ")";
  const double log_x = log_gamma_draw(a, rng), log_y = log_gamma_draw(b, rng);
  // x / (x + y) = 1 / (1 + exp(log y - log x)), finite even when x and y underflow.
  return 1.0 / (1.0 + std::exp(log_y - log_x));
}

std::vector<int64_t> random_permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(static_cast<uint64_t>(i) + 1)]);
  return p;
}

MixedBatch mixup(const Tensor& images, double alpha, Rng& rng) {
  check_batch(images, "mixup");
  check_alpha(alpha, "mixup");
  MixedBatch mixed;
  mixed.lambda = sample_beta(alpha, alpha, rng);
  mixed.other = random_permutation(images.size(0), rng);
  const Tensor original = images.clone();
  // A dense 4-D tensor keeps each sample's C·H·W elements together in either layout, so samples mix as
  // flat blocks (both tensors have the same layout).
  const int64_t n = images.size(0), block = images.numel() / std::max<int64_t>(n, 1);
  const auto l = static_cast<float>(mixed.lambda), m = static_cast<float>(1.0 - mixed.lambda);
  float* dst = images.data<float>();
  const float* src = original.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    float* x = dst + i * images.stride(0);
    const float* a = src + i * original.stride(0);
    const float* b = src + mixed.other[i] * original.stride(0);
    for (int64_t k = 0; k < block; ++k) x[k] = l * a[k] + m * b[k];
  }
  return mixed;
}

MixedBatch cutmix(const Tensor& images, double alpha, Rng& rng, Box* box_out) {
  check_batch(images, "cutmix");
  check_alpha(alpha, "cutmix");
  MixedBatch mixed;
  const double lambda = sample_beta(alpha, alpha, rng);
  mixed.other = random_permutation(images.size(0), rng);
  const int64_t N = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  const double cut = std::sqrt(1.0 - lambda);
  const auto cut_h = static_cast<int64_t>(static_cast<double>(H) * cut);
  const auto cut_w = static_cast<int64_t>(static_cast<double>(W) * cut);
  const auto cy = static_cast<int64_t>(rng.below(static_cast<uint64_t>(H)));
  const auto cx = static_cast<int64_t>(rng.below(static_cast<uint64_t>(W)));
  const int64_t y0 = std::clamp<int64_t>(cy - cut_h / 2, 0, H),
                y1 = std::clamp<int64_t>(cy + cut_h / 2, 0, H);
  const int64_t x0 = std::clamp<int64_t>(cx - cut_w / 2, 0, W),
                x1 = std::clamp<int64_t>(cx + cut_w / 2, 0, W);
  const Box box{y0, x0, y1 - y0, x1 - x0};
  if (box_out) *box_out = box;
  mixed.lambda = 1.0 - static_cast<double>(box.area()) / static_cast<double>(H * W);
  if (box.area() == 0 || N == 0) return mixed;
  const Tensor original = images.clone();
  float* dst = images.data<float>();
  const float* src = original.data<float>();
  for (int64_t i = 0; i < N; ++i)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = y0; y < y1; ++y)
        for (int64_t x = x0; x < x1; ++x)
          dst[i * images.stride(0) + c * images.stride(1) + y * images.stride(2) + x * images.stride(3)] =
              src[mixed.other[i] * original.stride(0) + c * original.stride(1) + y * original.stride(2) +
                  x * original.stride(3)];
  return mixed;
}

}  // namespace resnet::data
