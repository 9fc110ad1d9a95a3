#include "resnet/models/architecture.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

#include "resnet/core/check.h"

namespace resnet::models {
namespace {

// Union-find over conv names: two convs in one set must keep one output width.
class Coupling {
 public:
  void add(const std::string& conv) {
    if (index_.emplace(conv, static_cast<int>(parent_.size())).second) {
      parent_.push_back(static_cast<int>(parent_.size()));
      names_.push_back(conv);
      divisor_.push_back(1);
    }
  }
  void join(const std::string& a, const std::string& b, int64_t divisor = 1) {
    const int ra = root(index_.at(a)), rb = root(index_.at(b));
    parent_[static_cast<size_t>(rb)] = ra;
    divisor_[static_cast<size_t>(ra)] =
        std::lcm(divisor_[static_cast<size_t>(ra)], std::lcm(divisor_[static_cast<size_t>(rb)], divisor));
  }
  // The sets in order of their first member.
  std::vector<CouplingGroup> groups(const std::map<std::string, int64_t>& widths) {
    std::vector<CouplingGroup> out;
    std::map<int, size_t> slot;
    for (size_t i = 0; i < names_.size(); ++i) {
      const int r = root(static_cast<int>(i));
      auto [it, fresh] = slot.emplace(r, out.size());
      if (fresh) out.push_back(CouplingGroup{{}, widths.at(names_[i]), divisor_[static_cast<size_t>(r)]});
      out[it->second].convs.push_back(names_[i]);
    }
    return out;
  }

 private:
  int root(int i) {
    while (parent_[static_cast<size_t>(i)] != i) i = parent_[static_cast<size_t>(i)] = parent_[parent_[i]];
    return i;
  }
  std::map<std::string, int> index_;
  std::vector<int> parent_;
  std::vector<std::string> names_;
  std::vector<int64_t> divisor_;
};

std::string list(const std::vector<std::string>& names, const std::map<std::string, int64_t>& widths) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n + " (" + std::to_string(widths.at(n)) + ")";
  return out;
}

}  // namespace

