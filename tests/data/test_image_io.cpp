// PNG/JPEG decoding and writing (resnet/data/image.h). Every file is written by the test into a fresh
// temporary directory: round trips go through write_png/write_jpeg, and PNG kinds our writer does not
// produce (1/16-bit, grey+alpha, RGBA, palette) are assembled by hand below with zlib, independently of
// libspng, so the decoder is checked against an encoder it does not share code with.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "resnet/data/image.h"
#include "temp_dir.h"

namespace resnet::data {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Image make_image(int64_t c, int64_t h, int64_t w, const std::vector<uint8_t>& pixels) {
  Image image;
  image.resize(c, h, w);
  EXPECT_EQ(pixels.size(), image.pixels.size());
  image.pixels = pixels;
  return image;
}

Image random_image(int64_t c, int64_t h, int64_t w, uint32_t seed) {
  std::mt19937 gen(seed);
  Image image;
  image.resize(c, h, w);
  for (uint8_t& p : image.pixels) p = static_cast<uint8_t>(gen() & 0xFF);
  return image;
}

// A smooth RGB image (gradients, no edges): what JPEG compresses with little loss.
Image smooth_rgb(int64_t h, int64_t w) {
  Image image;
  image.resize(3, h, w);
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      image.plane(0)[y * w + x] = static_cast<uint8_t>(40 + 3 * x);
      image.plane(1)[y * w + x] = static_cast<uint8_t>(30 + 2 * y + x);
      image.plane(2)[y * w + x] = static_cast<uint8_t>(200 - 2 * y);
    }
  return image;
}

int max_abs_diff(const Image& a, const Image& b) {
  EXPECT_EQ(a.pixels.size(), b.pixels.size());
  int m = 0;
  for (size_t i = 0; i < std::min(a.pixels.size(), b.pixels.size()); ++i)
    m = std::max(m, std::abs(int{a.pixels[i]} - int{b.pixels[i]}));
  return m;
}

// --- a minimal PNG writer: one IDAT, filter type 0 on every row

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_chunk(std::vector<uint8_t>& out, const char* type, const std::vector<uint8_t>& data) {
  put_be32(out, static_cast<uint32_t>(data.size()));
  std::vector<uint8_t> body(type, type + 4);
  body.insert(body.end(), data.begin(), data.end());
  out.insert(out.end(), body.begin(), body.end());
  put_be32(out, static_cast<uint32_t>(crc32(0, body.data(), static_cast<uInt>(body.size()))));
}

// `rows`: the packed rows back to back, (width * bits per pixel + 7) / 8 bytes each, big-endian samples.
std::vector<uint8_t> make_png(uint32_t width, uint32_t height, uint8_t depth, uint8_t color_type,
                              const std::vector<uint8_t>& rows, const std::vector<uint8_t>& palette = {}) {
  const int samples = color_type == 0 || color_type == 3 ? 1 : color_type == 4 ? 2 : color_type == 2 ? 3 : 4;
  const size_t row_bytes = (width * samples * depth + 7) / 8;
  EXPECT_EQ(rows.size(), row_bytes * height);
  std::vector<uint8_t> raw;
  for (uint32_t y = 0; y < height; ++y) {
    raw.push_back(0);  // filter: none
    raw.insert(raw.end(), rows.begin() + y * row_bytes, rows.begin() + (y + 1) * row_bytes);
  }
  std::vector<uint8_t> z(compressBound(static_cast<uLong>(raw.size())));
  uLongf z_size = z.size();
  EXPECT_EQ(compress2(z.data(), &z_size, raw.data(), static_cast<uLong>(raw.size()), 9), Z_OK);
  z.resize(z_size);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  std::vector<uint8_t> ihdr;
  put_be32(ihdr, width);
  put_be32(ihdr, height);
  ihdr.insert(ihdr.end(), {depth, color_type, 0, 0, 0});
  put_chunk(png, "IHDR", ihdr);
  if (!palette.empty()) put_chunk(png, "PLTE", palette);
  put_chunk(png, "IDAT", z);
  put_chunk(png, "IEND", {});
  return png;
}

void expect_sample_error(const std::string& path, const std::string& fault) {
  try {
    decode_image(path);
    FAIL() << "decoding " << path << " should have thrown SampleError";
  } catch (const SampleError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find(fault), std::string::npos) << "expected '" << fault << "' in: " << what;
  }
}

