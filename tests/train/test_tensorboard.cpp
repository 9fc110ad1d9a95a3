#include "resnet/train/tensorboard.h"

#include <gtest/gtest.h>

#include "resnet/core/check.h"
#include "resnet/io/tfrecord.h"

namespace resnet::train {
namespace {

TEST(TensorBoard, EventsDecodeToWhatWasWritten) {
  EventFile file(1234.5);
  file.add_scalar("eval/accuracy", 40, 91.25);
  // A PNG's signature and IHDR (3 wide, 2 high, 8-bit RGBA); the event keeps the bytes as given.
  const std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x03\0\0\0\x02\x08\x06\0\0\0", 29);
  file.add_png("confusion_matrix", 40, png);
  const std::vector<Event> events = read_event_file(file.bytes(), "x");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_DOUBLE_EQ(events[0].wall_time, 1234.5);
  EXPECT_EQ(events[1].tag, "eval/accuracy");
  EXPECT_EQ(events[1].step, 40);
  EXPECT_FLOAT_EQ(events[1].value, 91.25f);
  EXPECT_FALSE(events[1].is_image);
  EXPECT_TRUE(events[2].is_image);
  EXPECT_EQ(events[2].png, png);
  // The bytes of one scalar event, by the wire format: Event{wall_time(1): fixed64, step(2): varint 40,
  // summary(5): {value(1): {tag(1): "lr", simple_value(2): fixed32}}}.
  EventFile one(0);
  one.add_scalar("lr", 40, 0.5);
  const std::string expected = std::string("\x09\0\0\0\0\0\0\0\0\x10\x28\x2a\x0b\x0a\x09\x0a\x02lr\x15", 20) +
                               std::string("\0\0\0\x3f", 4);
  EXPECT_EQ(io::read_tfrecords(one.bytes(), "one")[1], expected);
}

}  // namespace
}  // namespace resnet::train
