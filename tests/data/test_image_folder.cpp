// ImageFolder (resnet/data/image_folder.h) and split_indices (resnet/data/dataset.h). Each test builds its
// tree of tiny PNG/JPEG files with write_png/write_jpeg in a fresh temporary directory.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "resnet/data/image.h"
#include "resnet/data/image_folder.h"
#include "temp_dir.h"

namespace resnet::data {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

// A flat image whose every pixel is `value` (so a decoded sample identifies its file, even through JPEG).
Image flat(int64_t channels, int64_t h, int64_t w, uint8_t value) {
  Image image;
  image.resize(channels, h, w);
  std::fill(image.pixels.begin(), image.pixels.end(), value);
  return image;
}

void put_png(const std::string& path, const Image& image) {
  fs::create_directories(fs::path(path).parent_path());
  write_png(path, image);
}

void put_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void expect_user_error(const std::function<void()>& fn, const std::vector<std::string>& fragments) {
  try {
    fn();
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string what = e.what();
    for (const std::string& f : fragments)
      EXPECT_NE(what.find(f), std::string::npos) << "'" << f << "' not in: " << what;
  }
}

TEST(ImageFolderDataset, ClassesAreSubdirectoriesInByteOrder) {
  TempDir root;
  // Byte order: 'B' (0x42) < '_' (0x5F) < 'a' (0x61) < 'b' < "b2"; torchvision's sorted() agrees.
  const std::vector<std::string> names = {"b", "a", "B", "_x", "b2"};
  for (size_t k = 0; k < names.size(); ++k)
    put_png(root / (names[k] + "/img.png"), flat(1, 2, 3, static_cast<uint8_t>(10 * k)));
  put_text(root / "README.txt", "not a class");  // loose files at the top are not classes
  const ImageFolder set(root.str());
  EXPECT_EQ(set.class_names(), (std::vector<std::string>{"B", "_x", "a", "b", "b2"}));
  ASSERT_EQ(set.size(), 5);
  // Samples come class by class; each image's pixel value says which folder it was written into.
  const std::vector<uint8_t> expected_value = {20, 30, 10, 0, 40};
  Image image;
  for (int64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(set.label(i), i);
    set.load(i, image);
    EXPECT_EQ(image.pixels[0], expected_value[i]) << i;
    EXPECT_EQ(set.source(i), (fs::path(root.str()) / set.class_names()[i] / "img.png").string());
  }
  EXPECT_EQ(set.describe(), "image folder " + root.str() + " (5 images, 5 classes)");
  EXPECT_EQ(set.fixed_size(), (std::pair<int64_t, int64_t>{0, 0}));
}

TEST(ImageFolderDataset, RecursiveListingInTorchvisionOrder) {
  TempDir root;
  // torchvision walks sorted directories and sorts file names within each: cat/z.png (in "cat") comes before
  // cat/sub/a.png (in "cat/sub"), and "cat/sub-x" sorts before "cat/sub/deeper" ('-' < '/').
  for (const char* p :
       {"cat/z.png", "cat/b.png", "cat/sub/a.png", "cat/sub/deeper/c.png", "cat/sub-x/d.png", "dog/1.png"})
    put_png(root / p, flat(1, 4, 4, 1));
  const ImageFolder set(root.str());
  std::vector<std::string> rel;
  for (int64_t i = 0; i < set.size(); ++i)
    rel.push_back(fs::relative(set.source(i), root.str()).generic_string());
  EXPECT_EQ(rel, (std::vector<std::string>{"cat/b.png", "cat/z.png", "cat/sub/a.png", "cat/sub-x/d.png",
                                           "cat/sub/deeper/c.png", "dog/1.png"}));
  EXPECT_EQ(set.label(4), 0);
  EXPECT_EQ(set.label(5), 1);
}

TEST(ImageFolderDataset, ExtensionsAreCaseInsensitiveAndOthersIgnored) {
  TempDir root;
  const Image image = flat(3, 4, 4, 100);
  put_png(root / "c/a.PNG", image);
  put_png(root / "c/b.Jpg", image);  // a PNG named .Jpg: listed by extension, decoded by content
  write_jpeg(root / "c/c.JPEG", image);
  write_jpeg(root / "c/d.jpeg", image);
  put_text(root / "c/notes.txt", "x");
  put_text(root / "c/anim.gif", "GIF89a");
  put_text(root / "c/png", "no extension");
  put_text(root / "c/x.png.bak", "backup");
  put_png(root / "c/.hidden.png", image);   // hidden file
  put_png(root / "c/.cache/e.png", image);  // hidden directory
  put_png(root / ".trash/f.png", image);    // hidden class
  const ImageFolder set(root.str());
  EXPECT_EQ(set.class_names(), (std::vector<std::string>{"c"}));
  std::vector<std::string> names;
  for (int64_t i = 0; i < set.size(); ++i) names.push_back(fs::path(set.source(i)).filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"a.PNG", "b.Jpg", "c.JPEG", "d.jpeg"}));
  Image out;
  for (int64_t i = 0; i < set.size(); ++i) {
    set.load(i, out);
    EXPECT_EQ(out.channels, 3);
    EXPECT_EQ(out.pixels[0], 100) << names[i];  // flat colour survives JPEG exactly
  }
}

