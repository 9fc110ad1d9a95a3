// torchvision's ImageNet evaluation transform (Resize(256), CenterCrop(224), ToTensor, Normalize) on a
// non-square RGB photo, against torchvision 0.14 on the same PNG (tests/fixtures/generate_pth.py).
#include <gtest/gtest.h>

#include <cmath>

#include "resnet/data/image.h"
#include "resnet/data/transforms.h"
#include "resnet/io/safetensors.h"

using namespace resnet;

namespace {
const std::string kDir = std::string(RESNET_FIXTURES_DIR) + "/pth/";
}

TEST(ImageNetPreprocess, MatchesTorchvisionWithinOneLevel) {
  const data::Image photo = data::decode_image(kDir + "photo_300x200.png");
  ASSERT_EQ(photo.channels, 3);
  ASSERT_EQ(photo.width, 300);
  ASSERT_EQ(photo.height, 200);
  const Tensor x = data::imagenet_eval_preprocess(photo);
  ASSERT_EQ(x.shape(), Shape({1, 3, 224, 224}));
  // torchvision's tensor before normalisation, in u8 levels, every 4th row and column.
  const io::TensorFile expected = io::load_safetensors(kDir + "expected.safetensors");
  const Tensor& levels = expected.at("imagenet_eval.u8_sub4");
  ASSERT_EQ(levels.shape(), Shape({3, 56, 56}));
  double worst = 0, sum = 0;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 56; ++y)
      for (int64_t xx = 0; xx < 56; ++xx) {
        const double ours =
            x.at<float>({0, c, 4 * y, 4 * xx}) * data::kImageNetStd[c] + data::kImageNetMean[c];
        const double diff = std::abs(ours * 255.0 - levels.at<uint8_t>({c, y, xx}));
        worst = std::max(worst, diff);
        sum += diff;
      }
  // PIL rounds to u8 after each of its two resampling passes, we stay in float: at most one level apart
  // (the 1e-3 absorbs float rounding of the normalisation undone above).
  EXPECT_LE(worst, 1.0 + 1e-3) << "worst difference in u8 levels";
  EXPECT_LE(sum / (3 * 56 * 56), 0.5) << "mean difference in u8 levels";
  std::printf("ImageNet preprocessing vs torchvision: worst %.4f u8 levels, mean %.4f\n", worst,
              sum / (3 * 56 * 56));
}

TEST(ImageNetPreprocess, GreyIsReplicatedAndSpecsParse) {
  data::Image grey;
  grey.resize(1, 10, 20);
  for (size_t i = 0; i < grey.pixels.size(); ++i) grey.pixels[i] = static_cast<uint8_t>(i * 7);
  const Tensor x = data::imagenet_eval_preprocess(grey, 8);
  ASSERT_EQ(x.shape(), Shape({1, 3, 8, 8}));
  for (int64_t y = 0; y < 8; ++y) {
    const double r = x.at<float>({0, 0, y, 3}) * data::kImageNetStd[0] + data::kImageNetMean[0];
    const double b = x.at<float>({0, 2, y, 3}) * data::kImageNetStd[2] + data::kImageNetMean[2];
    EXPECT_NEAR(r, b, 1e-6);
  }
  const auto specs = data::imagenet_eval_transform_specs();
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0], "resize(256)");
  EXPECT_EQ(specs[1], "center_crop(224)");
  EXPECT_EQ(
      data::parse_pipeline(specs)->describe(),
      "resize(256), center_crop(224), normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])");
}