// --- round trips

TEST(ImagePng, RoundTripGreyExact) {
  TempDir dir;
  const Image image = random_image(1, 17, 23, 1);
  write_png(dir / "grey.png", image);
  const Image back = decode_image(dir / "grey.png");
  EXPECT_EQ(back.channels, 1);
  EXPECT_EQ(back.height, 17);
  EXPECT_EQ(back.width, 23);
  EXPECT_EQ(back.pixels, image.pixels);
}

TEST(ImagePng, RoundTripRgbExact) {
  TempDir dir;
  const Image image = random_image(3, 9, 31, 2);
  write_png(dir / "rgb.png", image);
  const Image back = decode_image(dir / "rgb.png");
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.height, 9);
  EXPECT_EQ(back.width, 31);
  EXPECT_EQ(back.pixels, image.pixels);  // planes stay planes: R plane first, row-major
}

TEST(ImagePng, PlanarLayoutMatchesKnownPixels) {
  // Hand-made 2x2 RGB PNG (interleaved in the file) → planar R, G, B planes.
  TempDir dir;
  write_file(dir / "a.png", make_png(2, 2, 8, 2, {1, 2, 3, 4, 5, 6, /*row 1*/ 7, 8, 9, 10, 11, 12}));
  const Image image = decode_image(dir / "a.png");
  EXPECT_EQ(image.pixels, (std::vector<uint8_t>{1, 4, 7, 10, 2, 5, 8, 11, 3, 6, 9, 12}));
}

TEST(ImageJpeg, RoundTripWithinTolerance) {
  // Quality 100, 4:4:4, accurate DCT, smooth 40x48 image: what remains is quantisation rounding (all table
  // entries 1) plus the 8-bit RGB → YCbCr → RGB round trip. Measured with libjpeg-turbo 2.1.5: RGB max |diff|
  // 3, mean 0.36; grey (no colour conversion) max 1. The bounds are those measured values: the accurate
  // integer DCT is bit-exact across libjpeg-turbo builds. Noise images would need far looser bounds.
  TempDir dir;
  const Image rgb = smooth_rgb(40, 48);
  write_jpeg(dir / "rgb.jpg", rgb, 100);
  const Image rgb_back = decode_image(dir / "rgb.jpg");
  ASSERT_EQ(rgb_back.channels, 3);
  ASSERT_EQ(rgb_back.height, 40);
  ASSERT_EQ(rgb_back.width, 48);
  EXPECT_LE(max_abs_diff(rgb_back, rgb), 3);
  double sum = 0;
  for (size_t i = 0; i < rgb.pixels.size(); ++i)
    sum += std::abs(int{rgb_back.pixels[i]} - int{rgb.pixels[i]});
  EXPECT_LT(sum / static_cast<double>(rgb.pixels.size()), 0.5);

  Image grey;
  grey.resize(1, 40, 48);
  for (int64_t i = 0; i < 40 * 48; ++i) grey.pixels[i] = static_cast<uint8_t>(20 + (i % 48) * 4 + (i / 48));
  write_jpeg(dir / "grey.jpg", grey, 100);
  const Image grey_back = decode_image(dir / "grey.jpg");
  ASSERT_EQ(grey_back.channels, 1);
  EXPECT_LE(max_abs_diff(grey_back, grey), 1);
}

TEST(ImageJpeg, LowQualityStillCloseOnAverage) {
  // Quality 50 must still look like the image: mean |diff| well under 4 levels on the smooth image
  // (measured 1.6, max 7), while being lossy (some pixel differs), so the quality argument is honoured.
  TempDir dir;
  const Image rgb = smooth_rgb(32, 32);
  write_jpeg(dir / "q50.jpg", rgb, 50);
  const Image back = decode_image(dir / "q50.jpg");
  double sum = 0;
  for (size_t i = 0; i < rgb.pixels.size(); ++i) sum += std::abs(int{back.pixels[i]} - int{rgb.pixels[i]});
  EXPECT_LT(sum / static_cast<double>(rgb.pixels.size()), 4.0);
  EXPECT_GT(max_abs_diff(back, rgb), 0);
  write_jpeg(dir / "q100.jpg", rgb, 100);
  EXPECT_LT(fs::file_size(dir / "q50.jpg"), fs::file_size(dir / "q100.jpg"));
}

