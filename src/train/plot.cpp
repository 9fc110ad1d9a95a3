// PLplot-based PNG figures. All drawing happens in pixel coordinates we compute ourselves (layout, ticks,
// labels, legend), except data lines, which are drawn in data coordinates inside the axes viewport so
// that PLplot clips them. PLplot does not export its text measurement (plstrl), so text widths come from
// DejaVu Sans metrics (fontconfig's "sans" on Debian); margins leave slack for other fonts.
#include "resnet/train/plot.h"

#include <dlfcn.h>
#include <plplot/plplot.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <numbers>
#include <string_view>
#include <utility>

#include "resnet/core/check.h"
#include "resnet/io/atomic_file.h"

// Exported by libplplot (PLDLLIMPEXP) but declared only in its private header plplotP.h: the directory
// PLplot loads drivers from ($PLPLOT_DRV_DIR, else the compiled-in Debian path).
extern "C" const char* plGetDrvDir(void);

namespace resnet::plot {
namespace {

// ------------------------------------------------------------------------------------------------------
// Colours: cmap0 indices.

struct Rgb {
  int r, g, b;
};

constexpr std::array<Rgb, kPaletteSize> kTab10 = {{{31, 119, 180},
                                                   {255, 127, 14},
                                                   {44, 160, 44},
                                                   {214, 39, 40},
                                                   {148, 103, 189},
                                                   {140, 86, 75},
                                                   {227, 119, 194},
                                                   {127, 127, 127},
                                                   {188, 189, 34},
                                                   {23, 190, 207}}};

enum Color : int {
  kBackground = 0,  // cmap0[0] is the page background
  kPaletteBase = 1,
  kText = kPaletteBase + kPaletteSize,
  kFrame,
  kGrid,
  kLegendBackground,
  kLegendEdge,
  kMuted,
  kWhite,
  kColorCount
};

// matplotlib's "Blues", for the confusion matrix.
constexpr std::array<Rgb, 9> kBlues = {{{247, 251, 255},
                                        {222, 235, 247},
                                        {198, 219, 239},
                                        {158, 202, 225},
                                        {107, 174, 214},
                                        {66, 146, 198},
                                        {33, 113, 181},
                                        {8, 81, 156},
                                        {8, 48, 107}}};

int palette_color(int index) {
  return kPaletteBase + ((index % kPaletteSize) + kPaletteSize) % kPaletteSize;
}

// ------------------------------------------------------------------------------------------------------
// Text.

// Advance widths of DejaVu Sans and DejaVu Sans Bold for ASCII 32..126, in 1/1000 em (from the fonts'
// hmtx tables).
constexpr std::array<uint16_t, 95> kSansWidths = {
    317, 400, 459, 837, 636, 950, 779, 274, 390, 390, 500, 837, 317, 360,  317, 336, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 336, 336, 837, 837, 837, 530, 1000, 684, 686, 698, 770, 631,
    575, 774, 751, 294, 294, 655, 557, 862, 748, 787, 603, 787, 694, 634,  610, 731, 684, 988, 685,
    610, 685, 390, 336, 390, 837, 500, 500, 612, 634, 549, 634, 615, 352,  634, 633, 277, 277, 579,
    277, 974, 633, 611, 634, 634, 411, 520, 392, 633, 591, 817, 591, 591,  524, 636, 336, 636, 837};
constexpr std::array<uint16_t, 95> kSansBoldWidths = {
    348, 456,  520, 837, 695, 1001, 872, 306, 457, 457, 522, 837, 379, 415,  379, 365, 695, 695,  695,
    695, 695,  695, 695, 695, 695,  695, 399, 399, 837, 837, 837, 580, 1000, 773, 762, 733, 830,  683,
    683, 820,  836, 372, 372, 774,  637, 995, 836, 850, 732, 850, 770, 720,  682, 812, 773, 1103, 770,
    724, 725,  457, 365, 457, 837,  500, 500, 674, 715, 592, 715, 678, 435,  715, 711, 342, 342,  665,
    342, 1041, 711, 687, 715, 715,  493, 595, 478, 711, 651, 923, 645, 651,  582, 711, 365, 711,  837};

// Decodes one UTF-8 code point at s[i], advancing i; malformed bytes count as one replacement character.
char32_t next_code_point(std::string_view s, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
  if (extra < 0 || i + extra >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  i += extra + 1;
  return cp;
}

double glyph_em(char32_t cp, bool bold) {
  if (cp >= 32 && cp <= 126) return (bold ? kSansBoldWidths : kSansWidths)[cp - 32] / 1000.0;
  if (cp == U'\u2212' || cp == U'\u00D7') return 0.837;  // minus sign, multiplication sign
  // East Asian ideographs and the like are about one em wide; other scripts about a digit.
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFF60))
    return 1.0;
  return 0.65;
}

// Width in pixels of PLplot text (with our escapes: "##", "#u", "#d") at font size `px`.
double text_width(std::string_view text, double px, bool bold = false) {
  double em = 0, scale = 1;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '#' && i + 1 < text.size()) {
      const char e = text[i + 1];
      if (e == 'u' || e == 'd') {
        scale = e == 'u' ? scale * 0.75 : scale / 0.75;  // PLplot scales each script level by 0.75
        i += 2;
        continue;
      }
      if (e == '#') {
        em += glyph_em('#', bold) * scale;
        i += 2;
        continue;
      }
    }
    em += glyph_em(next_code_point(text, i), bold) * scale;
  }
  return em * px;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Longest text drawn: the cairo driver's markup buffer is finite, and nobody reads a 300-character label.
constexpr size_t kMaxCodePoints = 200;

