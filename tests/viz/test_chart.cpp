// PNG figures: the file is a PNG of the requested size with something drawn on it, written atomically
// (no temporary left behind, an existing file replaced), edge-case data renders, repeated and threaded
// calls work, and bad paths or broken contracts throw the right error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "resnet/core/check.h"
#include "resnet/viz/chart.h"

namespace resnet::viz {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "resnet_plot_test_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool has_png_signature(const std::string& bytes) {
  return bytes.size() >= 8 && bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) == 0;
}

struct Size {
  uint32_t width = 0, height = 0;
  bool operator==(const Size&) const = default;
};

uint32_t big_endian(const std::string& b, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// The 8 bytes after "IHDR": width and height, big-endian.
Size png_size(const std::string& bytes) {
  const size_t at = bytes.find("IHDR");
  if (at == std::string::npos || at + 12 > bytes.size()) return {};
  return {big_endian(bytes, at + 4), big_endian(bytes, at + 8)};
}

std::ostream& operator<<(std::ostream& os, const Size& s) {
  return os << s.width << "x" << s.height;
}

// Training curves: a decaying loss and a rising accuracy, `phase` shifts them.
Figure curves(int width, int height, double phase = 0) {
  Panel loss{.title = "loss", .x_label = "epoch", .y_label = "cross-entropy"};
  Panel acc{.title = "accuracy", .x_label = "epoch", .y_label = "top-1 (%)", .y_min = 0, .y_max = 100};
  Series train{.label = "train"}, test{.label = "test", .width = 2.5}, train_acc{.label = "train"};
  for (int e = 0; e < 60; ++e) {
    train.x.push_back(e);
    train.y.push_back(2.3 * std::exp(-(e + phase) / 15.0) + 0.05 * std::sin(e));
    test.x.push_back(e);
    test.y.push_back(2.3 * std::exp(-(e + phase) / 18.0) + 0.3);
    train_acc.y.push_back(100 - 90 * std::exp(-(e + phase) / 12.0));
  }
  loss.series = {train, test};
  acc.series = {train_acc};
  return Figure{.title = "run", .panels = {loss, acc}, .width_px = width, .height_px = height};
}

// An all-white image of the same size: nothing to draw.
std::string blank_png(const std::string& path, Size size) {
  save_png(Figure{.width_px = static_cast<int>(size.width), .height_px = static_cast<int>(size.height)},
           path);
  return read_bytes(path);
}

std::vector<std::vector<int64_t>> confusion(int k, int64_t correct, int64_t spread) {
  std::vector<std::vector<int64_t>> counts(k, std::vector<int64_t>(k, 0));
  for (int t = 0; t < k; ++t)
    for (int p = 0; p < k; ++p) counts[t][p] = t == p ? correct + 7 * t : (t * 3 + p * 5) % (spread + 1);
  return counts;
}

TEST_F(PlotTest, PlotPngWritesAPngOfTheRequestedSize) {
  const std::string out = path("curves.png");
  save_png(curves(900, 420), out);
  const std::string bytes = read_bytes(out);
  ASSERT_TRUE(has_png_signature(bytes)) << "not a PNG: " << bytes.size() << " bytes";
  EXPECT_EQ(png_size(bytes), (Size{900, 420}));
  EXPECT_EQ(entries(), std::vector<std::string>{"curves.png"}) << "a temporary file was left behind";
}

TEST_F(PlotTest, PlotPngDefaultSizeIs1200x500) {
  const std::string out = path("default.png");
  Figure figure = curves(1, 1);
  figure.width_px = Figure{}.width_px;
  figure.height_px = Figure{}.height_px;
  save_png(figure, out);
  EXPECT_EQ(png_size(read_bytes(out)), (Size{1200, 500}));
}

TEST_F(PlotTest, PlotPngImageIsNotBlank) {
  save_png(curves(800, 400), path("curves.png"));
  const std::string drawn = read_bytes(path("curves.png"));
  const std::string blank = blank_png(path("blank.png"), {800, 400});
  ASSERT_TRUE(has_png_signature(blank));
  EXPECT_EQ(png_size(blank), (Size{800, 400}));
  // Lines, text and antialiasing compress far worse than a uniform white page.
  EXPECT_GT(drawn.size(), 4 * blank.size()) << "drawn " << drawn.size() << " bytes vs blank " << blank.size();
}

TEST_F(PlotTest, PlotPngIsDeterministicAndFollowsTheData) {
  // Identical figures give identical bytes (nothing leaks from one call's cairo surface into the next);
  // different data give different bytes.
  save_png(curves(600, 300), path("a.png"));
  save_png(curves(600, 300, 5.0), path("b.png"));
  save_png(curves(600, 300), path("c.png"));
  const std::string a = read_bytes(path("a.png")), b = read_bytes(path("b.png")),
                    c = read_bytes(path("c.png"));
  EXPECT_EQ(a, c);
  EXPECT_NE(a, b);
}

TEST_F(PlotTest, PlotPngReplacesAnExistingFile) {
  const std::string out = path("curves.png");
  std::ofstream(out) << "not a png";
  save_png(curves(640, 320), out);
  const std::string bytes = read_bytes(out);
  EXPECT_TRUE(has_png_signature(bytes));
  EXPECT_EQ(png_size(bytes), (Size{640, 320}));
  EXPECT_EQ(entries(), std::vector<std::string>{"curves.png"});
}

TEST_F(PlotTest, PlotPngEdgeCasesRender) {
  Series empty{.label = "empty"};
  Series nan_only{.label = "NaN and inf only", .y = {NAN, INFINITY, -INFINITY}};
  Series single{.label = "one point", .x = {3}, .y = {0.5}};
  Series flat{.label = "constant", .y = {2, 2, 2, 2}};
  Series gappy{.label = "gaps", .x = {0, 1, 2, 3, 4, NAN}, .y = {1, NAN, 3, INFINITY, 5, 6}, .markers = true};
  Series non_positive{.label = "non-positive on log", .y = {-1, 0, 1e-3, 1e-1, 10}, .dashed = true};
  Series zeros{.label = "all zero on log", .y = {0, 0, 0}};
  Panel log_panel{.title = "log", .series = {non_positive, zeros, nan_only}, .log_y = true};
  Panel bad_limits{.series = {flat}, .log_y = true, .y_min = -5, .y_max = NAN};
  Panel crossed_limits{.series = {single}, .y_min = 10, .y_max = 1};
  Panel many{.title = "many long legend entries"};
  for (int i = 0; i < 25; ++i)
    many.series.push_back(
        Series{.label = std::string(300, 'x') + " #" + std::to_string(i), .y = {1.0 * i, i + 1.0}});
  Panel hashes{
      .title = "# signs ## and #u escapes #d",
      .x_label = "<b>&amp;</b>",
      .y_label = "ü ∂L/∂W",
      .series = {Series{.label = "#", .y = {1, 2}}, Series{.label = "bad \xff\xfe UTF-8\n\ttab", .y = {2, 1}},
                 Series{.label = std::string(100000, 'y'), .y = {0, 1}}}};
  const Figure figure{
      .title = "edge cases",
      .panels = {Panel{}, Panel{.series = {empty, nan_only}}, Panel{.series = {single, flat, gappy}},
                 log_panel, bad_limits, crossed_limits, many, hashes},
      .columns = 3,
      .width_px = 1000,
      .height_px = 900};
  const std::string out = path("edge.png");
  ASSERT_NO_THROW(save_png(figure, out));
  const std::string bytes = read_bytes(out);
  EXPECT_TRUE(has_png_signature(bytes));
  EXPECT_EQ(png_size(bytes), (Size{1000, 900}));

  // No panels at all, and the smallest allowed canvas.
  EXPECT_NO_THROW(save_png(Figure{.title = "only a title"}, path("title.png")));
  EXPECT_NO_THROW(
      save_png(Figure{.panels = {Panel{.title = "tiny", .series = {flat}}}, .width_px = 64, .height_px = 64},
               path("tiny.png")));
  EXPECT_EQ(png_size(read_bytes(path("tiny.png"))), (Size{64, 64}));
  EXPECT_EQ(entries(), (std::vector<std::string>{"edge.png", "tiny.png", "title.png"}));
}

TEST_F(PlotTest, PlotPngBrokenContractsThrowCheckError) {
  const Figure mismatched{.panels = {Panel{.series = {Series{.x = {1, 2, 3}, .y = {1, 2}}}}}};
  EXPECT_THROW(save_png(mismatched, path("a.png")), CheckError);
  EXPECT_THROW(save_png(Figure{.width_px = 0, .height_px = 500}, path("b.png")), CheckError);
  EXPECT_THROW(save_png(Figure{.columns = -1}, path("c.png")), CheckError);
  EXPECT_TRUE(entries().empty());
}

TEST_F(PlotTest, PlotPngUnwritablePathThrowsUserErrorNamingThePath) {
  const std::string out = path("missing-dir/curves.png");
  try {
    save_png(curves(400, 300), out);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
  }
  EXPECT_TRUE(entries().empty());
  // Still usable afterwards.
  save_png(curves(400, 300), path("after.png"));
  EXPECT_TRUE(has_png_signature(read_bytes(path("after.png"))));
}

TEST_F(PlotTest, PlotPngRepeatedAndThreadedCalls) {
  // The trainer saves every epoch, possibly from another thread: each call draws on a surface of its own.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i)
        save_png(curves(500, 300, t + 0.1 * i),
                 path("t" + std::to_string(t) + "_" + std::to_string(i) + ".png"));
    });
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> names = entries();
  ASSERT_EQ(names.size(), 20u);
  for (const std::string& name : names) {
    const std::string bytes = read_bytes(path(name));
    EXPECT_TRUE(has_png_signature(bytes)) << name;
    EXPECT_EQ(png_size(bytes), (Size{500, 300})) << name;
  }
}

