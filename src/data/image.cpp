#include "resnet/data/image.h"

#include <spng.h>
#include <turbojpeg.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <new>
#include <vector>

namespace resnet::data {
namespace {

// A file larger than this cannot be a PNG/JPEG of at most kMaxImagePixels pixels worth decoding.
constexpr uint64_t kMaxFileBytes = uint64_t{1} << 31;
// Per-thread buffers above this size are released after use so that one huge image does not pin memory
// in every loader thread.
constexpr size_t kKeepScratchBytes = size_t{64} << 20;

[[noreturn]] void fail(const std::string& path, const std::string& fault, const std::string& fix) {
  throw SampleError("'" + path + "' " + fault + " (" + fix + ")");
}

const char* const kReplaceFix = "re-download or re-create the file, or delete it from the data set";

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

void read_file(const std::string& path, std::vector<uint8_t>& bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found)
    fail(path, "does not exist", "check the path, or remove the sample from the data set");
  if (ec) fail(path, "cannot be read: " + ec.message(), "check the permissions of the file and its folders");
  if (std::filesystem::is_directory(status))
    fail(path, "is a directory, not an image file", "point at a .png or .jpg file");
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) fail(path, std::string("cannot be opened: ") + std::strerror(errno), "check its permissions");
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot be read: " + ec.message(), "check its permissions");
  if (size > kMaxFileBytes)
    fail(path, "is " + std::to_string(size) + " bytes, too large to be an image this loader accepts",
         "resize or remove it");
  bytes.resize(size);
  const size_t got = size ? std::fread(bytes.data(), 1, size, f.get()) : 0;
  if (got != size || std::ferror(f.get()))
    fail(path, "cannot be read (" + std::to_string(got) + " of " + std::to_string(size) + " bytes read)",
         "check the disk and the file's permissions");
}

bool is_png(const std::vector<uint8_t>& b) {
  static constexpr uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  return b.size() >= 8 && std::memcmp(b.data(), kSig, 8) == 0;
}
bool is_jpeg(const std::vector<uint8_t>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

bool starts_with(const std::vector<uint8_t>& b, size_t at, const char* s) {
  const size_t n = std::strlen(s);
  return b.size() >= at + n && std::memcmp(b.data() + at, s, n) == 0;
}

// "47 49 46 38 39 61 ("GIF89a") — looks like a GIF image": what a file that is neither PNG nor JPEG holds.
std::string describe_start(const std::vector<uint8_t>& b) {
  const size_t n = std::min<size_t>(b.size(), 8);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex, text;
  for (size_t i = 0; i < n; ++i) {
    if (i) hex += ' ';
    hex += kHex[b[i] >> 4];
    hex += kHex[b[i] & 15];
    text += (b[i] >= 0x20 && b[i] < 0x7F) ? static_cast<char>(b[i]) : '.';
  }
  std::string kind;
  if (starts_with(b, 0, "GIF87a") || starts_with(b, 0, "GIF89a")) {
    kind = "a GIF image";
  } else if (starts_with(b, 0, "BM")) {
    kind = "a BMP image";
  } else if (starts_with(b, 0, "RIFF") && starts_with(b, 8, "WEBP")) {
    kind = "a WebP image";
  } else if (starts_with(b, 0, "II*") ||
             (starts_with(b, 0, "MM") && b.size() >= 4 && b[2] == 0 && b[3] == '*')) {
    kind = "a TIFF image";
  } else if (starts_with(b, 4, "ftyp")) {
    kind = "an HEIF/AVIF image or a video";
  } else {
    const size_t m = std::min<size_t>(b.size(), 256);
    const bool textual = std::all_of(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(m), [](uint8_t c) {
      return (c >= 0x20 && c < 0x7F) || c == '\n' || c == '\r' || c == '\t' || c >= 0x80;
    });
    const auto first = std::find_if(b.begin(), b.end(), [](uint8_t c) { return !std::isspace(c); });
    if (textual && first != b.end() && *first == '<')
      kind = "HTML/XML text (an error page saved in place of the image?)";
    else if (textual)
      kind = "text";
    else
      kind = "unrecognised binary data";
  }
  return "it starts with " + hex + " (\"" + text + "\") — looks like " + kind;
}

// Interleaved (HWC) 8-bit pixels with `src_channels` channels → planar `out` with out.channels channels.
// `grey_source`: the three source channels hold the same grey value (a grey PNG decoded as RGB).
void to_planar(const uint8_t* src, int64_t src_channels, bool grey_source, Image& out) {
  const int64_t n = out.height * out.width;
  if (src_channels == 1) {
    for (int64_t c = 0; c < out.channels; ++c) std::memcpy(out.plane(c), src, static_cast<size_t>(n));
  } else if (out.channels == 3) {
    uint8_t *r = out.plane(0), *g = out.plane(1), *b = out.plane(2);
    for (int64_t i = 0; i < n; ++i) r[i] = src[3 * i], g[i] = src[3 * i + 1], b[i] = src[3 * i + 2];
  } else if (grey_source) {
    uint8_t* l = out.plane(0);
    for (int64_t i = 0; i < n; ++i) l[i] = src[3 * i];
  } else {
    // PIL's convert('L'): ITU-R 601-2 luma in 16-bit fixed point, rounded.
    uint8_t* l = out.plane(0);
    for (int64_t i = 0; i < n; ++i)
      l[i] = static_cast<uint8_t>((uint32_t{src[3 * i]} * 19595 + uint32_t{src[3 * i + 1]} * 38470 +
                                   uint32_t{src[3 * i + 2]} * 7471 + 0x8000) >>
                                  16);
  }
}

void check_pixels(const std::string& path, const char* format, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0 || width * height > static_cast<uint64_t>(kMaxImagePixels))
    fail(path,
         std::string("is a ") + format + " of " + std::to_string(width) + " x " + std::to_string(height) +
             " pixels; this loader accepts 1 to " + std::to_string(kMaxImagePixels) + " pixels",
         "resize the image, or remove it if the size is a corruption");
}

