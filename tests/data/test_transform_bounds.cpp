// Bounded allocation (issue 29): a transform cannot produce an image beyond data::kMaxImageSide; sizes
// given in a spec are refused when parsed, sizes computed from the image when applied.
#include <gtest/gtest.h>

#include <string>

#include "resnet/core/check.h"
#include "resnet/data/transforms.h"

namespace resnet::data {
namespace {

std::string parse_error(const std::string& spec) {
  try {
    parse_transform(spec);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(TransformBounds, SizesBeyondTheLargestSideAreRefusedWhenParsed) {
  const std::string what = parse_error("resize(100000)");
  EXPECT_NE(what.find("transform \"resize(100000)\": resize: size 100000 exceeds the largest side 16384"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("needs 120 GB"), std::string::npos) << what;
  for (const char* spec : {"resize(16385, 10)", "center_crop(20000)", "random_crop(99999)",
                           "random_resized_crop(1e9)", "cutout(100000)", "random_crop(32, padding=1000000)"})
    EXPECT_NE(parse_error(spec), "") << spec;
  for (const char* spec : {"resize(16384)", "center_crop(224)", "random_crop(32, padding=4)"})
    EXPECT_EQ(parse_error(spec), "") << spec;
}

TEST(TransformBounds, AComputedSizeBeyondTheLargestSideIsRefusedWhenApplied) {
  // resize(S) keeps the aspect ratio: a 2×100 image at resize(1000) would become 1000×50000.
  const auto resize = parse_transform("resize(1000)");
  FloatImage image;
  image.channels = 1, image.height = 2, image.width = 100;
  image.values.assign(200, 0.5f);
  Rng rng(0);
  try {
    resize->apply(image, rng);
    FAIL() << "a 1000×50000 image was made";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("the result would be 1000×50000"), std::string::npos) << e.what();
  }
  image.height = 100, image.width = 2;
  image.values.assign(200, 0.5f);
  EXPECT_THROW(resize->apply(image, rng), UserError);
  image.height = 10, image.width = 20;
  image.values.assign(200, 0.5f);
  resize->apply(image, rng);
  EXPECT_EQ(image.height, 1000);
  EXPECT_EQ(image.width, 2000);
}

}  // namespace
}  // namespace resnet::data
