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
// Renames `from` onto `to` (same directory) and makes the rename durable (fsync of the directory).
void rename_durably(const std::string& from, const std::string& to);

// Fault injection for the crash-test harness (tests/train/test_crash.cpp, scripts/crash_test.sh). Every
// atomic write passes three crash points (half written, written and synced but not renamed, renamed) and
// the trainer one after each step. With RESNET_CRASH_AT=N in the environment the process kills itself
// (SIGKILL) at the N-th crash point it reaches; with RESNET_CRASH_TRACE=FILE it appends a line "N what"
// for each one. Without either variable a crash point returns at once. `what` + `path` name the point.
void crash_point(const char* what, const std::string& path = {});

}  // namespace resnet::io
