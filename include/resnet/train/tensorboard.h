// TensorBoard event files: `tensorboard --logdir runs` shows a run's scalars (loss, accuracy, learning
// rate, throughput) and its confusion matrix. The trainer rewrites the whole file from its records at every
// epoch, as it does metrics.jsonl, so a resumed or killed run never holds a half-written or repeated event.
//
// Each event is a protobuf `Event` message (TensorFlow's event.proto: wall_time = 1, step = 2,
// file_version = 3, summary = 5; Summary.value = 1; Value: tag = 1, simple_value = 2, image = 4; Image:
// height = 1, width = 2, colorspace = 3, encoded_image_string = 4) in a TFRecord (io/tfrecord.h),
// encoded with protobuf's wire-format writer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace resnet::train {

// The name TensorBoard looks for ("events.out.tfevents.*"), fixed so that each rewrite replaces it.
inline constexpr const char* kEventFileName = "events.out.tfevents.resnet";

class EventFile {
 public:
  explicit EventFile(double wall_time);  // starts with the file_version event
  void add_scalar(const std::string& tag, int64_t step, double value);
  // A PNG file's bytes, shown under Images (its size and colour type are read from its header).
  void add_png(const std::string& tag, int64_t step, const std::string& png);
  const std::string& bytes() const { return bytes_; }

 private:
  double wall_time_;
  std::string bytes_;
};

// What a test or a tool reads back: one decoded scalar or image event.
struct Event {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version, tag, png;
  float value = 0;
  bool is_image = false;
};
// UserError naming `name` when a record or message is damaged.
std::vector<Event> read_event_file(const std::string& bytes, const std::string& name);

}  // namespace resnet::train