struct SpngFree {
  void operator()(spng_ctx* ctx) const { spng_ctx_free(ctx); }
};
using SpngCtx = std::unique_ptr<spng_ctx, SpngFree>;

[[noreturn]] void png_fault(const std::string& path, int err, size_t file_bytes) {
  const std::string why = spng_strerror(err);
  if (err == SPNG_IO_EOF || err == SPNG_EOF || err == SPNG_IO_ERROR)
    fail(path, "is a truncated PNG (" + std::to_string(file_bytes) + " bytes; libspng: " + why + ")",
         kReplaceFix);
  fail(path, "is a corrupt PNG (libspng: " + why + ")", kReplaceFix);
}

void decode_png(const std::string& path, const std::vector<uint8_t>& bytes, std::vector<uint8_t>& scratch,
                Image& out, int64_t channels) {
  SpngCtx ctx(spng_ctx_new(0));
  if (!ctx) throw std::bad_alloc();
  // Bound memory before anything is read: dimensions, and chunks (a zTXt/iCCP decompression bomb).
  spng_set_image_limits(ctx.get(), static_cast<uint32_t>(kMaxImagePixels),
                        static_cast<uint32_t>(kMaxImagePixels));
  spng_set_chunk_limits(ctx.get(), size_t{64} << 20, size_t{256} << 20);
  int err = spng_set_png_buffer(ctx.get(), bytes.data(), bytes.size());
  spng_ihdr ihdr{};
  if (!err) err = spng_get_ihdr(ctx.get(), &ihdr);
  if (err) png_fault(path, err, bytes.size());
  check_pixels(path, "PNG", ihdr.width, ihdr.height);

  const bool grey =
      ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE || ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA;
  // G8 is libspng's only single-channel 8-bit output and covers grey of depth <= 8 (scaled to 0..255); every
  // other kind (grey+alpha, 16-bit grey, colour, palette) goes through RGB8, which drops alpha.
  const bool as_g8 = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE && ihdr.bit_depth <= 8;
  const int fmt = as_g8 ? SPNG_FMT_G8 : SPNG_FMT_RGB8;
  const int64_t decoded_channels = as_g8 ? 1 : 3;
  out.resize(channels ? channels : (grey ? 1 : 3), ihdr.height, ihdr.width);

  size_t len = 0;
  err = spng_decoded_image_size(ctx.get(), fmt, &len);
  if (err) png_fault(path, err, bytes.size());
  RESNET_CHECK(len == static_cast<size_t>(decoded_channels * out.height * out.width))
      << "libspng wants " << len << " bytes for " << out.height << "x" << out.width;
  const bool direct = decoded_channels == 1 && out.channels == 1;
  uint8_t* dst = direct ? out.pixels.data() : (scratch.resize(len), scratch.data());
  err = spng_decode_image(ctx.get(), dst, len, fmt, 0);
  if (err) png_fault(path, err, bytes.size());
  if (!direct) to_planar(dst, decoded_channels, grey, out);
}