// Plain text to PLplot text: '#' (PLplot's escape character) doubled, malformed UTF-8 replaced (pango
// would refuse the whole string), control characters turned into spaces, cut after kMaxCodePoints.
std::string escape(std::string_view text) {
  std::string out;
  size_t count = 0;
  for (size_t i = 0; i < text.size();) {
    char32_t cp = next_code_point(text, i);
    if (++count > kMaxCodePoints) {
      out += "\u2026";
      break;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      cp = cp < 0x80 ? U' ' : 0xFFFD;
    if (cp == '#') out += '#';
    append_utf8(out, cp);
  }
  return out;
}

// Plain `text` as PLplot text, cut (with an ellipsis) until it fits in `max_px`.
std::string fit_text(std::string_view text, double px, double max_px, bool bold = false) {
  std::string escaped = escape(text);
  if (text_width(escaped, px, bold) <= max_px) return escaped;
  std::vector<size_t> ends;  // byte offset after each of the first kMaxCodePoints code points
  for (size_t i = 0; i < text.size() && ends.size() < kMaxCodePoints;) {
    next_code_point(text, i);
    ends.push_back(i);
  }
  for (size_t n = ends.size(); n-- > 0;) {
    escaped = escape(text.substr(0, ends[n])) + "\u2026";
    if (text_width(escaped, px, bold) <= max_px) return escaped;
  }
  return "\u2026";
}

// Numbers with a real minus sign, as typeset.
std::string typeset_number(std::string s) {
  if (!s.empty() && s[0] == '-') s.replace(0, 1, "\u2212");
  return s;
}

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find_first_not_of("-0.") == std::string::npos)
    s = decimals > 0 ? "0." + std::string(decimals, '0') : "0";
  return typeset_number(s);
}

// ------------------------------------------------------------------------------------------------------
// The PLplot stream.

std::mutex g_plplot_mutex;  // PLplot's current-stream pointer and driver table are process-global

// PLplot prints an abort message and carries on; plsError captures it in the stream instead.
struct StreamErrors {
  PLINT code = 0;
  char message[1024] = {};
};

// PLplot's own discovery is unforgiving: it exits the process when the driver directory holds no driver
// at all, or when a listed driver fails to load. So look for the cairo driver ourselves first (the same
// place PLplot will look: $PLPLOT_DRV_DIR, else the compiled-in Debian directory), then let PLplot scan.
void require_pngcairo() {
  static bool available = false;  // guarded by g_plplot_mutex
  if (available) return;
  const char* dir = plGetDrvDir();
  const std::string drv_dir = dir ? dir : "";
  const std::string fix =
      ". Install it with `apt-get install plplot-driver-cairo` (or point PLPLOT_DRV_DIR at a directory "
      "holding cairo.driver_info and cairo.so)";
  const std::string info = drv_dir + "/cairo.driver_info";
  std::FILE* f = std::fopen(info.c_str(), "r");
  bool described = false;
  if (f) {
    char line[512];
    while (std::fgets(line, sizeof line, f)) described = described || std::strncmp(line, "pngcairo:", 9) == 0;
    std::fclose(f);
  }
  if (!described)
    throw UserError("PLplot's cairo driver (device \"pngcairo\") is not installed: no '" + info + "'" + fix);
  // The handle is kept: PLplot makes the driver resident anyway.
  const std::string so = drv_dir + "/cairo.so";
  if (!dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    const char* err = dlerror();
    throw UserError("PLplot's cairo driver '" + so + "' cannot be loaded (" + (err ? err : "unknown error") +
                    ")" + fix);
  }
  // Device discovery happens once per process; PLplot's complaints (an unreadable driver_info file) are
  // captured instead of going to stderr.
  StreamErrors errors;
  plsstrm(0);
  plsError(&errors.code, errors.message);
  std::array<const char*, 256> menus{}, names{};
  const char** menus_ptr = menus.data();
  const char** names_ptr = names.data();
  int count = static_cast<int>(names.size());
  plgDevs(&menus_ptr, &names_ptr, &count);
  plsError(nullptr, nullptr);
  bool listed = false;
  for (int i = 0; i < count; ++i) listed = listed || (names[i] && std::strcmp(names[i], "pngcairo") == 0);
  if (!listed) {
    std::string why = errors.code ? std::string(" (") + errors.message : "";
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    if (!why.empty()) why += ")";
    throw UserError("PLplot does not list the \"pngcairo\" device of '" + drv_dir + "'" + why + fix);
  }
  available = true;
}

// The PNG bytes, collected in memory so that write errors are ours to see (the cairo driver ignores
// them) and the file can be written atomically.
class MemoryFile {
 public:
  MemoryFile() {
    file_ = open_memstream(&data_, &size_);
    if (!file_)
      throw UserError(std::string("cannot allocate a memory stream for a plot: ") + std::strerror(errno));
  }
  ~MemoryFile() {
    if (file_) std::fclose(file_);
    std::free(data_);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;

  // PLplot closes the file when its stream ends.
  std::FILE* hand_over() { return std::exchange(file_, nullptr); }
  std::string contents() const { return file_ ? std::string() : std::string(data_, size_); }

 private:
  std::FILE* file_ = nullptr;
  char* data_ = nullptr;
  size_t size_ = 0;
};

struct Point {
  double x, y;
};

struct Rect {
  double x0, y0, x1, y1;  // pixels, y down
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
};

// One PLplot stream rendering one page to a pngcairo file. Coordinates are pixels from the top-left
// corner unless data_space() is active.
class Canvas {
 public:
  Canvas(int width, int height, MemoryFile& out) : width_(width), height_(height) {
    plmkstrm(&stream_);
    if (stream_ < 0) throw UserError("PLplot has no free stream left (too many open plots)");
    plsError(&errors_.code, errors_.message);
    plsdev("pngcairo");
    plsfile(out.hand_over());
    plspage(0, 0, width, height, 0, 0);
    plscmap0n(kColorCount);
    set_color(kBackground, {255, 255, 255});
    for (int i = 0; i < kPaletteSize; ++i) set_color(kPaletteBase + i, kTab10[i]);
    set_color(kText, {34, 34, 34});
    set_color(kFrame, {80, 80, 80});
    set_color(kGrid, {228, 228, 228});
    plscol0a(kLegendBackground, 255, 255, 255, 0.88);
    set_color(kLegendEdge, {204, 204, 204});
    set_color(kMuted, {140, 140, 140});
    set_color(kWhite, {255, 255, 255});
    std::array<double, kBlues.size()> pos{}, r{}, g{}, b{};
    for (size_t i = 0; i < kBlues.size(); ++i) {
      pos[i] = static_cast<double>(i) / (kBlues.size() - 1);
      r[i] = kBlues[i].r / 255.0;
      g[i] = kBlues[i].g / 255.0;
      b[i] = kBlues[i].b / 255.0;
    }
    plscmap1n(256);
    plscmap1l(1, static_cast<PLINT>(pos.size()), pos.data(), r.data(), g.data(), b.data(), nullptr);
    plinit();
    pladv(0);
    pixel_space();
  }
  ~Canvas() {
    plsstrm(stream_);
    plend1();  // writes the PNG and closes the file
  }
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  // PLplot's complaint, if any drawing call was refused.
  std::string error() const { return errors_.code ? errors_.message : ""; }

