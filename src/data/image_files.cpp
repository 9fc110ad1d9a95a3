#include "resnet/data/image_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <utility>

#include "resnet/core/check.h"

namespace resnet::data {

namespace fs = std::filesystem;

bool has_image_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool is_hidden(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  return !name.empty() && name[0] == '.';
}

std::vector<std::string> list_images(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> found;  // (directory, file name)
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink), end;
  for (; it != end; ++it) {
    const fs::directory_entry& entry = *it;
    if (is_hidden(entry.path().string())) {
      if (entry.is_directory()) it.disable_recursion_pending();
      continue;
    }
    // Not "is_regular_file": a broken link should fail loudly on load rather than vanish from the list.
    if (entry.is_directory() || !has_image_extension(entry.path().string())) continue;
    found.emplace_back(entry.path().parent_path().string(), entry.path().filename().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (const auto& [parent, name] : found) paths.push_back((fs::path(parent) / name).string());
  return paths;
}

std::vector<std::string> image_files(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {path};
  std::vector<std::string> files;
  try {
    files = list_images(path);
  } catch (const fs::filesystem_error& e) {
    throw UserError("cannot list directory '" + path + "': " + e.what() + " (check permissions and links)");
  }
  if (files.empty()) throw UserError("directory '" + path + "' holds no .png/.jpg/.jpeg images");
  return files;
}

}  // namespace resnet::data