struct TjFree {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjFree>;

bool contains(const char* haystack, const char* needle) {
  return haystack && std::strstr(haystack, needle) != nullptr;
}

// After a TurboJPEG call returned -1: returns when it was only a harmless warning, throws otherwise.
void jpeg_check(const std::string& path, void* handle, const std::vector<uint8_t>& bytes) {
  const char* why = tjGetErrorStr2(handle);
  // "Corrupt JPEG data: N extraneous bytes before marker": padding between segments; pixels are intact.
  if (tjGetErrorCode(handle) == TJERR_WARNING && contains(why, "extraneous bytes")) return;
  const std::string msg = why ? why : "unknown error";
  const std::string size = std::to_string(bytes.size()) + " bytes";
  if (contains(why, "Premature end"))
    fail(path, "is a truncated JPEG (" + size + "; libjpeg: " + msg + ")", kReplaceFix);
  // A complete JPEG ends with the EOI marker FF D9 (unless something appended data after it).
  const size_t n = bytes.size();
  if (n < 2 || bytes[n - 2] != 0xFF || bytes[n - 1] != 0xD9)
    fail(path,
         "is a truncated or corrupt JPEG (" + size +
             ", not ending with the FF D9 end marker; libjpeg: " + msg + ")",
         kReplaceFix);
  fail(path, "is a corrupt JPEG (libjpeg: " + msg + ")", kReplaceFix);
}

void decode_jpeg(const std::string& path, const std::vector<uint8_t>& bytes, std::vector<uint8_t>& scratch,
                 Image& out, int64_t channels) {
  TjHandle handle(tjInitDecompress());
  if (!handle) throw std::bad_alloc();
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), bytes.data(), bytes.size(), &width, &height, &subsamp, &colorspace))
    jpeg_check(path, handle.get(), bytes);
  // A stream that ends before its frame header parses as "tables only" and leaves the size unset.
  if (width <= 0 || height <= 0)
    fail(path,
         "is a truncated or corrupt JPEG (no image header in its " + std::to_string(bytes.size()) + " bytes)",
         kReplaceFix);
  check_pixels(path, "JPEG", static_cast<uint64_t>(width), static_cast<uint64_t>(height));
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK)
    fail(path, "is a CMYK JPEG; only greyscale and RGB JPEGs are supported",
         "convert it to RGB, e.g. with ImageMagick: convert FILE -colorspace sRGB FILE");
  const bool grey = colorspace == TJCS_GRAY;
  const int64_t decoded_channels = grey ? 1 : 3;
  out.resize(channels ? channels : decoded_channels, height, width);
  const bool direct = decoded_channels == 1 && out.channels == 1;
  uint8_t* dst =
      direct ? out.pixels.data()
             : (scratch.resize(static_cast<size_t>(decoded_channels * height * width)), scratch.data());
  if (tjDecompress2(handle.get(), bytes.data(), bytes.size(), dst, width, 0, height,
                    grey ? TJPF_GRAY : TJPF_RGB, 0))
    jpeg_check(path, handle.get(), bytes);
  if (!direct) to_planar(dst, decoded_channels, false, out);
}

void check_writable(const Image& image) {
  RESNET_CHECK(image.channels == 1 || image.channels == 3) << "channels " << image.channels;
  RESNET_CHECK(image.height > 0 && image.width > 0) << image.height << "x" << image.width;
  RESNET_CHECK(image.pixels.size() == static_cast<size_t>(image.channels * image.height * image.width))
      << image.pixels.size() << " pixels for " << image.channels << "x" << image.height << "x" << image.width;
}

// Planar → interleaved (HWC), the layout both encoders take.
std::vector<uint8_t> interleave(const Image& image) {
  const int64_t n = image.height * image.width;
  std::vector<uint8_t> packed(static_cast<size_t>(n * image.channels));
  for (int64_t c = 0; c < image.channels; ++c) {
    const uint8_t* src = image.plane(c);
    for (int64_t i = 0; i < n; ++i) packed[static_cast<size_t>(i * image.channels + c)] = src[i];
  }
  return packed;
}

void write_bytes(const std::string& path, const void* data, size_t size) {
  File f(std::fopen(path.c_str(), "wb"));
  if (!f) throw UserError("cannot write '" + path + "': " + std::strerror(errno));
  errno = 0;
  const bool written = std::fwrite(data, 1, size, f.get()) == size;
  const bool closed = std::fclose(f.release()) == 0;  // flushes: a full disk may only show here
  if (!written || !closed)
    throw UserError("cannot write '" + path + "': " + (errno ? std::strerror(errno) : "short write") +
                    " (disk full?)");
}

}  // namespace