  void pixel_space() {
    plvpor(0, 1, 0, 1);
    plwind(0, width_, 0, height_);
  }
  // Data coordinates inside `r`; PLplot clips to it.
  void data_space(const Rect& r, double x0, double x1, double y0, double y1) {
    plvpor(r.x0 / width_, r.x1 / width_, 1 - r.y1 / height_, 1 - r.y0 / height_);
    plwind(x0, x1, y0, y1);
  }

  void color(int index) { plcol0(index); }
  void pen(double width_px, bool dashed = false) {
    plwidth(width_px);
    if (dashed) {
      // matplotlib's dash pattern scaled by the line width; plstyl takes micrometres at 72 dpi.
      const double um_per_px = 25400.0 / 72.0;
      PLINT mark = static_cast<PLINT>(std::max(4.0, 3.7 * width_px) * um_per_px);
      PLINT space = static_cast<PLINT>(std::max(2.5, 1.6 * width_px) * um_per_px);
      plstyl(1, &mark, &space);
    } else {
      plstyl(0, nullptr, nullptr);
    }
  }

  // Pixel-space primitives (y down).
  void line(double x0, double y0, double x1, double y1) { pljoin(x0, flip(y0), x1, flip(y1)); }
  void polyline(const std::vector<Point>& points) {
    std::vector<double> xs, ys;
    for (const Point& p : points) {
      xs.push_back(p.x);
      ys.push_back(flip(p.y));
    }
    plline(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
  }
  void fill_rect(const Rect& r) {
    std::array<double, 4> xs = {r.x0, r.x1, r.x1, r.x0};
    std::array<double, 4> ys = {flip(r.y0), flip(r.y0), flip(r.y1), flip(r.y1)};
    plfill(4, xs.data(), ys.data());
  }
  void stroke_rect(const Rect& r) {
    polyline({{r.x0, r.y0}, {r.x1, r.y0}, {r.x1, r.y1}, {r.x0, r.y1}, {r.x0, r.y0}});
  }
  void dot(double x, double y, double radius) {
    constexpr int kSides = 20;
    std::array<double, kSides> xs{}, ys{};
    for (int i = 0; i < kSides; ++i) {
      const double a = 2 * std::numbers::pi * i / kSides;
      xs[i] = x + radius * std::cos(a);
      ys[i] = flip(y) + radius * std::sin(a);
    }
    plfill(kSides, xs.data(), ys.data());
  }
  // PLplot text (already escaped) whose reference point (x, y) is `just` (0 left .. 1 right) along the
  // baseline and half a font size above it (about the middle of capitals). angle in degrees,
  // counter-clockwise.
  void text(double x, double y, const std::string& text, double px, double just, int color_index = kText,
            bool bold = false, double angle = 0) {
    if (text.empty()) return;
    // The cairo driver asks pango for `chrht` in points (mm * 72 / 25.4); pango renders points at 96 dpi.
    plschr(px * 72.0 / 96.0 * 25.4 / 72.0, 1.0);
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, bold ? PL_FCI_BOLD : PL_FCI_MEDIUM);
    plcol0(color_index);
    const double a = angle * std::numbers::pi / 180;
    plptex(x, flip(y), std::cos(a), std::sin(a), just, text.c_str());
  }

  int width() const { return width_; }
  int height() const { return height_; }

 private:
  static void set_color(int index, Rgb c) { plscol0(index, c.r, c.g, c.b); }
  double flip(double y) const { return height_ - y; }

  int width_, height_;
  PLINT stream_ = -1;
  StreamErrors errors_;
};

// Renders with `draw` on a fresh canvas and writes the PNG atomically to `path`.
template <class Draw>
void render(int width, int height, const std::string& path, Draw&& draw) {
  std::string png, error;
  try {
    MemoryFile file;
    {
      std::lock_guard<std::mutex> lock(g_plplot_mutex);
      require_pngcairo();
      Canvas canvas(width, height, file);
      draw(canvas);
      error = canvas.error();
    }
    png = file.contents();
  } catch (const UserError& e) {
    throw UserError("cannot plot '" + path + "': " + e.what());
  }
  if (!error.empty()) throw UserError("PLplot failed while drawing '" + path + "': " + error);
  static constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (png.size() < 8 || std::memcmp(png.data(), kSignature, 8) != 0)
    throw UserError("PLplot's pngcairo device produced no PNG for '" + path +
                    "' (out of memory, or a broken cairo installation: reinstall plplot-driver-cairo)");
  io::write_file_atomically(path, [&](const io::ByteSink& sink) { sink(png.data(), png.size()); });
}

// ------------------------------------------------------------------------------------------------------
// Axes.

struct Tick {
  double value;       // axis units (log10 of the value on a log axis)
  std::string label;  // PLplot text; empty for minor ticks
};

struct Axis {
  double lo = 0, hi = 1;  // axis units
  bool log = false;
  std::vector<Tick> ticks{};  // major (labelled) ticks
  std::vector<double> minor{};
};

// The smallest of 1, 2, 2.5, 5 x 10^k that gives at most `target` intervals over `span`.
double nice_step(double span, int target) {
  const double raw = span / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  return 10 * magnitude;
}

// Exponents keep the ASCII hyphen: U+2212's side bearings open a visible gap after "10" in superscript.
std::string decade_label(int k) {
  return "10#u" + std::to_string(k) + "#d";
}

// Decimals that print multiples of `step` exactly (2.5 -> 1, 0.02 -> 2).
int decimals_for(double step) {
  int d = 0;
  while (d < 12 && std::abs(step * std::pow(10, d) - std::round(step * std::pow(10, d))) >
                       1e-6 * step * std::pow(10, d))
    ++d;
  return d;
}

// Labels for values that are multiples of `step`: fixed-point with just enough decimals, or
// mantissa x 10^e when the numbers are very large or very small.
std::vector<std::string> format_ticks(const std::vector<double>& values, double step) {
  double largest = 0;
  for (double v : values) largest = std::max(largest, std::abs(v));
  std::vector<std::string> labels;
  const int decimals = decimals_for(step);
  if (largest >= 1e6 || (largest > 0 && largest < 1e-3)) {
    const int e = static_cast<int>(std::floor(std::log10(largest)));
    const int mantissa_decimals = decimals_for(step / std::pow(10.0, e));
    for (double v : values) {
      if (std::abs(v) < step * 1e-6) {
        labels.push_back("0");
        continue;
      }
      labels.push_back(format_fixed(v / std::pow(10.0, e), mantissa_decimals) + "\u00D7" + decade_label(e));
    }
    return labels;
  }
  for (double v : values) labels.push_back(format_fixed(v, decimals));
  return labels;
}

Axis linear_axis(double lo, double hi, double length_px, double spacing_px) {
  Axis axis{.lo = lo, .hi = hi};
  const int target = std::clamp(static_cast<int>(length_px / spacing_px), 2, 10);
  const double step = nice_step(hi - lo, target);
  std::vector<double> values;
  // (The size caps only guard against floating-point surprises: a nice step gives about `target` ticks.)
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9 && values.size() < 50; k += 1)
    values.push_back(std::abs(k) < 1e-12 ? 0.0 : k * step);
  const std::vector<std::string> labels = format_ticks(values, step);
  for (size_t i = 0; i < values.size(); ++i) axis.ticks.push_back({values[i], labels[i]});
  // Minor ticks: 4 or 5 per interval, like matplotlib's AutoMinorLocator.
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  const int subdivisions = std::abs(mantissa - 2.5) < 1e-6 || std::abs(mantissa - 5) < 1e-6 ? 5 : 4;
  const double minor = step / subdivisions;
  for (double k = std::ceil(lo / minor - 1e-9); k * minor <= hi + minor * 1e-9 && axis.minor.size() < 500;
       k += 1)
    axis.minor.push_back(k * minor);
  return axis;
}