// --- channel conversion

TEST(ImageConvert, RgbToGreyUsesPilLuma) {
  // L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, by hand:
  //   (255,0,0) → 5029493 >> 16 = 76      (0,255,0) → 9842618 >> 16 = 150    (0,0,255) → 1937873 >> 16 = 29
  //   (100,150,200) → 9256968 >> 16 = 141 (255,255,255) → 255                 (1,2,3) → 151716 >> 16 = 2
  TempDir dir;
  const Image rgb = make_image(
      3, 1, 6, {255, 0, 0, 100, 255, 1, /*G*/ 0, 255, 0, 150, 255, 2, /*B*/ 0, 0, 255, 200, 255, 3});
  write_png(dir / "rgb.png", rgb);
  const Image grey = decode_image(dir / "rgb.png", 1);
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.pixels, (std::vector<uint8_t>{76, 150, 29, 141, 255, 2}));

  // The same conversion applies to JPEG: grey decode == luma of the RGB decode, exactly.
  write_jpeg(dir / "rgb.jpg", smooth_rgb(16, 16), 90);
  const Image jpeg_rgb = decode_image(dir / "rgb.jpg", 3);
  const Image jpeg_grey = decode_image(dir / "rgb.jpg", 1);
  ASSERT_EQ(jpeg_grey.pixels.size(), 256u);
  for (int64_t i = 0; i < 256; ++i) {
    const uint32_t r = jpeg_rgb.plane(0)[i], g = jpeg_rgb.plane(1)[i], b = jpeg_rgb.plane(2)[i];
    ASSERT_EQ(jpeg_grey.pixels[i], (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) << "pixel " << i;
  }
}

TEST(ImageConvert, GreyToRgbReplicates) {
  TempDir dir;
  write_png(dir / "g.png", make_image(1, 2, 2, {0, 17, 128, 255}));
  const Image rgb = decode_image(dir / "g.png", 3);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{0, 17, 128, 255, 0, 17, 128, 255, 0, 17, 128, 255}));

  write_jpeg(dir / "g.jpg", make_image(1, 8, 8, std::vector<uint8_t>(64, 90)), 95);
  const Image jpeg = decode_image(dir / "g.jpg", 3);
  EXPECT_EQ(jpeg.channels, 3);
  EXPECT_EQ(jpeg.pixels, std::vector<uint8_t>(3 * 64, 90));  // a flat block is exact in JPEG
  EXPECT_EQ(decode_image(dir / "g.jpg").channels, 1);        // a grey JPEG stays grey by default
}

// --- PNG colour types and bit depths

TEST(ImagePng, LowBitDepthGreyIsScaled) {
  TempDir dir;
  // 1-bit: 1 → 255. Row 10110000 with width 5 → 255 0 255 255 0.
  write_file(dir / "g1.png", make_png(5, 1, 1, 0, {0b10110000}));
  EXPECT_EQ(decode_image(dir / "g1.png").pixels, (std::vector<uint8_t>{255, 0, 255, 255, 0}));
  // 2-bit: v * 85. Row 00 01 10 11 → 0 85 170 255.
  write_file(dir / "g2.png", make_png(4, 1, 2, 0, {0b00011011}));
  EXPECT_EQ(decode_image(dir / "g2.png").pixels, (std::vector<uint8_t>{0, 85, 170, 255}));
  // 4-bit: v * 17.
  write_file(dir / "g4.png", make_png(2, 1, 4, 0, {0x3F}));
  EXPECT_EQ(decode_image(dir / "g4.png").pixels, (std::vector<uint8_t>{51, 255}));
}

