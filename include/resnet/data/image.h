// Image files: PNG (libspng) and JPEG (TurboJPEG) decoding into planar u8 Images, and writing them back.
//
// Decoding
//  - The format comes from the file's first bytes (PNG signature 89 50 4E 47 0D 0A 1A 0A, JPEG FF D8 FF),
//    never from its extension: data sets in the wild hold PNGs named .jpg.
//  - PNG: every colour type and bit depth of the standard (grey 1/2/4/8/16, grey+alpha, RGB, RGBA, palette).
//    16-bit samples keep their high byte (libspng's reduction; PIL does the same for 16-bit RGB); alpha and
//    tRNS are dropped (not composited) and gamma chunks ignored, as PIL's convert('RGB') / convert('L') do.
//  - JPEG: greyscale and YCbCr/RGB colour, decoded with libjpeg-turbo's default (accurate) IDCT and fancy
//    upsampling, as PIL decodes. CMYK/YCCK JPEGs are rejected. Of libjpeg's warnings only "extraneous
//    bytes" ones are tolerated (the image is intact); any other (truncation, corrupt data) is an error.
//  - `channels`: 0 keeps the file's own (1 for grey PNG/JPEG, 3 for colour and palette), 1 converts colour
//    to grey with PIL's ITU-R 601-2 luma, L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, and 3
//    replicates grey into R, G and B. Any other value is a contract violation (CheckError).
//  - Images with more than kMaxImagePixels pixels are refused before any pixel buffer is allocated.
//  - Errors throw SampleError whose message names the file, the fault (missing, unreadable, empty, not a
//    PNG/JPEG with what its first bytes look like, truncated, corrupt with the library's message, too
//    large) and a fix; `out` is then left in an unspecified state. Library handles are released on every
//    path. Thread-safe: the only state kept between calls is per-thread scratch memory.
//
// Writing: write_png / write_jpeg take a grey (1 channel) or RGB (3 channel) 8-bit planar Image, whose
// shape must match its pixel count (CheckError otherwise); they throw UserError naming the file when it
// cannot be encoded or written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "resnet/data/dataset.h"

namespace resnet::data {

inline constexpr int64_t kMaxImagePixels = int64_t{1} << 28;

// Decodes the PNG or JPEG file at `path` into `out` (planar [channels][height][width]), reusing
// out.pixels' capacity.
void decode_image(const std::string& path, Image& out, int64_t channels = 0);
Image decode_image(const std::string& path, int64_t channels = 0);

// Lossless 8-bit PNG: colour type grey for 1 channel, RGB for 3.
void write_png(const std::string& path, const Image& image);
// Baseline JPEG at `quality` (1..100): greyscale for 1 channel; for 3 channels YCbCr with 4:4:4 chroma
// (no subsampling, so colour edges survive in saved samples).
void write_jpeg(const std::string& path, const Image& image, int quality = 95);

// The same JPEG in memory, and a PNG or JPEG decoded from memory (`name` names the bytes in errors):
// what a JPEG round trip (robust/corruptions.h) needs without touching the disk.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality = 95);
void decode_image_bytes(const std::vector<uint8_t>& bytes, const std::string& name, Image& out,
                        int64_t channels = 0);

}  // namespace resnet::data