std::string plain_value_label(double v) {
  // v is m x 10^k with a one-digit m: enough decimals to show it exactly.
  const int k = static_cast<int>(std::floor(std::log10(v) + 1e-9));
  if (k < -4 || k > 5) {
    const double m = std::round(v / std::pow(10.0, k));
    return format_fixed(m, 0) + "\u00D7" + decade_label(k);
  }
  return format_fixed(v, std::max(0, -k));
}

// lo/hi in log10 units.
Axis log_axis(double lo, double hi, double length_px, double spacing_px) {
  Axis axis{.lo = lo, .hi = hi, .log = true};
  const int target = std::clamp(static_cast<int>(length_px / spacing_px), 2, 10);
  const int first = static_cast<int>(std::ceil(lo - 1e-9)), last = static_cast<int>(std::floor(hi + 1e-9));
  const int decades = last - first + 1;
  const bool minor_ticks = hi - lo <= 8;
  for (int k = static_cast<int>(std::floor(lo)); k <= static_cast<int>(std::ceil(hi)) && minor_ticks; ++k)
    for (int m = 2; m <= 9; ++m) {
      const double v = k + std::log10(m);
      if (v >= lo && v <= hi) axis.minor.push_back(v);
    }
  if (decades >= 2) {
    const int stride = (decades + target - 1) / target;
    for (int k = first; k <= last; ++k) {
      if ((k - first) % stride == 0)
        axis.ticks.push_back({static_cast<double>(k), decade_label(k)});
      else
        axis.minor.push_back(k);
    }
    return axis;
  }
  // Less than two decades in view: label 1-2-5 (or every digit) so that the axis can still be read.
  for (const std::vector<int>& mantissas :
       {std::vector<int>{1, 2, 5}, std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    axis.ticks.clear();
    for (int k = static_cast<int>(std::floor(lo)); k <= static_cast<int>(std::ceil(hi)); ++k)
      for (int m : mantissas) {
        const double v = k + std::log10(m);
        if (v >= lo - 1e-9 && v <= hi + 1e-9)
          axis.ticks.push_back({v, m == 1 ? decade_label(k) : plain_value_label(m * std::pow(10.0, k))});
      }
    if (axis.ticks.size() >= 2 && axis.ticks.size() <= static_cast<size_t>(target) + 1) return axis;
    if (axis.ticks.size() >= 2) break;
  }
  if (axis.ticks.size() >= 2) return axis;
  // Under a factor of two in view: linear ticks on the values themselves.
  const double vlo = std::pow(10.0, lo), vhi = std::pow(10.0, hi);
  const Axis linear = linear_axis(vlo, vhi, length_px, spacing_px);
  axis.ticks.clear();
  axis.minor.clear();
  for (const Tick& t : linear.ticks)
    if (t.value > 0) axis.ticks.push_back({std::log10(t.value), t.label});
  return axis;
}

// Fitted range [lo, hi] of finite values, with a fractional margin; a single value is padded.
// On a log axis (log10 units) a single value gets half a decade either side.
std::pair<double, double> fit_range(double lo, double hi, double margin, bool have_data, bool log = false) {
  if (!have_data) return {0, 1};
  lo = std::max(lo, -1e300);  // keeps hi - lo finite
  hi = std::min(hi, 1e300);
  if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-12) {
    const double pad = log ? 0.5 : lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    return {lo - pad, hi + pad};
  }
  const double span = hi - lo;
  return {lo - margin * span, hi + margin * span};
}

// ------------------------------------------------------------------------------------------------------
// Line plots.

struct Fonts {
  double base, tick, label, title, figure_title, legend;
  explicit Fonts(double px)
      : base(px), tick(px * 0.92), label(px), title(px * 1.1), figure_title(px * 1.3), legend(px * 0.9) {}
};

struct PreparedSeries {
  const Series* series;
  int color;
  std::vector<std::vector<Point>> runs;  // data coordinates (log10 y on log axes); runs of finite points
};

std::vector<PreparedSeries> prepare(const Panel& panel) {
  std::vector<PreparedSeries> out;
  int next_color = 0;
  for (const Series& s : panel.series) {
    RESNET_CHECK(s.x.empty() || s.x.size() == s.y.size())
        << "series '" << s.label << "' has " << s.x.size() << " x values but " << s.y.size() << " y values";
    PreparedSeries p{.series = &s, .color = palette_color(s.color < 0 ? next_color++ : s.color), .runs = {}};
    std::vector<Point> run;
    for (size_t i = 0; i < s.y.size(); ++i) {
      const double x = s.x.empty() ? static_cast<double>(i) : s.x[i];
      double y = s.y[i];
      const bool ok = std::isfinite(x) && std::isfinite(y) && (!panel.log_y || y > 0);
      if (ok) {
        if (panel.log_y) y = std::log10(y);
        run.push_back({x, y});
      } else if (!run.empty()) {
        p.runs.push_back(std::move(run));
        run.clear();
      }
    }
    if (!run.empty()) p.runs.push_back(std::move(run));
    out.push_back(std::move(p));
  }
  return out;
}

