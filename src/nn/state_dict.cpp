#include "resnet/nn/state_dict.h"

#include <atomic>
#include <map>
#include <sstream>

#include "resnet/core/finite.h"

namespace resnet::nn {
namespace {

bool skipped(const std::string& name, const LoadOptions& options) {
  for (const std::string& prefix : options.skip_prefixes)
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

std::string list(const std::vector<std::string>& names, size_t most = 8) {
  std::ostringstream os;
  for (size_t i = 0; i < names.size() && i < most; ++i) os << (i ? ", " : "") << names[i];
  if (names.size() > most) os << ", … (" << names.size() - most << " more)";
  return os.str();
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> state_dict(Module& model) {
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, p] : model.named_parameters()) out.emplace_back(name, p->value());
  for (auto& [name, b] : model.named_buffers()) out.emplace_back(name, *b);
  return out;
}

LoadReport load_state_dict(Module& model, const io::TensorFile& file, const LoadOptions& options) {
  std::map<std::string, Tensor> targets;  // the model's tensors by name
  for (auto& [name, t] : state_dict(model)) targets.emplace(name, t);
  LoadReport report;
  std::vector<std::pair<Tensor, Tensor>> copies;  // (destination, source), applied only when all is well
  std::map<std::string, bool> seen;
  for (const auto& [name, source] : file.tensors) {
    auto it = targets.find(name);
    if (it == targets.end()) {
      report.unexpected.push_back(name);
      continue;
    }
    seen[name] = true;
    if (skipped(name, options)) continue;
    if (source.shape() != it->second.shape()) {
      report.mismatched.push_back(name + ": file " + source.shape().str() + " vs model " +
                                  it->second.shape().str());
      continue;
    }
    copies.emplace_back(it->second, source);
    report.loaded.push_back(name);
  }
  for (const auto& [name, t] : targets)
    if (!seen.count(name) && !skipped(name, options)) report.missing.push_back(name);

  const bool clean = report.missing.empty() && report.unexpected.empty() && report.mismatched.empty();
  if (options.strict && !clean) {
    std::ostringstream os;
    os << "the weights in '" << file.path << "' do not fit this model:";
    if (!report.missing.empty())
      os << "\n  missing from the file (" << report.missing.size() << "): " << list(report.missing);
    if (!report.unexpected.empty())
      os << "\n  not in the model (" << report.unexpected.size() << "): " << list(report.unexpected);
    if (!report.mismatched.empty())
      os << "\n  shape mismatch (" << report.mismatched.size() << "): " << list(report.mismatched, 4);
    os << "\n  check --model, --classes and --in-channels; to fine-tune with a new classifier, replace the "
          "head "
          "(load everything but 'fc.')";
    throw UserError(os.str());
  }
  // Converted (an f64 beyond f32's range becomes inf) and checked before anything is changed.
  for (size_t i = 0; i < copies.size(); ++i) {
    auto& [destination, source] = copies[i];
    if (source.dtype() != destination.dtype()) source = source.to(destination.dtype());
    if (!options.allow_nonfinite) io::check_healthy(report.loaded[i], source, file.path);
  }
  for (auto& [destination, source] : copies) destination.copy_from(source);
  return report;
}

}  // namespace resnet::nn
