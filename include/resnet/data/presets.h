// Default transform pipelines by data set kind, as transform spec strings (data/transforms.h syntax), the
// recipes torchvision's references use. "normalize" is left bare: the caller binds it to its mean/std.
//   image folders, size > 64   train: random_resized_crop(size), hflip, normalize
//                              eval:  resize(size·8/7), center_crop(size), normalize
//   data sets of small images  train: random_crop(size, padding = size/8, or 2 below 32), hflip (not for
//                                     IDX digits, which must not be mirrored), normalize
//                              eval:  normalize
//   image folders, size ≤ 64   the small-image recipe after resize(size), center_crop(size)
#pragma once

#include <string>
#include <vector>

#include "resnet/data/sources.h"

namespace resnet::data {

// Up to this side an image is "small": pad-and-crop augmentation, as for CIFAR, not ImageNet's crops.
inline constexpr int64_t kLargestSmallImage = 64;

std::vector<std::string> default_transform_specs(SourceKind kind, bool train, int64_t size);

}  // namespace resnet::data
