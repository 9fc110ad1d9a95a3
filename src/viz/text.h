// Text for charts and pictures, through cairo's toy font API ("sans", regular or bold), unhinted so that
// widths scale with the size and do not depend on where a string is drawn.
//
// Text handed to these functions is sanitised first (sanitize()), except for kSuperscript: everything
// after that byte is drawn as a superscript (tick labels such as 10^-3), which user text can never
// contain since sanitising turns control characters into spaces.
#pragma once

#include <cairo.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resnet::viz::detail {

inline constexpr char kSuperscript = '\x01';
inline constexpr double kSuperscriptScale = 0.75;
// Longest text drawn: nobody reads a 300-character label.
inline constexpr size_t kMaxCodePoints = 200;

// Valid UTF-8 (malformed bytes become U+FFFD), control characters as spaces, cut after kMaxCodePoints
// code points with an ellipsis.
std::string sanitize(std::string_view text);

// Selects the font on `cr` (the options every surface here uses: grey antialiasing, no hinting).
void select_font(cairo_t* cr, double px, bool bold);

// Advance width in pixels of sanitised `text` (which may hold a kSuperscript) at font size `px`.
double text_width(std::string_view text, double px, bool bold = false);

// Plain `text`, sanitised and cut (with an ellipsis) until it fits in `max_px`.
std::string fit_text(std::string_view text, double px, double max_px, bool bold = false);

// Draws sanitised `text` with its baseline starting at cairo's current point (font already selected at
// `px`; handles kSuperscript).
void show_text(cairo_t* cr, std::string_view text, double px, bool bold);

// Throws UserError (naming `what`) when cairo cannot measure text with "sans" (a broken cairo; a machine
// without fonts is fine: cairo then uses its built-in font).
void require_font(const std::string& what);

// Sanitised `text` rendered as an 8-bit coverage mask (0 = background, 255 = ink), one row of `width`
// bytes per pixel row; the baseline is at row `baseline`, the first glyph starts at column `left`.
// Height is about 1.3 * px: ascent plus descent of the font.
struct TextMask {
  int width = 0, height = 0, baseline = 0, left = 0;
  std::vector<uint8_t> alpha{};
};
TextMask render_text(std::string_view text, double px, bool bold = false);

}  // namespace resnet::viz::detail
