#include "resnet/infer/calibration_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "resnet/io/atomic_file.h"

namespace resnet::infer {

namespace fs = std::filesystem;

std::string default_calibration_path(const std::string& checkpoint) {
  if (fs::is_directory(checkpoint)) return (fs::path(checkpoint) / "calibration.json").string();
  fs::path p(checkpoint);
  return (p.parent_path() / (p.stem().string() + ".calibration.json")).string();
}

Calibration load_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw UserError("cannot read calibration file '" + path +
                    "': make it with `resnet quantize --checkpoint RUN` (or pass --calibration FILE)");
  std::stringstream text;
  text << in.rdbuf();
  return Calibration::from_json(text.str(), path);
}

Calibration calibration_for(Precision precision, const std::string& checkpoint, const std::string& file) {
  if (precision != Precision::int8) return {};
  return load_calibration(file.empty() ? default_calibration_path(checkpoint) : file);
}

void save_calibration(const std::string& path, const Calibration& calibration) {
  io::write_text_atomically(path, calibration.to_json());
}

}  // namespace resnet::infer