namespace {

void decode_bytes(const std::vector<uint8_t>& bytes, const std::string& path, std::vector<uint8_t>& scratch,
                  Image& out, int64_t channels) {
  RESNET_CHECK(channels == 0 || channels == 1 || channels == 3)
      << "channels must be 0, 1 or 3, got " << channels;
  if (bytes.empty()) fail(path, "is empty (0 bytes), not a PNG or JPEG image", kReplaceFix);
  if (is_png(bytes)) {
    decode_png(path, bytes, scratch, out, channels);
  } else if (is_jpeg(bytes)) {
    decode_jpeg(path, bytes, scratch, out, channels);
  } else {
    fail(path, "is not a PNG or JPEG image: " + describe_start(bytes),
         "convert it to PNG or JPEG, or delete it from the data set");
  }
}

}  // namespace

void decode_image(const std::string& path, Image& out, int64_t channels) {
  thread_local std::vector<uint8_t> bytes, scratch;
  struct Trim {  // runs on every exit, errors included
    ~Trim() {
      if (bytes.capacity() > kKeepScratchBytes) std::vector<uint8_t>().swap(bytes);
      if (scratch.capacity() > kKeepScratchBytes) std::vector<uint8_t>().swap(scratch);
    }
  } trim;
  RESNET_CHECK(channels == 0 || channels == 1 || channels == 3)
      << "channels must be 0, 1 or 3, got " << channels;
  read_file(path, bytes);
  decode_bytes(bytes, path, scratch, out, channels);
}

void decode_image_bytes(const std::vector<uint8_t>& bytes, const std::string& name, Image& out,
                        int64_t channels) {
  std::vector<uint8_t> scratch;
  decode_bytes(bytes, name, scratch, out, channels);
}

Image decode_image(const std::string& path, int64_t channels) {
  Image image;
  decode_image(path, image, channels);
  return image;
}

void write_png(const std::string& path, const Image& image) {
  check_writable(image);
  if (image.height > 0x7FFFFFFF || image.width > 0x7FFFFFFF)
    throw UserError("cannot write '" + path + "': PNG images are at most 2^31-1 pixels a side");
  SpngCtx ctx(spng_ctx_new(SPNG_CTX_ENCODER));
  if (!ctx) throw std::bad_alloc();
  spng_ihdr ihdr{};
  ihdr.width = static_cast<uint32_t>(image.width);
  ihdr.height = static_cast<uint32_t>(image.height);
  ihdr.bit_depth = 8;
  ihdr.color_type = image.channels == 1 ? SPNG_COLOR_TYPE_GRAYSCALE : SPNG_COLOR_TYPE_TRUECOLOR;
  const std::vector<uint8_t> packed = interleave(image);
  int err = spng_set_option(ctx.get(), SPNG_ENCODE_TO_BUFFER, 1);
  if (!err) err = spng_set_ihdr(ctx.get(), &ihdr);
  if (!err)
    err = spng_encode_image(ctx.get(), packed.data(), packed.size(), SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
  size_t len = 0;
  std::unique_ptr<void, decltype(&std::free)> png(err ? nullptr : spng_get_png_buffer(ctx.get(), &len, &err),
                                                  &std::free);
  if (err || !png) throw UserError("cannot encode '" + path + "' as PNG: " + spng_strerror(err));
  write_bytes(path, png.get(), len);
}

namespace {

// Encodes `image`; `path` names it in errors.
std::vector<uint8_t> jpeg_bytes(const Image& image, int quality, const std::string& path) {
  check_writable(image);
  RESNET_CHECK(quality >= 1 && quality <= 100) << "JPEG quality " << quality;
  if (image.height > 65535 || image.width > 65535)
    throw UserError("cannot write '" + path + "': JPEG images are at most 65535 pixels a side");
  TjHandle handle(tjInitCompress());
  if (!handle) throw std::bad_alloc();
  const std::vector<uint8_t> packed = interleave(image);
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const bool grey = image.channels == 1;
  const int rc = tjCompress2(handle.get(), packed.data(), static_cast<int>(image.width), 0,
                             static_cast<int>(image.height), grey ? TJPF_GRAY : TJPF_RGB, &jpeg, &size,
                             grey ? TJSAMP_GRAY : TJSAMP_444, quality, TJFLAG_ACCURATEDCT);
  const std::unique_ptr<unsigned char, decltype(&tjFree)> owned(jpeg, &tjFree);  // freed on every path
  if (rc) throw UserError("cannot encode '" + path + "' as JPEG: " + tjGetErrorStr2(handle.get()));
  return {jpeg, jpeg + size};
}

}  // namespace

void write_jpeg(const std::string& path, const Image& image, int quality) {
  const std::vector<uint8_t> bytes = jpeg_bytes(image, quality, path);
  write_bytes(path, bytes.data(), bytes.size());
}

std::vector<uint8_t> encode_jpeg(const Image& image, int quality) {
  return jpeg_bytes(image, quality, "an image in memory");
}

}  // namespace resnet::data
