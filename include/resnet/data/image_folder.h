// ImageFolder: images on disk laid out as torchvision's ImageFolder expects,
//   root/<class name>/<any subfolders>/<image>.png|.jpg|.jpeg
//
//  - Classes are root's immediate subdirectories, sorted by name in byte order (as torchvision sorts);
//    class k is the k-th name. Names and files starting with '.' are skipped (.git, .DS_Store, ._x.jpg).
//  - Images are the files under each class directory, recursively (directory symlinks followed), whose
//    extension is .png, .jpg or .jpeg in any case; other files are ignored. They are ordered as
//    torchvision orders them: by containing directory path, then by file name — so indices match a
//    torchvision ImageFolder over the same tree.
//  - Only paths are held; load() decodes with decode_image(path, channels()), so one folder may mix
//    grey and colour, PNG and JPEG, and any sizes (fixed_size() is {0, 0}). A corrupt file throws
//    SampleError from load(), not from the constructor.
//  - channels: 1 or 3 forces every image to grey or RGB; 0 takes the first image that decodes: 1 if it is
//    grey, else 3.
//
// Errors (UserError): root missing or not a directory, no class subdirectories (with the layout expected),
// classes without images (naming them: a class that can never be predicted is almost always a mistake),
// channels other than 0, 1, 3. load() is const and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "resnet/data/dataset.h"

namespace resnet::data {

class ImageFolder : public Dataset {
 public:
  explicit ImageFolder(const std::string& root, int64_t channels = 0);

  int64_t size() const override { return static_cast<int64_t>(paths_.size()); }
  int64_t label(int64_t index) const override;
  void load(int64_t index, Image& out) const override;
  const std::vector<std::string>& class_names() const override { return class_names_; }
  int64_t channels() const override { return channels_; }
  std::pair<int64_t, int64_t> fixed_size() const override { return {0, 0}; }
  std::string describe() const override;
  std::string source(int64_t index) const override;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  int64_t channels_ = 0;
  std::vector<std::string> class_names_;
  std::vector<std::string> paths_;
  std::vector<int64_t> labels_;
};

}  // namespace resnet::data