void draw_marker(Canvas& canvas, double x, double y, double line_width) {
  canvas.dot(x, y, std::max(2.8, 1.1 * line_width + 1.5));
}

struct LegendLayout {
  double font = 0, row = 0, sample = 0, gap = 0, pad = 0, column_width = 0;
  int columns = 1, rows = 0;
  bool fits = false;  // within the size limits it was laid out for
  std::vector<std::string> labels{};
  double width() const { return 2 * pad + columns * column_width + (columns - 1) * gap * 2; }
  double height() const { return 2 * pad + rows * row; }
};

std::vector<const PreparedSeries*> legend_entries(const std::vector<PreparedSeries>& prepared) {
  std::vector<const PreparedSeries*> entries;
  for (const PreparedSeries& p : prepared)
    if (!p.series->label.empty()) entries.push_back(&p);
  return entries;
}

// Adds columns while the legend is taller than `target_height` and wider ones still fit in `max_width`;
// shrinks the text (down to about half) while it exceeds max_width x max_height.
LegendLayout layout_legend(const std::vector<const PreparedSeries*>& entries, double font, double max_width,
                           double max_height, double target_height) {
  LegendLayout l;
  for (double shrink = 1.0;; shrink *= 0.9) {
    l.font = font * shrink;
    l.row = 1.5 * l.font;
    l.sample = 2.2 * l.font;
    l.gap = 0.6 * l.font;
    l.pad = 0.5 * l.font;
    double max_text = 0;
    l.labels.clear();
    for (const PreparedSeries* e : entries) {
      l.labels.push_back(
          fit_text(e->series->label, l.font, std::max(60.0, max_width - l.sample - 4 * l.gap)));
      max_text = std::max(max_text, text_width(l.labels.back(), l.font));
    }
    l.column_width = l.sample + l.gap + max_text;
    const int n = static_cast<int>(entries.size());
    for (l.columns = 1;; ++l.columns) {
      l.rows = (n + l.columns - 1) / l.columns;
      const bool short_enough = l.height() <= target_height || l.rows == 1;
      const bool next_fits = l.columns < n && (l.columns + 1) * (l.column_width + 2 * l.gap) <= max_width;
      if (short_enough || !next_fits) break;
    }
    l.fits = l.height() <= max_height && l.width() <= max_width;
    if (l.fits || shrink < 0.55) return l;
  }
}

// Inside the axes, in the spot where the box hides the fewest drawn points: matplotlib's candidates for
// loc="best", in its order of preference.
Rect best_legend_box(const LegendLayout& l, const std::vector<PreparedSeries>& prepared, const Rect& plot,
                     const std::function<Point(Point)>& to_px, double margin) {
  const double w = l.width(), h = l.height();
  const double cx = plot.x0 + (plot.width() - w) / 2, cy = plot.y0 + (plot.height() - h) / 2;
  const double left = plot.x0 + margin, right = plot.x1 - margin - w;
  const double top = plot.y0 + margin, bottom = plot.y1 - margin - h;
  const std::array<Point, 9> corners = {{{right, top},
                                         {left, top},
                                         {left, bottom},
                                         {right, bottom},
                                         {right, cy},
                                         {left, cy},
                                         {cx, bottom},
                                         {cx, top},
                                         {cx, cy}}};
  // Badness: vertices plus samples every few pixels along each segment under the box.
  std::array<long, corners.size()> hidden{};
  const auto count = [&](Point p) {
    for (size_t c = 0; c < corners.size(); ++c)
      if (p.x >= corners[c].x && p.x <= corners[c].x + w && p.y >= corners[c].y && p.y <= corners[c].y + h)
        ++hidden[c];
  };
  for (const PreparedSeries& p : prepared)
    for (const std::vector<Point>& run : p.runs)
      for (size_t i = 0; i < run.size(); ++i) {
        const Point a = to_px(run[i]);
        count(a);
        if (i + 1 == run.size()) break;
        const Point b = to_px(run[i + 1]);
        const int steps = std::min(200, static_cast<int>(std::hypot(b.x - a.x, b.y - a.y) / 4));
        for (int k = 1; k < steps; ++k) {
          const double t = static_cast<double>(k) / steps;
          count({a.x + t * (b.x - a.x), a.y + t * (b.y - a.y)});
        }
      }
  const size_t best = std::min_element(hidden.begin(), hidden.end()) - hidden.begin();
  return {corners[best].x, corners[best].y, corners[best].x + w, corners[best].y + h};
}

void draw_legend(Canvas& canvas, const std::vector<const PreparedSeries*>& entries, const LegendLayout& l,
                 const Rect& box) {
  canvas.pixel_space();
  canvas.color(kLegendBackground);
  canvas.fill_rect(box);
  canvas.color(kLegendEdge);
  canvas.pen(1.0);
  canvas.stroke_rect(box);
  for (size_t i = 0; i < entries.size(); ++i) {
    const Series& s = *entries[i]->series;
    const int column = static_cast<int>(i) / l.rows, row = static_cast<int>(i) % l.rows;
    const double x = box.x0 + l.pad + column * (l.column_width + 2 * l.gap);
    const double y = box.y0 + l.pad + (row + 0.5) * l.row;
    // A series drawn only as isolated dots shows a dot, not a line it never has.
    bool has_line = false;
    for (const std::vector<Point>& run : entries[i]->runs) has_line = has_line || run.size() > 1;
    canvas.color(entries[i]->color);
    if (has_line || entries[i]->runs.empty()) {
      canvas.pen(std::min(s.width, 0.5 * l.row), s.dashed);
      canvas.line(x, y, x + l.sample, y);
      canvas.pen(1.0);
    }
    if (s.markers || (!has_line && !entries[i]->runs.empty()))
      draw_marker(canvas, x + l.sample / 2, y, s.width);
    canvas.text(x + l.sample + l.gap, y, l.labels[i], l.font, 0.0);
  }
}

double max_label_width(const Axis& axis, double font) {
  double w = 0;
  for (const Tick& t : axis.ticks) w = std::max(w, text_width(t.label, font));
  return w;
}

