#include "resnet/train/tensorboard.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include "resnet/core/check.h"
#include "resnet/io/tfrecord.h"

namespace resnet::train {
namespace {

using google::protobuf::internal::WireFormatLite;
using Coded = google::protobuf::io::CodedOutputStream;

// One message's fields, written in field order into a string.
template <typename Fill>
std::string message(Fill fill) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    Coded coded(&stream);
    fill(coded);
  }
  return out;
}

void put_bytes(Coded& c, int field, const std::string& bytes) {
  WireFormatLite::WriteTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, &c);
  c.WriteVarint32(static_cast<uint32_t>(bytes.size()));
  c.WriteString(bytes);
}

std::string event(double wall_time, int64_t step, const std::string& summary_value) {
  return message([&](Coded& c) {
    WireFormatLite::WriteDouble(1, wall_time, &c);
    WireFormatLite::WriteInt64(2, step, &c);
    put_bytes(c, 5, message([&](Coded& s) { put_bytes(s, 1, summary_value); }));  // Summary.value
  });
}

}  // namespace

EventFile::EventFile(double wall_time) : wall_time_(wall_time) {
  bytes_ += io::tfrecord(message([&](Coded& c) {
    WireFormatLite::WriteDouble(1, wall_time, &c);
    put_bytes(c, 3, "brain.Event:2");
  }));
}

void EventFile::add_scalar(const std::string& tag, int64_t step, double value) {
  const std::string v = message([&](Coded& c) {
    put_bytes(c, 1, tag);
    WireFormatLite::WriteFloat(2, static_cast<float>(value), &c);
  });
  bytes_ += io::tfrecord(event(wall_time_, step, v));
}

void EventFile::add_png(const std::string& tag, int64_t step, const std::string& png) {
  // The IHDR chunk starts every PNG: width and height at bytes 16 and 20 (big-endian), colour type at 25.
  RESNET_CHECK(png.size() > 25) << "not a PNG: " << png.size() << " bytes";
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(png[at + i]);
    return static_cast<int64_t>(v);
  };
  const int64_t width = be32(16), height = be32(20);
  const int colour = static_cast<unsigned char>(png[25]);
  const int64_t channels = colour == 6 ? 4 : colour == 2 ? 3 : colour == 4 ? 2 : 1;
  const std::string image = message([&](Coded& c) {
    WireFormatLite::WriteInt32(1, static_cast<int32_t>(height), &c);
    WireFormatLite::WriteInt32(2, static_cast<int32_t>(width), &c);
    WireFormatLite::WriteInt32(3, static_cast<int32_t>(channels), &c);
    put_bytes(c, 4, png);
  });
  const std::string v = message([&](Coded& c) {
    put_bytes(c, 1, tag);
    put_bytes(c, 4, image);
  });
  bytes_ += io::tfrecord(event(wall_time_, step, v));
}

namespace {

using Input = google::protobuf::io::CodedInputStream;

// Calls on_field(field, wire_type, input) for each field of `bytes`; the callee reads or skips it.
template <typename OnField>
void fields(const std::string& bytes, const std::string& where, OnField on_field) {
  Input in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  while (const uint32_t tag = in.ReadTag()) {
    if (!on_field(WireFormatLite::GetTagFieldNumber(tag), in) && !WireFormatLite::SkipField(&in, tag))
      throw UserError(where + ": a damaged protobuf message");
  }
  if (!in.ConsumedEntireMessage()) throw UserError(where + ": a damaged protobuf message");
}

std::string read_bytes(Input& in, const std::string& where) {
  uint32_t size = 0;
  std::string s;
  if (!in.ReadVarint32(&size) || !in.ReadString(&s, static_cast<int>(size)))
    throw UserError(where + ": a truncated field");
  return s;
}

}  // namespace

std::vector<Event> read_event_file(const std::string& bytes, const std::string& name) {
  std::vector<Event> events;
  for (const std::string& record : io::read_tfrecords(bytes, name)) {
    Event e;
    const std::string where = "'" + name + "', event " + std::to_string(events.size());
    auto read_value = [&](const std::string& value) {
      fields(value, where, [&](int field, Input& in) {
        if (field == 1) return e.tag = read_bytes(in, where), true;
        if (field == 2) {
          uint32_t raw = 0;
          if (!in.ReadLittleEndian32(&raw)) throw UserError(where + ": a truncated float");
          e.value = WireFormatLite::DecodeFloat(raw);
          return true;
        }
        if (field == 4) {
          e.is_image = true;
          fields(read_bytes(in, where), where, [&](int f, Input& image) {
            if (f != 4) return false;
            e.png = read_bytes(image, where);
            return true;
          });
          return true;
        }
        return false;
      });
    };
    fields(record, where, [&](int field, Input& in) {
      if (field == 1) {
        uint64_t raw = 0;
        if (!in.ReadLittleEndian64(&raw)) throw UserError(where + ": a truncated wall time");
        e.wall_time = WireFormatLite::DecodeDouble(raw);
        return true;
      }
      if (field == 2) {
        uint64_t v = 0;
        if (!in.ReadVarint64(&v)) throw UserError(where + ": a truncated step");
        e.step = static_cast<int64_t>(v);
        return true;
      }
      if (field == 3) return e.file_version = read_bytes(in, where), true;
      if (field == 5) {
        fields(read_bytes(in, where), where, [&](int f, Input& summary) {
          if (f != 1) return false;
          read_value(read_bytes(summary, where));
          return true;
        });
        return true;
      }
      return false;
    });
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace resnet::train
