// Modules: layers with parameters, buffers, children, train/eval mode, forward/backward and hooks.
//
// Contracts
//  - forward(x) returns the module's output, held in a buffer the module owns; it stays valid until the
//    module's next forward or release_output() (which a parent calls only once it has consumed it). The
//    module keeps what its backward needs (its input, statistics, masks), so the caller must keep x alive and
//    unmodified until backward has run.
//  - backward(dy) takes the gradient w.r.t. the last forward's output and returns the gradient w.r.t. its
//    input (owned by the module, valid until the next backward or release_input_grad()). It runs once
//    per forward: a module drops what its forward kept (saved input, masks, its output) as its backward
//    finishes, so a network's activations go back to the pool layer by layer during the backward instead
//    of all staying until the next forward. Read the forward's output before calling backward. A module that
//    runs children backward releases each child's input gradient as soon as it has been consumed, so a
//    network holds only a few gradient buffers at a time instead of one per layer (the buffers go back
//    to the tensor pool and the next layer of that size takes them: no system allocation, no fresh
//    pages). Parameter gradients are ACCUMULATED:
//    zero_grad() clears them (lazily: the next backward writes instead of adding, no memset).
//  - Buffers are reused while shapes stay the same: after the first step, a training step allocates nothing.
//  - Parameter and buffer names follow torchvision's state_dict keys ("layer1.0.conv1.weight").
//  - Iteration order (named_parameters/buffers/modules) is registration order, depth first: stable.
//  - Hooks: a forward hook sees (module, output) after every forward; a backward hook sees (module, gradient
//    w.r.t. the output) before the module's backward runs. Grad-CAM and adversarial attacks use them.
//  - No-grad forwards (as torch.no_grad): while a NoGradScope is open on the calling thread, a forward
//    keeps nothing for a backward — each layer drops its saved input, masks and workspaces as it returns,
//    and a chain of layers hands each one's output back once the next has consumed it — so evaluating a
//    batch holds a few activations at a time instead of every layer's. backward() inside one is an error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "resnet/core/tensor.h"
#include "resnet/ops/backend.h"

namespace resnet::nn {

// Opens a no-grad region on this thread for its lifetime (module.h's contracts); nests.
class NoGradScope {
 public:
  NoGradScope();
  ~NoGradScope();
  NoGradScope(const NoGradScope&) = delete;
  NoGradScope& operator=(const NoGradScope&) = delete;

 private:
  bool outer_;
};
// False inside a NoGradScope.
bool grad_enabled();

class Parameter {
 public:
  Parameter(std::string name, Tensor value) : name_(std::move(name)), value_(std::move(value)) {}

  const std::string& name() const { return name_; }  // local name ("weight")
  const Tensor& value() const { return value_; }
  // The accumulated gradient; undefined until a backward has written it (or after zero_grad).
  const Tensor& grad() const;
  bool has_grad() const { return has_grad_; }

  // For a module's backward: write the fresh gradient of this step into target(), then call
  // accumulate(). When the parameter already holds a gradient, target() is a scratch buffer that
  // accumulate() adds in; otherwise it is the gradient itself and accumulate() only marks it written.
  Tensor& grad_target();
  void accumulate();
  void zero_grad() { has_grad_ = false; }

  bool requires_grad = true;
  // Weight decay applies to this parameter (optimisers may skip BN and bias parameters).
  bool is_norm_or_bias = false;

 private:
  std::string name_;
  Tensor value_;
  Tensor grad_;
  Tensor scratch_;
  bool has_grad_ = false;
};

using ForwardHook = std::function<void(const class Module&, const Tensor& output)>;
using BackwardHook = std::function<void(const class Module&, const Tensor& grad_output)>;

class Module {
 public:
  explicit Module(std::string type_name) : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const Tensor& forward(const Tensor& x);
  const Tensor& backward(const Tensor& dy);
  // Frees the buffer behind the gradient the last backward returned (dx_, or the child's that holds it);
  // call once it has been used. A gradient the module passed through unchanged (its dy) is not its to free.
  virtual void release_input_grad();
  // Drops the module's reference to its last forward's output when its backward does not read it (a no-op
  // for modules whose backward does, such as ReLU). For a parent that has consumed the output and will not
  // read it again: the buffer goes back to the tensor pool unless a consumer kept it (a convolution keeps
  // its input for the backward; a residual add keeps nothing).
  virtual void release_output() {}
  // No-grad forwards only (NoGradScope): forget the last forward's output — its consumer has run. A
  // composite forgets its children's; the default does just that.
  virtual void drop_output();

