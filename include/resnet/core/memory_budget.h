// Bounded allocation: sizes derived from input (a model's width, a batch size, an image size, a file's
// metadata) are estimated in bytes before anything is allocated, and an estimate beyond what this machine
// can hold is refused up front with the estimate and what to change, instead of ending in std::bad_alloc
// or the kernel's OOM killer half-way through.
//
// The machine's usable memory is the smaller of the physical memory (sysinfo) and the cgroup v2 limit of
// this process (memory.max, when set). RESNET_MEMORY_LIMIT=BYTES (digits, optionally with a K/M/G/T
// suffix: powers of 1024) overrides both, so tests can exercise the refusals cheaply.
//
// Estimates are doubles: they are sums and products of sizes that may themselves overflow int64 (a width
// multiplier of 1e9, a batch of 1e18), and a double of them is never wrong by more than its rounding.
#pragma once

#include <cstdint>
#include <string>

namespace resnet {

// Bytes this process can expect to use (see above). Read once per call; cheap.
uint64_t usable_memory_bytes();
// Where the figure comes from, for messages: "physical memory", "cgroup memory.max", "RESNET_MEMORY_LIMIT".
std::string usable_memory_source();

// "80.0 GB", "512 MB", "3.2 TB": decimal units.
std::string format_bytes(double bytes);

// Throws UserError "<what> needs 80.0 GB, this machine has 24.0 GB (physical memory): <fix>" when
// `bytes` exceeds the usable memory (or is not finite). `what` names the thing ("training resnet20 at
// width 1000 on batches of 128 3×32×32 images"), `fix` the change that helps ("lower
// model.width_multiplier or optim.batch_size").
void check_memory_budget(double bytes, const std::string& what, const std::string& fix);

}  // namespace resnet
