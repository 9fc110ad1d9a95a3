#include "viz/text.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "resnet/core/check.h"

namespace resnet::viz::detail {
namespace {

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

// A 1x1 surface per thread to measure text on (cairo contexts are not shared between threads).
class Measurer {
 public:
  Measurer() { reset(); }
  ~Measurer() { release(); }
  Measurer(const Measurer&) = delete;
  Measurer& operator=(const Measurer&) = delete;

  cairo_t* get() {
    if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS) reset();  // an error sticks to a context: start over
    return cr_;
  }

 private:
  void reset() {
    release();
    surface_ = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cr_ = cairo_create(surface_);
  }
  void release() {
    if (cr_) cairo_destroy(cr_);
    if (surface_) cairo_surface_destroy(surface_);
    cr_ = nullptr;
    surface_ = nullptr;
  }
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
};

cairo_t* measuring_context() {
  thread_local Measurer measurer;
  return measurer.get();
}

double advance(cairo_t* cr, const std::string& text, double px, bool bold) {
  if (text.empty()) return 0;
  select_font(cr, px, bold);
  cairo_text_extents_t extents;
  cairo_text_extents(cr, text.c_str(), &extents);
  return extents.x_advance;
}

}  // namespace

std::string sanitize(std::string_view text) {
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
    append_utf8(out, cp);
  }
  return out;
}

void select_font(cairo_t* cr, double px, bool bold) {
  cairo_select_font_face(cr, "sans", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, px);
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr, options);
  cairo_font_options_destroy(options);
}

double text_width(std::string_view text, double px, bool bold) {
  cairo_t* cr = measuring_context();
  const size_t k = text.find(kSuperscript);
  double w = advance(cr, std::string(text.substr(0, k)), px, bold);
  if (k != std::string_view::npos)
    w += advance(cr, std::string(text.substr(k + 1)), kSuperscriptScale * px, bold);
  return w;
}

std::string fit_text(std::string_view text, double px, double max_px, bool bold) {
  std::string whole = sanitize(text);
  if (text_width(whole, px, bold) <= max_px) return whole;
  std::vector<size_t> ends;  // byte offset after each of the first kMaxCodePoints code points
  for (size_t i = 0; i < text.size() && ends.size() < kMaxCodePoints;) {
    next_code_point(text, i);
    ends.push_back(i);
  }
  const auto cut = [&](size_t n) { return n == 0 ? std::string() : sanitize(text.substr(0, ends[n - 1])); };
  // Widths grow with the prefix: the longest prefix that fits, by bisection.
  size_t lo = 0, hi = ends.size();  // cut(lo) + ellipsis fits (or lo == 0); cut(hi) + ellipsis may not
  while (lo < hi) {
    const size_t mid = (lo + hi + 1) / 2;
    if (text_width(cut(mid) + "\u2026", px, bold) <= max_px)
      lo = mid;
    else
      hi = mid - 1;
  }
  return cut(lo) + "\u2026";
}

void show_text(cairo_t* cr, std::string_view text, double px, bool bold) {
  const size_t k = text.find(kSuperscript);
  const std::string base(text.substr(0, k));
  if (!base.empty()) cairo_show_text(cr, base.c_str());
  if (k == std::string_view::npos) return;
  const std::string sup(text.substr(k + 1));
  if (!cairo_has_current_point(cr) || sup.empty()) return;
  const double rise = 0.42 * px;
  cairo_rel_move_to(cr, 0, -rise);
  select_font(cr, kSuperscriptScale * px, bold);
  cairo_show_text(cr, sup.c_str());
  cairo_rel_move_to(cr, 0, rise);
  select_font(cr, px, bold);
}

void require_font(const std::string& what) {
  // A broken cairo measures nothing (or fails): a digit then has no width. (Without any font, cairo falls
  // back to its built-in one, which measures and draws.)
  cairo_t* cr = measuring_context();
  const double w = advance(cr, "0", 10, false);
  const cairo_status_t status = cairo_status(cr);
  if (status != CAIRO_STATUS_SUCCESS || !(w > 0))
    throw UserError(
        "cannot draw text in '" + what + "': cairo cannot measure text in its \"sans\" font (" +
        (status != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(status) : "no glyph has a width") +
        "). Reinstall cairo and a font: `apt-get install --reinstall libcairo2 fonts-dejavu-core`");
}

TextMask render_text(std::string_view text, double px, bool bold) {
  TextMask mask;
  cairo_t* m = measuring_context();
  select_font(m, px, bold);
  cairo_font_extents_t font;
  cairo_font_extents(m, &font);
  mask.left = 1;
  mask.baseline = static_cast<int>(std::ceil(font.ascent));
  mask.height = std::max(1, mask.baseline + static_cast<int>(std::ceil(font.descent)));
  mask.width = std::max(1, static_cast<int>(std::ceil(text_width(text, px, bold))) + 2 * mask.left);
  cairo_surface_t* surface = cairo_image_surface_create(CAIRO_FORMAT_A8, mask.width, mask.height);
  cairo_t* cr = cairo_create(surface);
  select_font(cr, px, bold);
  cairo_set_source_rgba(cr, 0, 0, 0, 1);
  cairo_move_to(cr, mask.left, mask.baseline);
  show_text(cr, text, px, bold);
  cairo_surface_flush(surface);
  const cairo_status_t status = cairo_status(cr);
  mask.alpha.assign(static_cast<size_t>(mask.width) * mask.height, 0);
  if (status == CAIRO_STATUS_SUCCESS && cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS) {
    const unsigned char* data = cairo_image_surface_get_data(surface);
    const int stride = cairo_image_surface_get_stride(surface);
    for (int y = 0; y < mask.height; ++y)
      std::memcpy(mask.alpha.data() + static_cast<size_t>(y) * mask.width,
                  data + static_cast<size_t>(y) * stride, mask.width);
  }
  cairo_destroy(cr);
  cairo_surface_destroy(surface);
  if (status == CAIRO_STATUS_NO_MEMORY) throw std::bad_alloc();
  return mask;
}

}  // namespace resnet::viz::detail