  const std::string& type_name() const { return type_name_; }

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void set_backend(ops::Backend backend);
  ops::Backend backend() const { return backend_; }

  // Recursive, with dotted prefixes; stable order.
  std::vector<std::pair<std::string, Parameter*>> named_parameters();
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  std::vector<std::pair<std::string, Module*>> named_modules();  // includes this module as ""
  Module* find_module(const std::string& dotted_name);           // null when absent
  void zero_grad();
  int64_t num_parameters();

  int add_forward_hook(ForwardHook hook);
  int add_backward_hook(BackwardHook hook);
  void remove_hook(int id);

 protected:
  virtual const Tensor& forward_impl(const Tensor& x) = 0;
  virtual const Tensor& backward_impl(const Tensor& dy) = 0;
  // Called when train()/set_backend() change; modules with children override nothing: children are
  // visited by the base class.
  virtual void on_mode_change() {}
  // Forgets what the last forward kept for its backward (saved input, masks, workspaces), not its output;
  // forward() calls it on every module when no backward can follow (NoGradScope).
  virtual void drop_saved_state() {}

  Parameter& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <class M>
  M& register_module(const std::string& name, std::unique_ptr<M> module) {
    M& ref = *module;
    children_.emplace_back(name, std::move(module));
    ref.training_ = training_;
    ref.backend_ = backend_;
    return ref;
  }
  const ops::OpTable& ops() const { return ops::op_table(backend_); }
  // Runs `layers` backward, last first, releasing each one's input gradient once the one before it has
  // consumed it. Returns the gradient w.r.t. the first layer's input and sets `owner` to the layer whose
  // buffer it is (null when every layer passed dy through): the caller releases it.
  static const Tensor& backward_chain(const std::vector<Module*>& layers, const Tensor& dy, Module*& owner);
  // Runs `layers` forward in order and returns the last one's output. Without grad, drops each layer's
  // output (drop_output) once no later output aliases it — a layer that passes its input through returns
  // the same tensor — except layer `keep`'s (an output read again after the chain).
  // `*kept_output` (when given) is set to layer `keep`'s output.
  static const Tensor& forward_chain(const std::vector<Module*>& layers, const Tensor& x, int keep = -1,
                                     const Tensor** kept_output = nullptr);

  Tensor dx_;                     // the gradient w.r.t. the input that a leaf module's backward returns
  Module* grad_owner_ = nullptr;  // or the child holding the one a composite's last backward returned

 private:
  std::string type_name_;
  bool training_ = true;
  ops::Backend backend_ = ops::Backend::cpu;
  std::vector<std::unique_ptr<Parameter>> parameters_;
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> buffers_;
  std::vector<std::pair<std::string, std::unique_ptr<Module>>> children_;
  std::vector<std::pair<int, ForwardHook>> forward_hooks_;
  std::vector<std::pair<int, BackwardHook>> backward_hooks_;
  int next_hook_id_ = 1;
};

// Children run in order; names are "0", "1", … unless given.
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  template <class M>
  M& add(std::unique_ptr<M> module, std::string name = "") {
    if (name.empty()) name = std::to_string(layers_.size());
    M& ref = register_module(name, std::move(module));
    layers_.push_back(&ref);
    return ref;
  }
  size_t size() const { return layers_.size(); }
  Module& operator[](size_t i) const { return *layers_.at(i); }
  void release_output() override {  // the output is the last layer's
    if (!layers_.empty()) layers_.back()->release_output();
  }
  // drop_output: the default (every child's), since pass-through layers may leave the output with any
  // of the last few.

 protected:
  const Tensor& forward_impl(const Tensor& x) override;
  const Tensor& backward_impl(const Tensor& dy) override;

 private:
  std::vector<Module*> layers_;
};

}  // namespace resnet::nn
