#include "resnet/nn/module.h"

#include <algorithm>

namespace resnet::nn {

const Tensor& Parameter::grad() const {
  static const Tensor kUndefined;
  return has_grad_ ? grad_ : kUndefined;
}

Tensor& Parameter::grad_target() {
  if (!grad_.defined()) grad_ = Tensor::empty(value_.shape(), value_.dtype());
  if (!has_grad_) return grad_;
  ensure(scratch_, value_.shape(), value_.dtype());
  return scratch_;
}

void Parameter::accumulate() {
  if (has_grad_) {
    float* g = grad_.data<float>();
    const float* s = scratch_.data<float>();
    const int64_t n = grad_.numel();
    for (int64_t i = 0; i < n; ++i) g[i] += s[i];
  }
  has_grad_ = true;
}

namespace {
thread_local bool t_grad_enabled = true;
}

NoGradScope::NoGradScope() : outer_(t_grad_enabled) {
  t_grad_enabled = false;
}
NoGradScope::~NoGradScope() {
  t_grad_enabled = outer_;
}
bool grad_enabled() {
  return t_grad_enabled;
}

const Tensor& Module::forward(const Tensor& x) {
  const Tensor& y = forward_impl(x);
  if (!t_grad_enabled) drop_saved_state();
  for (auto& [id, hook] : forward_hooks_) hook(*this, y);
  return y;
}

const Tensor& Module::backward(const Tensor& dy) {
  RESNET_CHECK(t_grad_enabled) << type_name_ << " backward inside a NoGradScope: its forward kept nothing";
  for (auto& [id, hook] : backward_hooks_) hook(*this, dy);
  return backward_impl(dy);
}

void Module::drop_output() {
  for (auto& [name, child] : children_) child->drop_output();
}

const Tensor& Module::forward_chain(const std::vector<Module*>& layers, const Tensor& x, int keep,
                                    const Tensor** kept_output) {
  const Tensor* h = &x;
  // Without grad: layers [pending, i) all returned *h (pass-throughs alias their input), still read.
  size_t pending = 0;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Tensor* y = &layers[i]->forward(*h);
    if (kept_output && static_cast<int>(i) == keep) *kept_output = y;
    if (!t_grad_enabled && y != h) {
      // The group returned one tensor; if it is the kept output, the whole group stays (the caller drops it).
      const bool holds_kept = keep >= static_cast<int>(pending) && keep < static_cast<int>(i);
      if (!holds_kept)
        for (size_t j = pending; j < i; ++j) layers[j]->drop_output();
      pending = i;
    }
    h = y;
  }
  return *h;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
  on_mode_change();
}

void Module::set_backend(ops::Backend backend) {
  backend_ = backend;
  for (auto& [name, child] : children_) child->set_backend(backend);
  on_mode_change();
}

std::vector<std::pair<std::string, Parameter*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Parameter*>> out;
  for (auto& p : parameters_) out.emplace_back(p->name(), p.get());
  for (auto& [name, child] : children_)
    for (auto& [sub, p] : child->named_parameters()) out.emplace_back(name + "." + sub, p);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (auto& [name, b] : buffers_) out.emplace_back(name, b.get());
  for (auto& [name, child] : children_)
    for (auto& [sub, b] : child->named_buffers()) out.emplace_back(name + "." + sub, b);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [name, child] : children_)
    for (auto& [sub, m] : child->named_modules()) out.emplace_back(sub.empty() ? name : name + "." + sub, m);
  return out;
}

Module* Module::find_module(const std::string& dotted_name) {
  for (auto& [name, m] : named_modules())
    if (name == dotted_name) return m;
  return nullptr;
}

// Called every training step: walks the tree directly rather than through named_parameters(), which
// would build a vector of dotted names on the heap each time.
void Module::zero_grad() {
  for (auto& p : parameters_) p->zero_grad();
  for (auto& [name, child] : children_) child->zero_grad();
}

int64_t Module::num_parameters() {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p->value().numel();
  return n;
}

int Module::add_forward_hook(ForwardHook hook) {
  forward_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

int Module::add_backward_hook(BackwardHook hook) {
  backward_hooks_.emplace_back(next_hook_id_, std::move(hook));
  return next_hook_id_++;
}

void Module::remove_hook(int id) {
  std::erase_if(forward_hooks_, [id](const auto& h) { return h.first == id; });
  std::erase_if(backward_hooks_, [id](const auto& h) { return h.first == id; });
}

Parameter& Module::register_parameter(const std::string& name, Tensor value) {
  parameters_.push_back(std::make_unique<Parameter>(name, std::move(value)));
  return *parameters_.back();
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  buffers_.emplace_back(name, std::make_unique<Tensor>(std::move(value)));
  return *buffers_.back().second;
}

const Tensor& Sequential::forward_impl(const Tensor& x) {
  return forward_chain(layers_, x);
}

void Module::release_input_grad() {
  dx_ = Tensor();
  if (grad_owner_) grad_owner_->release_input_grad();
  grad_owner_ = nullptr;
}

const Tensor& Module::backward_chain(const std::vector<Module*>& layers, const Tensor& dy, Module*& owner) {
  const Tensor* g = &dy;
  owner = nullptr;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    const Tensor& out = (*it)->backward(*g);
    if (&out != g) {  // a new buffer: the one consumed is dead (unless it was dy, which is not ours)
      if (owner) owner->release_input_grad();
      owner = *it;
    }
    g = &out;
  }
  return *g;
}

const Tensor& Sequential::backward_impl(const Tensor& dy) {
  return backward_chain(layers_, dy, grad_owner_);
}

}  // namespace resnet::nn
