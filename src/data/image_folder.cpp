#include "resnet/data/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "resnet/data/image.h"
#include "resnet/data/image_files.h"

namespace resnet::data {
namespace {

namespace fs = std::filesystem;

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
      if (is_hidden(entry.path().string())) continue;
      if (entry.is_directory())
        class_names_.push_back(entry.path().filename().string());
      else if (has_image_extension(entry.path().string()))
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
      const std::vector<std::string> images = list_images((fs::path(root) / class_names_[k]).string());
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
