// Counts for people: parameters, MACs and images written with a k/M/G suffix, for tables and messages.
#pragma once

#include <string>

namespace resnet {

// Three significant digits and a suffix: 11689512 → "11.7M", 1.82e9 → "1.82G", 950 → "950".
std::string format_count(double n);

}  // namespace resnet
