// Calibration files: the activation ranges `resnet quantize` records for the int8 engine, as JSON
// (infer::Calibration::to_json) beside the checkpoint they belong to.
#pragma once

#include <string>

#include "resnet/infer/engine.h"

namespace resnet::infer {

// Where a checkpoint's calibration lives: RUN/calibration.json for a run directory, FILE.calibration.json
// beside a checkpoint file (runs/x/best.safetensors → runs/x/best.calibration.json).
std::string default_calibration_path(const std::string& checkpoint);

// Throws UserError naming the file and how to make one when it cannot be read or is not a calibration.
Calibration load_calibration(const std::string& path);
// What an engine of `precision` needs: for int8 the calibration in `file`, or at the default path of
// `checkpoint` when `file` is empty; an empty Calibration for fp32 and bf16.
Calibration calibration_for(Precision precision, const std::string& checkpoint, const std::string& file);
// Written atomically (io/atomic_file.h): a kill leaves the old file or the new one.
void save_calibration(const std::string& path, const Calibration& calibration);

}  // namespace resnet::infer
