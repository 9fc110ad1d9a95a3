// Writing files so that a crash at any moment leaves either the old file or the new one, never a torn
// one: write to a temporary file in the same directory, fsync it, rename it over the target, fsync the
// directory. Errors throw UserError naming the path.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace resnet::io {

// `write` is called with a function that appends bytes to the temporary file.
using ByteSink = std::function<void(const void* data, size_t bytes)>;
void write_file_atomically(const std::string& path, const std::function<void(const ByteSink&)>& write);
// The same for a whole text (CSV, JSON).
void write_text_atomically(const std::string& path, const std::string& text);

}  // namespace resnet::io
