// Named transform pipelines: the defaults by data set kind and torchvision's ImageNet evaluation transform.
#include "resnet/data/presets.h"

#include <algorithm>

#include "resnet/data/transforms.h"

namespace resnet::data {

std::vector<std::string> default_transform_specs(SourceKind kind, bool train, int64_t size) {
  const std::string s = std::to_string(size);
  std::vector<std::string> specs;
  if (kind == SourceKind::folder) {
    if (size > kLargestSmallImage) {
      if (train) return {"random_resized_crop(" + s + ")", "hflip", "normalize"};
      return {"resize(" + std::to_string(size * 8 / 7) + ")", "center_crop(" + s + ")", "normalize"};
    }
    // Small images in files (icons, 40×40 crops): brought to one size first, then as a CIFAR set.
    specs = {"resize(" + s + ")", "center_crop(" + s + ")"};
  }
  if (!train) {
    specs.push_back("normalize");
    return specs;
  }
  const int64_t padding = size >= 32 ? size / 8 : 2;
  specs.push_back("random_crop(" + s + ", padding=" + std::to_string(padding) + ")");
  if (kind != SourceKind::idx) specs.push_back("hflip");  // digits must not be mirrored
  specs.push_back("normalize");
  return specs;
}

std::vector<std::string> imagenet_eval_transform_specs(int64_t crop) {
  if (crop <= 0)
    throw UserError("the ImageNet evaluation crop must be positive, got " + std::to_string(crop));
  const int64_t resize = crop * 256 / 224;
  return {"resize(" + std::to_string(resize) + ")", "center_crop(" + std::to_string(crop) + ")",
          "normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])"};
}

Tensor imagenet_eval_preprocess(const Image& image, int64_t crop) {
  if (image.channels != 1 && image.channels != 3)
    throw UserError("ImageNet preprocessing takes grey or RGB images, got " + std::to_string(image.channels) +
                    " channels");
  const auto pipeline = parse_pipeline(imagenet_eval_transform_specs(crop));
  FloatImage f;
  to_float(image, f);
  if (f.channels == 1) {  // PIL convert('RGB'): R = G = B = L
    f.values.resize(static_cast<size_t>(3 * f.height * f.width));
    const auto plane = f.values.begin() + f.height * f.width;
    std::copy(f.values.begin(), plane, plane);
    std::copy(f.values.begin(), plane, plane + f.height * f.width);
    f.channels = 3;
  }
  Rng unused(0);  // every step is deterministic
  pipeline->apply(f, unused);
  Tensor out = Tensor::empty({1, 3, crop, crop});
  std::copy(f.values.begin(), f.values.end(), out.data<float>());
  return out;
}

}  // namespace resnet::data