TEST(ImageFolderDataset, MixedGreyAndColourFollowChannels) {
  TempDir root;
  put_png(root / "a/1_grey.png", flat(1, 2, 2, 200));
  Image rgb = flat(3, 2, 2, 0);
  std::fill(rgb.pixels.begin(), rgb.pixels.begin() + 4, 255);  // pure red
  put_png(root / "a/2_red.png", rgb);

  const ImageFolder decide(root.str());  // first image grey → 1 channel; red → luma 76
  EXPECT_EQ(decide.channels(), 1);
  Image out;
  decide.load(1, out);
  EXPECT_EQ(out.channels, 1);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(4, 76));

  const ImageFolder colour(root.str(), 3);  // grey replicated
  EXPECT_EQ(colour.channels(), 3);
  colour.load(0, out);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(12, 200));
  colour.load(1, out);
  EXPECT_EQ(out.pixels, rgb.pixels);

  const ImageFolder grey(root.str(), 1);
  grey.load(0, out);
  EXPECT_EQ(out.pixels, std::vector<uint8_t>(4, 200));

  TempDir colour_first;
  put_png(colour_first / "a/1.png", rgb);
  put_png(colour_first / "a/2.png", flat(1, 2, 2, 9));
  EXPECT_EQ(ImageFolder(colour_first.str()).channels(), 3);

  expect_user_error([&] { ImageFolder(root.str(), 2); }, {"channels", "got 2"});
}

TEST(ImageFolderDataset, CorruptImageRaisesSampleErrorOnLoad) {
  TempDir root;
  put_png(root / "a/good.png", flat(3, 3, 3, 5));
  put_text(root / "a/zbad.png", "garbage, not a png");
  const ImageFolder set(root.str());  // listing does not decode: the bad file is only found on load
  ASSERT_EQ(set.size(), 2);
  Image out;
  set.load(0, out);
  try {
    set.load(1, out);
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_NE(std::string(e.what()).find(root / "a/zbad.png"), std::string::npos) << e.what();
  }
  // With channels = 0, a corrupt first file is passed over when deciding.
  TempDir bad_first;
  put_text(bad_first / "a/0.jpg", "not a jpeg");
  put_png(bad_first / "a/1.png", flat(1, 3, 3, 5));
  EXPECT_EQ(ImageFolder(bad_first.str()).channels(), 1);
  // …and when nothing decodes, the first file's error comes back.
  TempDir all_bad;
  put_text(all_bad / "a/0.jpg", "not a jpeg");
  EXPECT_THROW(ImageFolder(all_bad.str()), SampleError);
}

TEST(ImageFolderDataset, EmptyClassIsAnError) {
  TempDir root;
  put_png(root / "cat/1.png", flat(1, 2, 2, 1));
  fs::create_directories(root / "dog");
  put_text(root / "emu/readme.txt", "no images here");
  put_png(root / "emu/.hidden.png", flat(1, 2, 2, 1));
  expect_user_error([&] { ImageFolder(root.str(), 1); },
                    {root.str(), "'dog', 'emu'", "no .png/.jpg/.jpeg images"});
}

TEST(ImageFolderDataset, RootErrors) {
  TempDir tmp;
  expect_user_error([&] { ImageFolder(tmp / "missing"); },
                    {tmp / "missing", "does not exist", "<class name>"});
  put_text(tmp / "file.png", "x");
  expect_user_error([&] { ImageFolder(tmp / "file.png"); }, {"not a directory"});
  put_png(tmp / "flat/1.png", flat(1, 2, 2, 1));
  put_png(tmp / "flat/2.png", flat(1, 2, 2, 1));
  expect_user_error([&] { ImageFolder(tmp / "flat"); },
                    {tmp / "flat", "no class subdirectories", "holds 2 images directly", "<class name>"});
  fs::create_directories(tmp / "empty");
  expect_user_error([&] { ImageFolder(tmp / "empty"); }, {"no class subdirectories"});
}

TEST(ImageFolderSplit, SplitIndicesIsDeterministicAndDisjoint) {
  const auto [train, val] = split_indices(100, 0.2, 42);
  EXPECT_EQ(train.size(), 80u);
  EXPECT_EQ(val.size(), 20u);
  EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
  EXPECT_TRUE(std::is_sorted(val.begin(), val.end()));
  std::set<int64_t> all(train.begin(), train.end());
  for (int64_t i : val) EXPECT_TRUE(all.insert(i).second) << i << " in both splits";
  EXPECT_EQ(all.size(), 100u);
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 99);

  const auto again = split_indices(100, 0.2, 42);
  EXPECT_EQ(again.first, train);
  EXPECT_EQ(again.second, val);
  const auto other = split_indices(100, 0.2, 43);
  EXPECT_NE(other.second, val);                           // the seed matters
  EXPECT_EQ(split_indices(7, 0.5, 1).second.size(), 4u);  // round(3.5) = 4
  EXPECT_TRUE(split_indices(10, 0.0, 1).second.empty());
}

TEST(ImageFolderSplit, SubsetOfAFolderKeepsLabelsAndSources) {
  TempDir root;
  for (int k = 0; k < 3; ++k)
    for (int i = 0; i < 4; ++i)
      put_png(root / (std::string(1, 'c')
                          .append(std::to_string(k))
                          .append("/")
                          .append(std::to_string(i))
                          .append(".png")),
              flat(1, 2, 2, static_cast<uint8_t>(10 * k + i)));
  const auto folder = std::make_shared<ImageFolder>(root.str());
  const auto [train, val] = split_indices(folder->size(), 0.25, 7);
  ASSERT_EQ(val.size(), 3u);
  const SubsetDataset subset(folder, val, "val");
  Image out;
  for (int64_t j = 0; j < subset.size(); ++j) {
    const int64_t i = val[static_cast<size_t>(j)];
    EXPECT_EQ(subset.label(j), i / 4);
    EXPECT_EQ(subset.source(j), folder->source(i));
    subset.load(j, out);
    EXPECT_EQ(out.pixels[0], 10 * (i / 4) + i % 4);
  }
}

}  // namespace
}  // namespace resnet::data
