// The version of resnet.cpp this library was built as (CMake's project version): what `resnet --version`
// prints, model cards record as "written_by" and ONNX files as their producer version.
#pragma once

namespace resnet {

const char* version();  // e.g. "0.1.0"

}  // namespace resnet