Architecture architecture_of(const ResNetSpec& spec) {
  RESNET_CHECK(!spec.blocks_per_stage.empty() && spec.blocks_per_stage.size() == spec.widths.size())
      << "one width per stage";
  Architecture a;
  a.spec = spec;
  std::set<std::string> unused;
  for (const auto& [name, width] : spec.conv_widths) {
    unused.insert(name);
    if (width < 1)
      throw UserError("network spec: conv_widths gives '" + name + "' " + std::to_string(width) +
                      " channels: a conv keeps at least one");
  }
  std::map<std::string, int64_t> widths;  // every conv's output width
  Coupling coupling;
  // A conv named `name` whose design width is `design`, reading `in` channels.
  auto conv = [&](const std::string& name, int64_t in, int64_t design, int64_t kernel, int64_t stride,
                  int64_t groups = 1) {
    const auto it = spec.conv_widths.find(name);
    const int64_t out = it == spec.conv_widths.end() ? design : it->second;
    unused.erase(name);
    widths[name] = out;
    coupling.add(name);
    return ConvLayer{name, in, out, kernel, stride, kernel / 2, groups};
  };

  const bool preact = spec.pre_activation();
  a.stem.conv = spec.imagenet_stem ? conv("conv1", spec.in_channels, spec.stem_width, 7, 2)
                                   : conv("conv1", spec.in_channels, spec.stem_width, 3, 1);
  if (!preact) a.stem.norm = "bn1", a.stem.relu = "relu";
  a.max_pool = spec.imagenet_stem;
  int64_t channels = a.stem.conv.out_channels;
  int64_t design_channels = spec.stem_width;  // the width without conv_widths: decides the shortcut kinds
  std::string producer = "conv1";             // the conv whose output the next block reads
  int64_t stride_so_far = spec.imagenet_stem ? 4 : 1;

  for (size_t s = 0; s < spec.blocks_per_stage.size(); ++s) {
    const int64_t planes = spec.widths[s];
    for (int i = 0; i < spec.blocks_per_stage[s]; ++i) {
      Block b;
      b.stage = static_cast<int>(s);
      b.index = i;
      b.name = "layer" + std::to_string(s + 1) + "." + std::to_string(i);
      const std::string p = b.name + ".";
      b.stride = (s > 0 && i == 0) ? 2 : 1;
      b.in_channels = channels;
      int64_t design_out = planes;
      switch (spec.block) {
        case BlockKind::basic:
          b.branch.push_back({conv(p + "conv1", channels, planes, 3, b.stride), p + "bn1", p + "relu1"});
          b.branch.push_back({conv(p + "conv2", b.branch[0].conv.out_channels, planes, 3, 1), p + "bn2", ""});
          break;
        case BlockKind::bottleneck: {
          const int64_t mid = planes * spec.width_per_group / 64 * spec.groups;
          design_out = planes * 4;
          b.branch.push_back({conv(p + "conv1", channels, mid, 1, spec.stride_in_1x1 ? b.stride : 1),
                              p + "bn1", p + "relu1"});
          b.branch.push_back({conv(p + "conv2", b.branch[0].conv.out_channels, mid, 3,
                                   spec.stride_in_1x1 ? 1 : b.stride, spec.groups),
                              p + "bn2", p + "relu2"});
          b.branch.push_back(
              {conv(p + "conv3", b.branch[1].conv.out_channels, design_out, 1, 1), p + "bn3", ""});
          if (spec.groups > 1) coupling.join(p + "conv1", p + "conv2", spec.groups);
          break;
        }
        case BlockKind::preact_basic:
          b.pre_norm = p + "bn1", b.pre_relu = p + "relu1";
          b.branch.push_back({conv(p + "conv1", channels, planes, 3, b.stride), p + "bn2", p + "relu2"});
          b.branch.push_back({conv(p + "conv2", b.branch[0].conv.out_channels, planes, 3, 1), "", ""});
          if (spec.dropout > 0) b.dropout = p + "dropout", b.dropout_probability = spec.dropout;
          break;
        case BlockKind::preact_bottleneck:
          design_out = planes * 4;
          b.pre_norm = p + "bn1", b.pre_relu = p + "relu1";
          b.branch.push_back({conv(p + "conv1", channels, planes, 1, 1), p + "bn2", p + "relu2"});
          b.branch.push_back({conv(p + "conv2", b.branch[0].conv.out_channels, planes, 3, b.stride),
                              p + "bn3", p + "relu3"});
          b.branch.push_back({conv(p + "conv3", b.branch[1].conv.out_channels, design_out, 1, 1), "", ""});
          break;
      }
      const std::string last = b.branch.back().conv.name;
      b.out_channels = b.branch.back().conv.out_channels;
      // The design decides the shortcut (pruning never turns an identity into a projection); pre-activation
      // nets always project.
      const bool reshapes = b.stride != 1 || design_channels != design_out;
      const nn::ShortcutKind kind = preact ? nn::ShortcutKind::B : spec.shortcut;
      if (kind == nn::ShortcutKind::none) {
        b.shortcut = Shortcut::none;
      } else if (!reshapes) {
        b.shortcut = Shortcut::identity;
        coupling.join(producer, last);
      } else if (kind == nn::ShortcutKind::A) {
        b.shortcut = Shortcut::option_a;
        if (b.out_channels < b.in_channels)
          throw UserError("network spec: " + b.name + "'s option-A shortcut pads " +
                          std::to_string(b.in_channels) + " input channels up to the block's " +
                          std::to_string(b.out_channels) + " output channels (" + last +
                          "), which cannot be fewer: widen " + last + " or narrow " + producer);
      } else {
        b.shortcut = Shortcut::projection;
        b.projection.conv = conv(p + "downsample.0", channels, design_out, 1, b.stride);
        if (!preact) b.projection.norm = p + "downsample.1";
        b.projection_reads_preactivation = preact;
        coupling.join(last, b.projection.conv.name);
      }
      if (b.shortcut != Shortcut::none) b.add = p + "add";
      if (!preact) b.relu_after = p + "relu";
      channels = b.out_channels;
      design_channels = design_out;
      producer = last;
      a.blocks.push_back(std::move(b));
    }
    if (s > 0) stride_so_far *= 2;
    a.taps.push_back({"layer" + std::to_string(s + 1), stride_so_far, channels});
  }
  if (preact) a.final_norm = "final_bn", a.final_relu = "final_relu";
  a.features = channels;

  if (!unused.empty())
    throw UserError("network spec: conv_widths names '" + *unused.begin() +
                    "', which this network does not have: convs are named like conv1, layer1.0.conv1 and "
                    "layer2.0.downsample.0 (see `resnet summary`)");
  a.coupling_groups = coupling.groups(widths);
  for (const CouplingGroup& g : a.coupling_groups) {
    for (const auto& name : g.convs) {
      if (widths.at(name) != g.channels)
        throw UserError("network spec: " + list(g.convs, widths) +
                        " meet at an addition and must keep one width (a coupling group): give them all the "
                        "same width in conv_widths");
      if (widths.at(name) % g.divisor != 0)
        throw UserError("network spec: " + name + " has " + std::to_string(widths.at(name)) +
                        " channels, not a multiple of its grouped conv's " + std::to_string(g.divisor) +
                        " groups: give the group " + list(g.convs, widths) + " a multiple of " +
                        std::to_string(g.divisor));
    }
  }
  return a;
}

std::vector<const ConvLayer*> Architecture::convs() const {
  std::vector<const ConvLayer*> out{&stem.conv};
  for (const Block& b : blocks) {
    for (const ConvUnit& u : b.branch) out.push_back(&u.conv);
    if (b.shortcut == Shortcut::projection) out.push_back(&b.projection.conv);
  }
  return out;
}

const ConvLayer& Architecture::conv(const std::string& name) const {
  for (const ConvLayer* c : convs())
    if (c->name == name) return *c;
  throw UserError("the network has no conv named '" + name +
                  "': convs are named like conv1, layer1.0.conv1 and layer2.0.downsample.0");
}

std::vector<float> option_a_selection(int64_t in_channels, int64_t out_channels) {
  RESNET_CHECK(out_channels >= in_channels)
      << "option A pads " << in_channels << " channels to " << out_channels;
  std::vector<float> w(static_cast<size_t>(out_channels * in_channels), 0.f);
  const int64_t front = (out_channels - in_channels) / 2;
  for (int64_t c = 0; c < in_channels; ++c) w[static_cast<size_t>((c + front) * in_channels + c)] = 1.f;
  return w;
}

}  // namespace resnet::models