TEST(ImagePng, SixteenBitKeepsTheHighByte) {
  TempDir dir;
  // Grey 16-bit samples 0x1234 0xFFFF 0x00FF 0x8000 → libspng reduces to the high byte: 0x12 0xFF 0x00 0x80.
  write_file(dir / "g16.png", make_png(4, 1, 16, 0, {0x12, 0x34, 0xFF, 0xFF, 0x00, 0xFF, 0x80, 0x00}));
  const Image grey = decode_image(dir / "g16.png");
  EXPECT_EQ(grey.channels, 1);
  EXPECT_EQ(grey.pixels, (std::vector<uint8_t>{0x12, 0xFF, 0x00, 0x80}));
  // RGB 16-bit, one pixel (0xA0B0, 0x0102, 0xFE00) → (0xA0, 0x01, 0xFE).
  write_file(dir / "c16.png", make_png(1, 1, 16, 2, {0xA0, 0xB0, 0x01, 0x02, 0xFE, 0x00}));
  const Image rgb = decode_image(dir / "c16.png");
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.pixels, (std::vector<uint8_t>{0xA0, 0x01, 0xFE}));
}

TEST(ImagePng, AlphaIsDropped) {
  TempDir dir;
  // Grey+alpha (g, a) pairs: (10, 0) (200, 255) → grey 10 200; alpha does not darken.
  write_file(dir / "ga.png", make_png(2, 1, 8, 4, {10, 0, 200, 255}));
  const Image ga = decode_image(dir / "ga.png");
  EXPECT_EQ(ga.channels, 1);
  EXPECT_EQ(ga.pixels, (std::vector<uint8_t>{10, 200}));
  // RGBA → RGB planes.
  write_file(dir / "rgba.png", make_png(2, 1, 8, 6, {1, 2, 3, 0, 4, 5, 6, 128}));
  const Image rgba = decode_image(dir / "rgba.png");
  EXPECT_EQ(rgba.channels, 3);
  EXPECT_EQ(rgba.pixels, (std::vector<uint8_t>{1, 4, 2, 5, 3, 6}));
  // Grey+alpha 16-bit, forced to RGB.
  write_file(dir / "ga16.png", make_png(1, 1, 16, 4, {0x7F, 0x01, 0x00, 0x00}));
  EXPECT_EQ(decode_image(dir / "ga16.png", 3).pixels, (std::vector<uint8_t>{0x7F, 0x7F, 0x7F}));
}

TEST(ImagePng, PaletteExpandsToRgb) {
  TempDir dir;
  // 2-bit indices 2 0 1 3 into a 4-colour palette.
  const std::vector<uint8_t> palette = {10, 20, 30, 40, 50, 60, 70, 80, 90, 255, 0, 128};
  write_file(dir / "p.png", make_png(4, 1, 2, 3, {0b10000111}, palette));
  const Image image = decode_image(dir / "p.png");
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.pixels,
            (std::vector<uint8_t>{70, 10, 40, 255, /*G*/ 80, 20, 50, 0, /*B*/ 90, 30, 60, 128}));
  // Forced grey: PIL luma of each palette colour, (R*19595 + G*38470 + B*7471 + 0x8000) >> 16:
  // (70,80,90) → 5154408 → 78; (10,20,30) → 1222248 → 18; (40,50,60) → 3188328 → 48; (255,0,128) → 5985781
  // → 91.
  EXPECT_EQ(decode_image(dir / "p.png", 1).pixels, (std::vector<uint8_t>{78, 18, 48, 91}));
}

// --- format detection, buffer reuse
// -------------------------------------------------------------------------

TEST(ImageDecode, FormatComesFromMagicBytesNotExtension) {
  TempDir dir;
  const Image image = random_image(3, 5, 7, 3);
  write_png(dir / "png_named.jpg", image);
  EXPECT_EQ(decode_image(dir / "png_named.jpg").pixels, image.pixels);  // exact: decoded as PNG
  write_jpeg(dir / "jpeg_named.png", smooth_rgb(8, 8), 100);
  const Image jpeg = decode_image(dir / "jpeg_named.png");
  EXPECT_EQ(jpeg.channels, 3);
  EXPECT_LE(max_abs_diff(jpeg, smooth_rgb(8, 8)), 3);
  write_png(dir / "no_extension", image);
  EXPECT_EQ(decode_image(dir / "no_extension").pixels, image.pixels);
}

TEST(ImageDecode, ReusesTheOutputBuffer) {
  TempDir dir;
  write_png(dir / "big.png", random_image(3, 20, 20, 4));
  write_png(dir / "small.png", random_image(1, 4, 6, 5));
  Image out;
  decode_image(dir / "big.png", out);
  const uint8_t* buffer = out.pixels.data();
  decode_image(dir / "small.png", out);
  EXPECT_EQ(out.pixels.data(), buffer);  // smaller image: no reallocation
  EXPECT_EQ(out.channels, 1);
  EXPECT_EQ(out.height, 4);
  EXPECT_EQ(out.width, 6);
  EXPECT_EQ(out.pixels, random_image(1, 4, 6, 5).pixels);
}

