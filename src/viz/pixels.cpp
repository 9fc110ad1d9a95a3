#include "viz/pixels.h"

#include <algorithm>

#include "resnet/core/check.h"
#include "resnet/data/image.h"
#include "viz/text.h"

namespace resnet::viz::detail {

void check_image(const data::Image& image, std::string_view what) {
  RESNET_CHECK(image.channels == 1 || image.channels == 3)
      << what << " has " << image.channels << " channels (1 or 3 expected)";
  RESNET_CHECK(image.height >= 1 && image.width >= 1 && image.height <= data::kMaxImagePixels / image.width)
      << what << " of " << image.height << "x" << image.width << " pixels";
  RESNET_CHECK_EQ(image.pixels.size(), static_cast<size_t>(image.channels * image.height * image.width))
      << "(" << what << " pixels for its shape " << image.channels << "x" << image.height << "x"
      << image.width << ")";
}

data::Image to_rgb(const data::Image& image) {
  if (image.channels == 3) return image;
  data::Image out;
  out.resize(3, image.height, image.width);
  for (int64_t c = 0; c < 3; ++c) std::copy(image.pixels.begin(), image.pixels.end(), out.plane(c));
  return out;
}

int text_height(double px) {
  return render_text("", px).height;
}

void draw_text(data::Image& image, int64_t x, int64_t y, std::string_view text, double px, Rgb c,
               int64_t clip_x0, int64_t clip_x1, bool bold) {
  if (text.empty()) return;
  const TextMask mask = render_text(text, px, bold);
  const int64_t x0 = std::max<int64_t>({x, clip_x0, 0}),
                x1 = std::min<int64_t>({x + mask.width, clip_x1, image.width});
  const int64_t y0 = std::max<int64_t>(y, 0), y1 = std::min<int64_t>(y + mask.height, image.height);
  const uint8_t ink[3] = {c.r, c.g, c.b};
  for (int64_t ch = 0; ch < 3; ++ch) {
    uint8_t* plane = image.plane(ch);
    for (int64_t yy = y0; yy < y1; ++yy)
      for (int64_t xx = x0; xx < x1; ++xx) {
        const uint8_t a = mask.alpha[static_cast<size_t>((yy - y) * mask.width + (xx - x))];
        if (a == 0) continue;
        uint8_t& p = plane[yy * image.width + xx];
        p = blend(p, ink[ch], a / 255.0);
      }
  }
}

Rgb ink_for(Rgb background) {
  // Relative luminance of the sRGB colour; above ~0.4 black text has the better contrast.
  const auto linear = [](uint8_t v) {
    const double u = v / 255.0;
    return u <= 0.04045 ? u / 12.92 : std::pow((u + 0.055) / 1.055, 2.4);
  };
  const double l =
      0.2126 * linear(background.r) + 0.7152 * linear(background.g) + 0.0722 * linear(background.b);
  return l > 0.179 ? Rgb{0, 0, 0} : Rgb{255, 255, 255};
}

}  // namespace resnet::viz::detail
