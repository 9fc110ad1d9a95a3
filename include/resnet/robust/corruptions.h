// Common corruptions of [0, 1] images, five severities each: a procedural Fashion-MNIST-C after Hendrycks
// & Dietterich (2019, "Benchmarking neural network robustness to common corruptions and perturbations").
// Their CIFAR-10-C parameters are for 32×32 images; 28×28 is close enough that they carry over as they
// are, except where a parameter is an image operation their code does with ImageMagick (motion blur) or
// with a field scaled to 32 px (elastic), which are re-derived here in pixels:
//
//   gaussian-noise   x + N(0, σ²), σ = .04 .06 .08 .09 .10
//   shot-noise       Poisson(λx)/λ, λ = 500 250 100 75 50
//   impulse-noise    salt and pepper on a fraction .01 .02 .03 .05 .07 of the pixels
//   defocus-blur     a disk of radius .3 .4 .5 1 1.5 px smoothed by a 3×3 Gaussian of σ .4 .5 .6 .2 .1
//   motion-blur      a line of length 3 4 5 6 7 px at a random angle, Gaussian weights σ = 1 1.5 2 2.5 3
//   zoom-blur        the mean of the image and its centre zooms 1.01 … 1.06 1.11 1.16 1.21 1.26
//   brightness       x + .05 .1 .15 .2 .3 (on every channel: the V of HSV for grey images)
//   contrast         (x − mean)·c + mean, c = .75 .5 .4 .3 .15
//   elastic          bilinear resampling along a smooth random field (noise blurred with σ = 3 px),
//                    scaled to a largest displacement of .5 .75 1 1.5 2 px
//   pixelate         box-downsampled by .95 .9 .85 .75 .65, then back up (nearest)
//   jpeg             libjpeg-turbo round trip at quality 80 65 58 50 40
//
// Results are clipped to [0, 1]. Random corruptions draw from Rng(seed, corruption, severity, index): the
// same image index gives the same corruption however the images are batched.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "resnet/core/tensor.h"

namespace resnet::robust {

enum class Corruption {
  gaussian_noise,
  shot_noise,
  impulse_noise,
  defocus_blur,
  motion_blur,
  zoom_blur,
  brightness,
  contrast,
  elastic,
  pixelate,
  jpeg
};

const std::vector<Corruption>& all_corruptions();
std::string_view corruption_name(Corruption c);
// UserError listing the names for an unknown one.
Corruption parse_corruption(std::string_view name);

inline constexpr int kSeverities = 5;

// x01 [N, C, H, W] f32 in [0, 1] → the corrupted copy; severity in 1..5 (CheckError otherwise);
// first_index: the data-set index of row 0.
Tensor corrupt(const Tensor& x01, Corruption c, int severity, uint64_t seed = 0, int64_t first_index = 0);

}  // namespace resnet::robust
