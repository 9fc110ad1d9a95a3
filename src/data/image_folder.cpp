#include "resnet/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>

#include "resnet/data/image.h"

namespace resnet::data {
namespace {

namespace fs = std::filesystem;

bool hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

bool image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Image files under `dir` in torchvision's order: sorted by containing directory, then by file name
// (torchvision walks sorted(os.walk(dir)) and sorts each directory's file names).
std::vector<std::string> list_images(const fs::path& dir) {
  std::vector<std::pair<std::string, std::string>> found;  // (directory, file name)
  fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink), end;
  for (; it != end; ++it) {
    const fs::directory_entry& entry = *it;
    if (hidden(entry.path())) {
      if (entry.is_directory()) it.disable_recursion_pending();
      continue;
    }
    // Not "is_regular_file": a broken link should fail loudly on load rather than vanish from the set.
    if (entry.is_directory() || !image_extension(entry.path())) continue;
    found.emplace_back(entry.path().parent_path().string(), entry.path().filename().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (const auto& [parent, name] : found) paths.push_back((fs::path(parent) / name).string());
  return paths;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& name : names) s += (s.empty() ? "'" : ", '") + name + "'";
  return s;
}

}  // namespace

ImageFolder::ImageFolder(const std::string& root, int64_t channels) : root_(root), channels_(channels) {
  if (channels != 0 && channels != 1 && channels != 3)
    throw UserError("image folder channels must be 0 (as the first image), 1 (grey) or 3 (RGB), got " +
                    std::to_string(channels));
  const std::string layout =
      "an image folder is laid out as ROOT/<class name>/<images>.png|.jpg|.jpeg, e.g. '" + root +
      "/cat/001.jpg' and '" + root + "/dog/002.png'";
  std::error_code ec;
  if (!fs::exists(root, ec)) throw UserError("image folder '" + root + "' does not exist (" + layout + ")");
  if (!fs::is_directory(root, ec))
    throw UserError("image folder '" + root + "' is not a directory (" + layout + ")");

  try {
    int64_t loose_images = 0;
    for (const fs::directory_entry& entry : fs::directory_iterator(root)) {
      if (hidden(entry.path())) continue;
      if (entry.is_directory())
        class_names_.push_back(entry.path().filename().string());
      else if (image_extension(entry.path()))
        ++loose_images;
    }
    if (class_names_.empty())
      throw UserError("image folder '" + root + "' has no class subdirectories" +
                      (loose_images ? " (it holds " + std::to_string(loose_images) +
                                          " images directly: move them into one folder per class)"
                                    : "") +
                      "; " + layout);
    std::sort(class_names_.begin(),
              class_names_.end());  // std::string orders bytes as unsigned: torchvision's

    std::vector<std::string> empty;
    for (size_t k = 0; k < class_names_.size(); ++k) {
      const std::vector<std::string> images = list_images(fs::path(root) / class_names_[k]);
      if (images.empty()) empty.push_back(class_names_[k]);
      paths_.insert(paths_.end(), images.begin(), images.end());
      labels_.insert(labels_.end(), images.size(), static_cast<int64_t>(k));
    }
    if (!empty.empty())
      throw UserError("image folder '" + root + "': class folder" + (empty.size() > 1 ? "s " : " ") +
                      quoted_list(empty) + " hold" + (empty.size() > 1 ? "" : "s") +
                      " no .png/.jpg/.jpeg images (a class that is never seen cannot be learned: add images "
                      "or remove the folder)");
  } catch (const fs::filesystem_error& e) {
    throw UserError("cannot list image folder '" + root + "': " + e.what() +
                    " (check permissions and links)");
  }

  if (channels_ == 0) {
    // The first image that decodes decides; a few corrupt leading files should not make the set unusable.
    std::optional<SampleError> first_error;
    Image probe;
    for (size_t i = 0; i < paths_.size() && i < 16 && channels_ == 0; ++i) {
      try {
        decode_image(paths_[i], probe, 0);
        channels_ = probe.channels == 1 ? 1 : 3;
      } catch (const SampleError& e) {
        if (!first_error) first_error = e;
      }
    }
    if (channels_ == 0) throw *first_error;
  }
}

int64_t ImageFolder::label(int64_t index) const {
  RESNET_CHECK(index >= 0 && index < size()) << index << " of " << size();
  return labels_[static_cast<size_t>(index)];
}

void ImageFolder::load(int64_t index, Image& out) const {
  RESNET_CHECK(index >= 0 && index < size()) << index << " of " << size();
  decode_image(paths_[static_cast<size_t>(index)], out, channels_);
}

std::string ImageFolder::source(int64_t index) const {
  RESNET_CHECK(index >= 0 && index < size()) << index << " of " << size();
  return paths_[static_cast<size_t>(index)];
}

std::string ImageFolder::describe() const {
  return "image folder " + root_ + " (" + std::to_string(size()) + " images, " +
         std::to_string(num_classes()) + " classes)";
}

}  // namespace resnet::data
