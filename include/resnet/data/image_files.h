// Finding image files on disk: what an image folder data set and `resnet predict`/`explain` read.
// An image file is one named .png, .jpg or .jpeg (any case); names starting with '.' are hidden and skipped.
#pragma once

#include <string>
#include <vector>

namespace resnet::data {

bool has_image_extension(const std::string& path);
bool is_hidden(const std::string& path);

// The image files under `dir`, recursively (following directory links, skipping hidden entries), in
// torchvision's order: sorted by containing directory, then by file name. Throws std::filesystem's error
// on an unreadable directory.
std::vector<std::string> list_images(const std::string& dir);

// `path` itself when it is not a directory (its decoder reports whatever is wrong with it), else the
// images under it (list_images). Throws UserError naming the directory when it holds none.
std::vector<std::string> image_files(const std::string& path);

}  // namespace resnet::data