void draw_panel(Canvas& canvas, const Panel& panel, const Rect& cell, const Fonts& fonts) {
  const std::vector<PreparedSeries> prepared = prepare(panel);

  // Data ranges.
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  bool have_data = false;
  for (const PreparedSeries& p : prepared)
    for (const std::vector<Point>& run : p.runs)
      for (const Point& pt : run) {
        xlo = std::min(xlo, pt.x);
        xhi = std::max(xhi, pt.x);
        ylo = std::min(ylo, pt.y);
        yhi = std::max(yhi, pt.y);
        have_data = true;
      }
  const auto [x0, x1] = fit_range(xlo, xhi, 0.02, have_data);
  auto [y0, y1] = fit_range(ylo, yhi, 0.05, have_data, panel.log_y);
  const auto limit = [&](std::optional<double> v) -> std::optional<double> {
    if (!v || !std::isfinite(*v) || (panel.log_y && *v <= 0)) return std::nullopt;
    return panel.log_y ? std::log10(*v) : *v;
  };
  const std::optional<double> user_lo = limit(panel.y_min), user_hi = limit(panel.y_max);
  if (user_lo) y0 = *user_lo;
  if (user_hi) y1 = *user_hi;
  if (!(y1 > y0)) {  // fixed limits that contradict each other or the data
    if (user_lo && !user_hi)
      y1 = y0 + std::max(1.0, std::abs(y0) * 0.1);
    else if (user_hi && !user_lo)
      y0 = y1 - std::max(1.0, std::abs(y1) * 0.1);
    else
      std::tie(y0, y1) = fit_range(std::min(y0, y1), std::max(y0, y1), 0, true, panel.log_y);
  }

  // Layout: vertical margins first (they do not depend on tick labels), then the y ticks, whose label
  // widths set the left margin, then the x ticks.
  const double pad = 0.5 * fonts.base, tick_len = 0.35 * fonts.base, tick_gap = 0.3 * fonts.base;
  Rect plot{};
  plot.y0 = cell.y0 + pad + (panel.title.empty() ? 0.4 * fonts.base : 1.9 * fonts.title);
  plot.y1 = cell.y1 - pad - (panel.x_label.empty() ? 0 : 1.7 * fonts.label) - 1.4 * fonts.tick - tick_len;
  plot.y1 = std::max(plot.y1, plot.y0 + 10);
  const Axis y_axis = panel.log_y ? log_axis(y0, y1, plot.height(), 3.2 * fonts.tick)
                                  : linear_axis(y0, y1, plot.height(), 3.2 * fonts.tick);
  const double y_label_width = max_label_width(y_axis, fonts.tick);
  plot.x0 =
      cell.x0 + pad + (panel.y_label.empty() ? 0 : 1.7 * fonts.label) + y_label_width + tick_len + tick_gap;
  plot.x1 = std::max(cell.x1 - pad - 1.2 * fonts.tick, plot.x0 + 10);
  // A legend that would hide much of the data moves to the right of the axes when the cell has room.
  const std::vector<const PreparedSeries*> entries =
      panel.legend ? legend_entries(prepared) : decltype(entries){};
  LegendLayout legend =
      layout_legend(entries, fonts.legend, 0.95 * plot.width(), 0.9 * plot.height(), plot.height() / 3);
  std::optional<Rect> legend_box;
  const double legend_margin = 0.6 * fonts.base;
  if (!entries.empty() &&
      (!legend.fits || legend.width() * legend.height() > 0.25 * plot.width() * plot.height())) {
    const LegendLayout outside =
        layout_legend(entries, fonts.legend, 0.4 * cell.width(), plot.height(), plot.height());
    if (outside.fits && outside.font >= 0.8 * fonts.legend) {
      legend = outside;
      plot.x1 = std::max(cell.x1 - pad - legend.width() - legend_margin, plot.x0 + 10);
      legend_box = Rect{plot.x1 + legend_margin, plot.y0, plot.x1 + legend_margin + legend.width(),
                        plot.y0 + legend.height()};
    }
  }
  Axis x_axis = linear_axis(x0, x1, plot.width(), 5.5 * fonts.tick);
  // Long x labels: fewer ticks until they stop overlapping.
  for (int target_px = 8; max_label_width(x_axis, fonts.tick) * 1.3 * x_axis.ticks.size() > plot.width() &&
                          x_axis.ticks.size() > 2 && target_px < 40;
       target_px += 2)
    x_axis = linear_axis(x0, x1, plot.width(), target_px * fonts.tick);

  const auto px_x = [&](double v) {
    return plot.x0 + (v - x_axis.lo) / (x_axis.hi - x_axis.lo) * plot.width();
  };
  const auto px_y = [&](double v) {
    return plot.y1 - (v - y_axis.lo) / (y_axis.hi - y_axis.lo) * plot.height();
  };
  const auto to_px = [&](Point p) { return Point{px_x(p.x), px_y(p.y)}; };
  // Crisp 1-pixel lines sit on pixel centres.
  const auto snap = [](double v) { return std::floor(v) + 0.5; };

  // Grid behind the data.
  canvas.pixel_space();
  canvas.color(kGrid);
  canvas.pen(1.0);
  for (const Tick& t : x_axis.ticks) canvas.line(snap(px_x(t.value)), plot.y0, snap(px_x(t.value)), plot.y1);
  for (const Tick& t : y_axis.ticks) canvas.line(plot.x0, snap(px_y(t.value)), plot.x1, snap(px_y(t.value)));

  // Data: lines in data space (clipped to the axes), dots in pixel space for markers and for isolated
  // points, which a line would not show.
  canvas.data_space(plot, x_axis.lo, x_axis.hi, y_axis.lo, y_axis.hi);
  for (const PreparedSeries& p : prepared) {
    canvas.color(p.color);
    canvas.pen(p.series->width, p.series->dashed);
    for (const std::vector<Point>& run : p.runs) {
      if (run.size() < 2) continue;
      std::vector<double> xs, ys;
      for (const Point& pt : run) {
        xs.push_back(pt.x);
        ys.push_back(pt.y);
      }
      plline(static_cast<PLINT>(xs.size()), xs.data(), ys.data());
    }
  }
  canvas.pixel_space();
  canvas.pen(1.0);
  for (const PreparedSeries& p : prepared) {
    canvas.color(p.color);
    for (const std::vector<Point>& run : p.runs) {
      if (!p.series->markers && run.size() > 1) continue;
      for (const Point& pt : run) {
        const Point q = to_px(pt);
        if (q.x >= plot.x0 && q.x <= plot.x1 && q.y >= plot.y0 && q.y <= plot.y1)
          draw_marker(canvas, q.x, q.y, p.series->width);
      }
    }
  }
  if (!have_data)
    canvas.text((plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2, "no data", fonts.label, 0.5, kMuted);

  // Frame, ticks (outward, left and bottom), labels.
  canvas.color(kFrame);
  canvas.pen(1.0);
  const Rect frame{snap(plot.x0), snap(plot.y0), snap(plot.x1), snap(plot.y1)};
  canvas.stroke_rect(frame);
  for (const Tick& t : x_axis.ticks)
    canvas.line(snap(px_x(t.value)), frame.y1, snap(px_x(t.value)), frame.y1 + tick_len);
  for (const Tick& t : y_axis.ticks)
    canvas.line(frame.x0 - tick_len, snap(px_y(t.value)), frame.x0, snap(px_y(t.value)));
  for (double v : x_axis.minor)
    canvas.line(snap(px_x(v)), frame.y1, snap(px_x(v)), frame.y1 + tick_len * 0.55);
  for (double v : y_axis.minor)
    canvas.line(frame.x0 - tick_len * 0.55, snap(px_y(v)), frame.x0, snap(px_y(v)));
  for (const Tick& t : x_axis.ticks)
    canvas.text(px_x(t.value), frame.y1 + tick_len + tick_gap + 0.55 * fonts.tick, t.label, fonts.tick, 0.5);
  for (const Tick& t : y_axis.ticks)
    canvas.text(frame.x0 - tick_len - tick_gap, px_y(t.value), t.label, fonts.tick, 1.0);

  const double mid_x = (plot.x0 + plot.x1) / 2, mid_y = (plot.y0 + plot.y1) / 2;
  if (!panel.x_label.empty())
    canvas.text(mid_x,
                frame.y1 + tick_len + tick_gap + 1.1 * fonts.tick + 0.5 * fonts.label + 0.35 * fonts.label,
                fit_text(panel.x_label, fonts.label, cell.width()), fonts.label, 0.5);
  if (!panel.y_label.empty())
    canvas.text(frame.x0 - tick_len - tick_gap - y_label_width - 0.75 * fonts.label, mid_y,
                fit_text(panel.y_label, fonts.label, plot.height() + 2 * pad), fonts.label, 0.5, kText, false,
                90);
  if (!panel.title.empty())
    canvas.text(mid_x, plot.y0 - 0.85 * fonts.title, fit_text(panel.title, fonts.title, cell.width(), true),
                fonts.title, 0.5, kText, true);

  if (!entries.empty())
    draw_legend(canvas, entries, legend,
                legend_box ? *legend_box : best_legend_box(legend, prepared, plot, to_px, legend_margin));
}

// ------------------------------------------------------------------------------------------------------
// Confusion matrix.

void draw_confusion(Canvas& canvas, const std::vector<std::vector<int64_t>>& counts,
                    const std::vector<std::string>& names, const std::string& title, const Rect& matrix,
                    double font, double name_font, int stride, double colorbar_x) {
  const int k = static_cast<int>(counts.size());
  const double cell = matrix.width() / k;
  const double tick_len = 0.35 * font;
  std::vector<double> row_total(k, 0);
  for (int t = 0; t < k; ++t)
    for (int p = 0; p < k; ++p) row_total[t] += static_cast<double>(counts[t][p]);
  const auto fraction = [&](int t, int p) { return row_total[t] > 0 ? counts[t][p] / row_total[t] : 0.0; };

  // Cells: the lightest colour under everything, then only the cells that differ (cheap for 1000 classes).
  canvas.pixel_space();
  plcol1(0.0);
  canvas.fill_rect(matrix);
  for (int t = 0; t < k; ++t)
    for (int p = 0; p < k; ++p)
      if (counts[t][p] > 0) {
        plcol1(fraction(t, p));
        canvas.fill_rect({matrix.x0 + p * cell, matrix.y0 + t * cell, matrix.x0 + (p + 1) * cell,
                          matrix.y0 + (t + 1) * cell});
      }
  if (k <= 20) {
    // Counts in the cells, shrunk to fit the widest one; white on dark cells.
    int64_t largest = 0;
    for (const auto& row : counts)
      for (int64_t c : row) largest = std::max(largest, c);
    const std::string widest = std::to_string(largest);
    const double count_font = std::min(font, 0.8 * cell / std::max(1e-9, text_width(widest, 1.0)));
    for (int t = 0; t < k; ++t)
      for (int p = 0; p < k; ++p)
        canvas.text(matrix.x0 + (p + 0.5) * cell, matrix.y0 + (t + 0.5) * cell, std::to_string(counts[t][p]),
                    count_font, 0.5,
                    counts[t][p] == 0      ? kMuted
                    : fraction(t, p) > 0.5 ? kWhite
                                           : kText);
  }
  canvas.color(kFrame);
  canvas.pen(1.0);
  canvas.stroke_rect(matrix);

  // Class names: rows on the left, columns below at 45 degrees (ending at their tick).
  for (int i = 0; i < k; i += stride) {
    const double c = matrix.x0 + (i + 0.5) * cell, r = matrix.y0 + (i + 0.5) * cell;
    canvas.color(kFrame);
    canvas.line(matrix.x0 - tick_len, r, matrix.x0, r);
    canvas.line(c, matrix.y1, c, matrix.y1 + tick_len);
    canvas.text(matrix.x0 - tick_len - 0.3 * font, r, names[i], name_font, 1.0);
    const double d = tick_len + 0.3 * font + 0.35 * name_font;
    canvas.text(c + 0.15 * name_font, matrix.y1 + d, names[i], name_font, 1.0, kText, false, 45);
  }

  // Colour bar with its scale.
  const Rect bar{colorbar_x, matrix.y0, colorbar_x + 1.3 * font, matrix.y1};
  constexpr int kSlices = 128;
  for (int i = 0; i < kSlices; ++i) {
    plcol1((i + 0.5) / kSlices);
    canvas.fill_rect({bar.x0, bar.y1 - (i + 1.0) * bar.height() / kSlices - 0.5, bar.x1,
                      bar.y1 - static_cast<double>(i) * bar.height() / kSlices});
  }
  canvas.color(kFrame);
  canvas.stroke_rect(bar);
  double label_width = 0;
  for (int i = 0; i <= 5; ++i) {
    const double y = bar.y1 - i / 5.0 * bar.height();
    const std::string label = format_fixed(i / 5.0, 1);
    canvas.color(kFrame);
    canvas.line(bar.x1, y, bar.x1 + tick_len, y);
    canvas.text(bar.x1 + tick_len + 0.3 * font, y, label, 0.92 * font, 0.0);
    label_width = std::max(label_width, text_width(label, 0.92 * font));
  }
  canvas.text(bar.x1 + tick_len + 0.3 * font + label_width + 0.9 * font, (bar.y0 + bar.y1) / 2,
              "fraction of true class", font, 0.5, kText, false, -90);

  // The title is centred over the matrix and may use the image's width either side of that centre.
  const double centre = (matrix.x0 + matrix.x1) / 2;
  const double title_room = 2 * std::min(centre, canvas.width() - centre) - font;
  canvas.text(centre, matrix.y0 - 1.15 * font, fit_text(title, 1.15 * font, title_room, true), 1.15 * font,
              0.5, kText, true);
}

}  // namespace