// --- errors
// -------------------------------------------------------------------------------------------------

TEST(ImageDecodeErrors, MissingFile) {
  TempDir dir;
  expect_sample_error(dir / "nope.png", "does not exist");
}

TEST(ImageDecodeErrors, EmptyFile) {
  TempDir dir;
  write_file(dir / "empty.png", {});
  expect_sample_error(dir / "empty.png", "is empty");
}

TEST(ImageDecodeErrors, Directory) {
  TempDir dir;
  fs::create_directory(dir / "folder.png");
  expect_sample_error(dir / "folder.png", "is a directory");
}

TEST(ImageDecodeErrors, RandomBytes) {
  TempDir dir;
  std::vector<uint8_t> bytes = {0x00, 0x9C, 0x31, 0xFE, 0x10, 0x02, 0x7F, 0x80, 0x44};
  write_file(dir / "random.jpg", bytes);
  expect_sample_error(dir / "random.jpg", "not a PNG or JPEG image: it starts with 00 9c 31 fe 10 02 7f 80");
}

TEST(ImageDecodeErrors, TextFileNamedPng) {
  TempDir dir;
  const std::string text = "this is not an image\n";
  write_file(dir / "notes.png", std::vector<uint8_t>(text.begin(), text.end()));
  expect_sample_error(dir / "notes.png", "(\"this is \") — looks like text");
  const std::string html = "  <html><body>404</body></html>";
  write_file(dir / "page.jpg", std::vector<uint8_t>(html.begin(), html.end()));
  expect_sample_error(dir / "page.jpg", "HTML");
  const std::string gif = "GIF89a\x01\x00\x01\x00";
  write_file(dir / "anim.png", std::vector<uint8_t>(gif.begin(), gif.end()));
  expect_sample_error(dir / "anim.png", "looks like a GIF image");
}

TEST(ImageDecodeErrors, TruncatedPng) {
  TempDir dir;
  write_png(dir / "full.png", random_image(3, 16, 16, 6));
  const std::vector<uint8_t> full = read_file(dir / "full.png");
  ASSERT_GT(full.size(), 100u);
  // Cut after the signature, inside IHDR, halfway and 4 bytes before the end of the image data: always an
  // error, never a crash. (A PNG cut after its complete, Adler-32-checked image data — missing only the last
  // CRC and IEND — decodes, as PIL reads it too.)
  for (size_t keep : {size_t{8}, size_t{20}, full.size() / 2, full.size() - 20}) {
    write_file(dir / "cut.png", std::vector<uint8_t>(full.begin(), full.begin() + keep));
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(full.size()) + " bytes");
    expect_sample_error(dir / "cut.png", "truncated PNG");
  }
}

TEST(ImageDecodeErrors, TruncatedJpeg) {
  TempDir dir;
  write_jpeg(dir / "full.jpg", random_image(3, 24, 24, 7), 90);
  const std::vector<uint8_t> full = read_file(dir / "full.jpg");
  ASSERT_GT(full.size(), 400u);
  // Inside the headers, inside the entropy-coded data, and without only the final EOI marker.
  for (size_t keep : {size_t{40}, full.size() / 2, full.size() - 2}) {
    write_file(dir / "cut.jpg", std::vector<uint8_t>(full.begin(), full.begin() + keep));
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(full.size()) + " bytes");
    try {
      decode_image(dir / "cut.jpg");
      ADD_FAILURE() << "no error";
    } catch (const SampleError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir / "cut.jpg"), std::string::npos) << what;
      EXPECT_TRUE(what.find("truncated JPEG") != std::string::npos ||
                  what.find("corrupt JPEG") != std::string::npos)
          << what;
    }
  }
  write_file(dir / "cut.jpg", std::vector<uint8_t>(full.begin(), full.begin() + full.size() / 2));
  expect_sample_error(dir / "cut.jpg", "truncated JPEG");
}