TEST_F(PlotTest, PlotConfusionRendersTenClasses) {
  const std::vector<std::string> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                          "dog",      "frog",       "horse", "ship", "truck"};
  const std::string out = path("cm10.png");
  save_confusion_matrix_png(confusion(10, 900, 30), names, "CIFAR-10", out);
  const std::string bytes = read_bytes(out);
  ASSERT_TRUE(has_png_signature(bytes));
  const Size size = png_size(bytes);
  // Ten roomy cells plus labels and colour bar.
  EXPECT_GE(size.width, 500u);
  EXPECT_GE(size.height, 500u);
  EXPECT_LE(size.width, 2000u);
  const std::string blank = blank_png(path("blank.png"), size);
  EXPECT_GT(bytes.size(), 4 * blank.size()) << "drawn " << bytes.size() << " bytes vs blank " << blank.size();
  // Another matrix gives another image.
  save_confusion_matrix_png(confusion(10, 100, 90), names, "CIFAR-10", path("cm10b.png"));
  EXPECT_NE(read_bytes(path("cm10b.png")), bytes);
  EXPECT_EQ(entries(), (std::vector<std::string>{"blank.png", "cm10.png", "cm10b.png"}));
}

TEST_F(PlotTest, PlotConfusionRendersThreeClassesAndEdgeCases) {
  // A class with no samples (an all-zero row) must not divide by zero.
  const std::vector<std::vector<int64_t>> counts = {{50, 3, 0}, {7, 40, 3}, {0, 0, 0}};
  const std::string out = path("cm3.png");
  save_confusion_matrix_png(counts, {"negative", "neutral", "positive"}, "3 classes", out);
  const std::string bytes = read_bytes(out);
  ASSERT_TRUE(has_png_signature(bytes));
  const Size size = png_size(bytes);
  EXPECT_GT(size.width, 200u);
  EXPECT_GT(size.height, 200u);
  EXPECT_GT(bytes.size(), 3 * blank_png(path("blank.png"), size).size());
  // Unnamed classes, one class, all zeros, many classes (no counts written, labels thinned).
  EXPECT_NO_THROW(save_confusion_matrix_png({{0}}, {}, "", path("one.png")));
  EXPECT_NO_THROW(save_confusion_matrix_png(confusion(100, 80, 3), {}, "CIFAR-100", path("cm100.png")));
  EXPECT_TRUE(has_png_signature(read_bytes(path("cm100.png"))));
}