void save_png(const Figure& figure, const std::string& path) {
  RESNET_CHECK(figure.width_px >= 64 && figure.width_px <= 16384 && figure.height_px >= 64 &&
               figure.height_px <= 16384)
      << "figure size " << figure.width_px << "x" << figure.height_px << " px (64..16384 each)";
  RESNET_CHECK(figure.columns >= 0) << "columns = " << figure.columns;
  for (const Panel& panel : figure.panels)
    for (const Series& s : panel.series)
      RESNET_CHECK(s.x.empty() || s.x.size() == s.y.size())
          << "series '" << s.label << "' has " << s.x.size() << " x values but " << s.y.size() << " y values";

  const int w = figure.width_px, h = figure.height_px;
  const int n = static_cast<int>(figure.panels.size());
  const int columns = n == 0 ? 1 : figure.columns == 0 ? n : std::min(figure.columns, n);
  const int rows = n == 0 ? 1 : (n + columns - 1) / columns;
  // Text grows slowly with the panel size: ~13 px for a 560x440 panel (the default two-panel figure).
  const double panel_area = static_cast<double>(w) * h / (columns * rows);
  const Fonts fonts(std::clamp(13.0 * std::pow(panel_area / (560.0 * 440.0), 0.25), 11.0, 22.0));
  render(w, h, path, [&](Canvas& canvas) {
    double top = 0;
    if (!figure.title.empty()) {
      top = 2.2 * fonts.figure_title;
      canvas.text(w / 2.0, 0.5 * fonts.base + 0.8 * fonts.figure_title,
                  fit_text(figure.title, fonts.figure_title, w - fonts.base, true), fonts.figure_title, 0.5,
                  kText, true);
    }
    if (n == 0) return;
    const double cell_w = static_cast<double>(w) / columns, cell_h = (h - top) / rows;
    for (int i = 0; i < n; ++i) {
      const int r = i / columns, c = i % columns;
      const Rect cell{c * cell_w, top + r * cell_h, (c + 1) * cell_w, top + (r + 1) * cell_h};
      draw_panel(canvas, figure.panels[i], cell, fonts);
    }
  });
}