TEST(ImageDecodeErrors, CorruptPngChecksum) {
  TempDir dir;
  write_png(dir / "ok.png", random_image(1, 8, 8, 8));
  std::vector<uint8_t> bytes = read_file(dir / "ok.png");
  bytes[bytes.size() - 12 - 6] ^= 0xFF;  // a byte inside IDAT's data: its CRC no longer matches
  write_file(dir / "bad.png", bytes);
  expect_sample_error(dir / "bad.png", "corrupt PNG (libspng:");
}

TEST(ImageDecodeErrors, CorruptionNeverCrashes) {
  // Flipped bytes anywhere in a PNG or JPEG: decode either succeeds or throws SampleError, nothing else.
  TempDir dir;
  write_png(dir / "ok.png", random_image(3, 12, 12, 9));
  write_jpeg(dir / "ok.jpg", random_image(3, 16, 16, 10), 80);
  std::mt19937 gen(11);
  int errors = 0;
  for (const char* name : {"ok.png", "ok.jpg"}) {
    const std::vector<uint8_t> good = read_file(dir / name);
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<uint8_t> bytes = good;
      for (int k = 0; k < 3; ++k) bytes[3 + gen() % (bytes.size() - 3)] = static_cast<uint8_t>(gen());
      const std::string path = dir / (std::string("fuzz_") + name);
      write_file(path, bytes);
      try {
        const Image image = decode_image(path);
        EXPECT_EQ(image.pixels.size(), static_cast<size_t>(image.channels * image.height * image.width));
      } catch (const SampleError& e) {
        ++errors;
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
      }
    }
  }
  EXPECT_GT(errors, 100);  // most corruptions are detected (PNG CRCs catch all of its own)
}

TEST(ImageDecodeErrors, AbsurdSizesRefusedBeforeAllocating) {
  TempDir dir;
  // A PNG header claiming 100000 x 100000 pixels (10^10 > 2^28) with a tiny IDAT.
  std::vector<uint8_t> png = make_png(1, 1, 8, 0, {0});
  png[16] = 0x00, png[17] = 0x01, png[18] = 0x86, png[19] = 0xA0;  // width 100000
  png[20] = 0x00, png[21] = 0x01, png[22] = 0x86, png[23] = 0xA0;  // height 100000
  const uint32_t crc = static_cast<uint32_t>(crc32(0, png.data() + 12, 17));
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  write_file(dir / "huge.png", png);
  expect_sample_error(dir / "huge.png", "100000 x 100000 pixels");

  // A JPEG whose SOF0 claims 60000 x 60000 (libjpeg itself refuses sides over 65500).
  write_jpeg(dir / "small.jpg", smooth_rgb(8, 8), 90);
  std::vector<uint8_t> jpeg = read_file(dir / "small.jpg");
  size_t sof = 0;
  for (size_t i = 2; i + 8 < jpeg.size() && !sof; ++i)
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) sof = i;
  ASSERT_NE(sof, 0u);
  for (size_t i : {sof + 5, sof + 7}) jpeg[i] = 0xEA, jpeg[i + 1] = 0x60;  // height, width = 0xEA60 = 60000
  write_file(dir / "huge.jpg", jpeg);
  expect_sample_error(dir / "huge.jpg", "60000 x 60000 pixels");
}

TEST(ImageWrite, UnwritablePathThrowsUserError) {
  TempDir dir;
  const Image image = random_image(3, 4, 4, 12);
  EXPECT_THROW(write_png(dir / "missing_dir/x.png", image), UserError);
  EXPECT_THROW(write_jpeg(dir / "missing_dir/x.jpg", image), UserError);
  try {
    write_png(dir / "missing_dir/x.png", image);
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("missing_dir/x.png"), std::string::npos) << e.what();
  }
}

TEST(ImageWrite, RejectsMalformedImages) {
  TempDir dir;
  Image two_channels;
  two_channels.resize(2, 4, 4);
  EXPECT_THROW(write_png(dir / "x.png", two_channels), CheckError);
  Image short_buffer = random_image(3, 4, 4, 13);
  short_buffer.pixels.pop_back();
  EXPECT_THROW(write_jpeg(dir / "x.jpg", short_buffer), CheckError);
  EXPECT_THROW(decode_image(dir / "x.png", 2), CheckError);  // channels must be 0, 1 or 3
}

}  // namespace
}  // namespace resnet::data