TEST_F(PlotTest, PlotConfusionBadInputThrows) {
  EXPECT_THROW(save_confusion_matrix_png({}, {}, "", path("a.png")), CheckError);
  EXPECT_THROW(save_confusion_matrix_png({{1, 2}, {3}}, {}, "", path("b.png")), CheckError);
  EXPECT_THROW(save_confusion_matrix_png({{1, 2}, {3, 4}}, {"only one"}, "", path("c.png")), CheckError);
  EXPECT_THROW(save_confusion_matrix_png({{1, -2}, {3, 4}}, {}, "", path("d.png")), CheckError);
  const std::string out = path("no/such/dir/cm.png");
  try {
    save_confusion_matrix_png(confusion(3, 10, 2), {}, "", out);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(out), std::string::npos) << e.what();
  }
  EXPECT_TRUE(entries().empty());
}

// PLplot needed its cairo driver; cairo needs only a font, and without one falls back to its built-in
// font. Fontconfig reads its configuration once per process, so the fontless case runs in a fresh child
// (the "threadsafe" death-test style re-executes this binary for just this test) whose configuration
// lists no font directory: figures still render, with text.
// In the child: 0 when figures rendered with text and no font on the machine, else non-zero.
int render_without_fonts() {
  std::string dir = (fs::temp_directory_path() / "resnet_plot_nofont_XXXXXX").string();
  if (!mkdtemp(dir.data())) return 3;
  const std::string conf = dir + "/fonts.conf";
  std::ofstream(conf) << "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n"
                      << "<fontconfig><cachedir>" << dir << "/cache</cachedir></fontconfig>\n";
  setenv("FONTCONFIG_FILE", conf.c_str(), 1);  // no <dir>: fontconfig finds no font at all
  int code = 1;
  try {
    save_png(curves(300, 200), dir + "/curves.png");
    save_png(Figure{.title = "only a title", .width_px = 300, .height_px = 200}, dir + "/title.png");
    save_png(Figure{.width_px = 300, .height_px = 200}, dir + "/blank.png");
    const std::string drawn = read_bytes(dir + "/curves.png"), title = read_bytes(dir + "/title.png");
    const std::string blank = read_bytes(dir + "/blank.png");
    const bool sized = png_size(drawn) == Size{300, 200} && png_size(title) == Size{300, 200};
    code = sized && title.size() > blank.size() + 100 ? 0 : 2;  // the title's glyphs cost bytes
    if (code != 0) std::fprintf(stderr, "title %zu bytes, blank %zu\n", title.size(), blank.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "threw: %s\n", e.what());
  }
  fs::remove_all(dir);
  return code;
}

TEST(PlotDeathTest, WithoutFontsTextStillRendersWithCairosBuiltInFont) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(std::_Exit(render_without_fonts()), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace resnet::viz