void save_confusion_matrix_png(const std::vector<std::vector<int64_t>>& counts,
                               const std::vector<std::string>& class_names, const std::string& title,
                               const std::string& path) {
  const int k = static_cast<int>(counts.size());
  RESNET_CHECK(k >= 1 && k <= 10000) << "confusion matrix with " << k << " classes";
  for (int t = 0; t < k; ++t) {
    RESNET_CHECK_EQ(counts[t].size(), counts.size()) << "(row " << t << " of the confusion matrix)";
    for (int64_t c : counts[t]) RESNET_CHECK(c >= 0) << "negative count " << c << " in row " << t;
  }
  RESNET_CHECK(class_names.empty() || class_names.size() == counts.size())
      << class_names.size() << " class names for " << k << " classes";

  const double font = 13;
  // The matrix grows with the class count: roomy cells with counts up to 20 classes, then a heat map.
  const double side = k <= 20 ? std::clamp(k * 56.0, 300.0, 900.0) : std::clamp(k * 10.0, 700.0, 1600.0);
  const double cell = side / k;
  const double name_font = std::clamp(cell / 1.35, 10.0, font);
  // With many classes, label every 2nd, 5th, 10th, ... class, with room between the labels.
  const double spacing = (k <= 20 ? 1.45 : 2.2) * name_font;
  int stride = 1;
  for (int decade = 1; stride * cell < spacing; decade *= 10)
    for (int m : {1, 2, 5})
      if (stride * cell < spacing) stride = m * decade;
  std::vector<std::string> names;
  double name_width = 0, first_name_width = 0;
  for (int i = 0; i < k; ++i) {
    names.push_back(fit_text(class_names.empty() ? std::to_string(i) : class_names[i], name_font, 12 * font));
    if (i % stride == 0) name_width = std::max(name_width, text_width(names.back(), name_font));
    if (i == 0) first_name_width = text_width(names.back(), name_font);
  }
  const double pad = 0.8 * font, tick = 0.35 * font + 0.3 * font;
  const double diag = std::sqrt(0.5);
  const double left =
      std::max(pad + 1.7 * font + name_width + tick, pad + first_name_width * diag - cell / 2);
  const double top = pad + 2.2 * font;
  const double bottom = tick + (name_width + name_font) * diag + 1.9 * font + pad;
  const double colorbar_gap = 1.0 * font;
  const double right = colorbar_gap + 1.3 * font + tick + text_width("0.0", 0.92 * font) + 2.2 * font + pad;
  const int w = static_cast<int>(std::ceil(left + side + right)),
            h = static_cast<int>(std::ceil(top + side + bottom));
  const Rect matrix{std::round(left) + 0.5, std::round(top) + 0.5, std::round(left) + 0.5 + side,
                    std::round(top) + 0.5 + side};
  render(w, h, path, [&](Canvas& canvas) {
    draw_confusion(canvas, counts, names, title, matrix, font, name_font, stride, matrix.x1 + colorbar_gap);
    canvas.text((matrix.x0 + matrix.x1) / 2, h - pad - 0.6 * font, "Predicted class", font, 0.5);
    canvas.text(pad + 0.6 * font, (matrix.y0 + matrix.y1) / 2, "True class", font, 0.5, kText, false, 90);
  });
}

}  // namespace resnet::plot
