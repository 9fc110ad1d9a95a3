#include "resnet/models/class_names.h"

#include <gtest/gtest.h>

#include <fstream>

#include "resnet/core/check.h"
#include "temp_dir.h"

namespace resnet::models {
namespace {

std::string error_of(const std::string& path, int64_t classes) {
  try {
    read_class_names(path, classes);
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(ClassNames, OneALineWithWindowsLineEndsAndTrailingBlankLines) {
  testing::TempDir dir;
  std::ofstream(dir / "names.txt") << "cat\r\ndog\r\nsea lion\r\n\r\n\n";
  EXPECT_EQ(read_class_names(dir / "names.txt", 3), std::vector<std::string>({"cat", "dog", "sea lion"}));
}

TEST(ClassNames, BlankNamesWrongCountsAndMissingFilesAreNamed) {
  testing::TempDir dir;
  std::ofstream(dir / "blank.txt") << "cat\n\ndog\n";
  const std::string blank = error_of(dir / "blank.txt", 3);
  EXPECT_NE(blank.find("line 2 is blank"), std::string::npos) << blank;
  std::ofstream(dir / "two.txt") << "cat\ndog\n";
  const std::string count = error_of(dir / "two.txt", 3);
  EXPECT_NE(count.find("has 2 names for a model of 3 classes"), std::string::npos) << count;
  const std::string missing = error_of(dir / "none.txt", 3);
  EXPECT_NE(missing.find("cannot open --class-names"), std::string::npos) << missing;
  EXPECT_NE(missing.find("none.txt"), std::string::npos) << missing;
}

}  // namespace
}  // namespace resnet::models
