#include "resnet/io/pickle.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>

#include "resnet/core/check.h"

namespace resnet::io::pickle {
namespace {

using Kind = Value::Kind;

// The storage classes torch.save names in persistent ids, by their global name.
const std::map<std::string, ScalarType>& storage_types() {
  static const std::map<std::string, ScalarType> types{
      {"torch.FloatStorage", ScalarType::f32},     {"torch.HalfStorage", ScalarType::f16},
      {"torch.BFloat16Storage", ScalarType::bf16}, {"torch.DoubleStorage", ScalarType::f64},
      {"torch.LongStorage", ScalarType::i64},      {"torch.IntStorage", ScalarType::i32},
      {"torch.ShortStorage", ScalarType::i16},     {"torch.CharStorage", ScalarType::i8},
      {"torch.ByteStorage", ScalarType::u8},       {"torch.BoolStorage", ScalarType::boolean}};
  return types;
}

// Every callable the VM interprets; any other global is refused.
const std::vector<std::string>& allowed_calls() {
  static const std::vector<std::string> calls{"collections.OrderedDict",
                                              "torch._utils._rebuild_tensor_v2",
                                              "torch._utils._rebuild_tensor",
                                              "torch._utils._rebuild_parameter",
                                              "torch._utils._rebuild_parameter_with_state",
                                              "torch.Size"};
  return calls;
}

class Machine {
 public:
  Machine(std::span<const uint8_t> bytes, const std::string& source, const Limits& limits)
      : bytes_(bytes), source_(source), limits_(limits) {}

  Unpickled run();

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw UserError("'" + source_ + "': pickle byte " + std::to_string(op_start_) + ": " + problem);
  }
  [[noreturn]] void refuse_global(const std::string& name) const {
    std::string allowed;
    for (const auto& c : allowed_calls()) allowed += (allowed.empty() ? "" : ", ") + c;
    throw UserError(
        "'" + source_ + "': refusing the pickle global '" + name + "' (byte " + std::to_string(op_start_) +
        "): a checkpoint of weights needs only tensors, dicts and numbers, and calling '" + name +
        "' could run arbitrary code — do not open this file with torch.load either unless you "
        "trust its source. Allowed: " +
        allowed +
        " and torch.*Storage. If you trust the file, load it in Python and save only the weights: "
        "torch.save(model.state_dict(), 'weights.pth')");
  }

  const uint8_t* take(size_t n) {
    if (n > bytes_.size() - pos_)
      fail("the pickle stream ends early (truncated file): re-save or re-download it");
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n) {
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
    return v;
  }
  std::string line() {
    const size_t start = pos_;
    while (pos_ < bytes_.size() && bytes_[pos_] != '\n') {
      if (pos_ - start > 256) fail("a GLOBAL name longer than 256 bytes");
      ++pos_;
    }
    if (pos_ >= bytes_.size()) fail("the pickle stream ends inside a GLOBAL name (truncated file)");
    std::string s(reinterpret_cast<const char*>(bytes_.data() + start), pos_ - start);
    ++pos_;
    return s;
  }

  ValuePtr make(Kind kind) {
    if (++objects_ > limits_.max_objects)
      fail("more than " + std::to_string(limits_.max_objects) + " objects");
    auto v = std::make_shared<Value>();
    v->kind = kind;
    return v;
  }
  ValuePtr make_int(int64_t i) {
    auto v = make(Kind::integer);
    v->integer = i;
    return v;
  }
  ValuePtr make_text(Kind kind, size_t n) {
    if (n > bytes_.size() - pos_)
      fail("a string of " + std::to_string(n) + " bytes runs past the end of the stream");
    auto v = make(kind);
    const uint8_t* p = take(n);
    v->text.assign(reinterpret_cast<const char*>(p), n);
    return v;
  }

  void push(ValuePtr v) {
    if (stack_.size() + marks_.size() >= limits_.max_stack)
      fail("the pickle stack grows past " + std::to_string(limits_.max_stack) + " entries");
    stack_.push_back(std::move(v));
  }
  ValuePtr pop() {
    if (stack_.size() <= floor()) fail("the pickle pops from an empty stack (malformed stream)");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.size() <= floor()) fail("the pickle reads an empty stack (malformed stream)");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  // Pops everything above the last MARK, and the mark.
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("the pickle closes a MARK it never opened (malformed stream)");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + static_cast<ptrdiff_t>(m)),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return items;
  }

  // Places `child` inside `parent`: the child is frozen, the parent's depth follows.
  void adopt(Value& parent, const ValuePtr& child) {
    if (child.get() == &parent) fail("a container placed inside itself (recursive structure)");
    child->frozen = true;
    parent.depth = std::max(parent.depth, child->depth + 1);
    if (parent.depth > limits_.max_depth)
      fail("containers nested deeper than " + std::to_string(limits_.max_depth) +
           " levels: not a checkpoint (a state_dict nests a few levels)");
  }
  Value& mutable_container(Kind kind, const char* op) {
    ValuePtr& c = top();
    if (c->kind != kind)
      fail(std::string(op) + " on a " + kind_name(c->kind) + ", expected a " + kind_name(kind));
    if (c->frozen)
      fail(std::string(op) + " changes a container already nested in another (not written by torch.save)");
    return *c;
  }
  ValuePtr make_tuple(std::vector<ValuePtr> items) {
    auto t = make(Kind::tuple);
    for (const auto& i : items) adopt(*t, i);
    t->items = std::move(items);
    return t;
  }
  void set_item(Value& dict, ValuePtr key, ValuePtr value) {
    if (key->kind != Kind::string && key->kind != Kind::integer && key->kind != Kind::bytes)
      fail(std::string("a dict key of type ") + kind_name(key->kind) +
           " (only strings and integers are accepted)");
    adopt(dict, key);
    adopt(dict, value);
    // Indexed, so that a forged dict of a million keys costs a million inserts, not 10^12 comparisons.
    std::string id = key->kind == Kind::integer ? "i:" + std::to_string(key->integer)
                                                : (key->kind == Kind::string ? "s:" : "b:") + key->text;
    const auto [it, inserted] = dict.entry_index.try_emplace(std::move(id), dict.entries.size());
    if (inserted)
      dict.entries.emplace_back(std::move(key), std::move(value));
    else
      dict.entries[it->second].second = std::move(value);
  }

  void memo_put(size_t index) {
    if (index >= limits_.max_memo)
      fail("memo index " + std::to_string(index) + " is past the limit of " +
           std::to_string(limits_.max_memo));
    if (memo_.size() <= index) memo_.resize(index + 1);
    memo_[index] = top();
  }
  void memo_get(uint64_t index) {
    if (index >= memo_.size() || !memo_[index])
      fail("memo entry " + std::to_string(index) + " was never stored");
    push(memo_[index]);
  }

  void global(const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    auto v = make(Kind::global);
    v->text = full;
    if (const auto it = storage_types().find(full); it != storage_types().end()) {
      v->storage.type = it->second;
    } else if (std::find(allowed_calls().begin(), allowed_calls().end(), full) == allowed_calls().end()) {
      refuse_global(full);
    }
    push(std::move(v));
  }

  int64_t int_arg(const ValuePtr& v, const char* what) {
    if (v->kind != Kind::integer) fail(std::string(what) + " must be an integer, got " + kind_name(v->kind));
    return v->integer;
  }
  std::vector<int64_t> int_tuple(const ValuePtr& v, const char* what) {
    if (v->kind != Kind::tuple) fail(std::string(what) + " must be a tuple, got " + kind_name(v->kind));
    std::vector<int64_t> out;
    for (const auto& i : v->items) out.push_back(int_arg(i, what));
    return out;
  }

  ValuePtr rebuild_tensor(const std::vector<ValuePtr>& args, const std::string& fn) {
    if (args.size() < 4)
      fail(fn + " with " + std::to_string(args.size()) + " arguments (expected at least 4)");
    if (args[0]->kind != Kind::storage)
      fail(fn + ": its first argument is a " + std::string(kind_name(args[0]->kind)) + ", not a storage");
    auto t = make(Kind::tensor);
    t->tensor.storage = args[0]->storage;
    t->tensor.offset = int_arg(args[1], "a tensor's storage offset");
    t->tensor.size = int_tuple(args[2], "a tensor's size");
    t->tensor.stride = int_tuple(args[3], "a tensor's stride");
    if (t->tensor.size.size() != t->tensor.stride.size())
      fail(fn + ": size has " + std::to_string(t->tensor.size.size()) + " dimensions, stride " +
           std::to_string(t->tensor.stride.size()));
    return t;
  }

  void reduce() {
    ValuePtr args = pop();
    ValuePtr callable = pop();
    if (callable->kind != Kind::global)
      fail(std::string("REDUCE calls a ") + kind_name(callable->kind) +
           " (only allowed globals can be called)");
    if (args->kind != Kind::tuple)
      fail("REDUCE arguments are a " + std::string(kind_name(args->kind)) + ", not a tuple");
    const std::string& fn = callable->text;
    const auto& a = args->items;
    if (fn == "collections.OrderedDict") {
      if (!a.empty()) fail("collections.OrderedDict called with arguments (torch.save writes it empty)");
      push(make(Kind::dict));
    } else if (fn == "torch._utils._rebuild_tensor_v2" || fn == "torch._utils._rebuild_tensor") {
      push(rebuild_tensor(a, fn));
    } else if (fn == "torch._utils._rebuild_parameter" ||
               fn == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Kind::tensor) fail(fn + " of something other than a tensor");
      push(a[0]);
    } else if (fn == "torch.Size") {
      if (a.size() != 1 || a[0]->kind != Kind::tuple) fail("torch.Size of something other than one tuple");
      int_tuple(a[0], "a torch.Size entry");
      push(a[0]);
    } else {
      fail("'" + fn + "' cannot be called (it names a storage type)");
    }
  }

  void persistent_load() {
    ValuePtr pid = pop();
    const auto& p = pid->items;
    if (pid->kind != Kind::tuple || p.size() < 5 || p[0]->kind != Kind::string || p[0]->text != "storage")
      fail("a persistent id that is not torch's ('storage', type, key, location, numel) record");
    if (p[1]->kind != Kind::global || storage_types().count(p[1]->text) == 0)
      fail("a persistent id whose storage type is not a torch.*Storage");
    if (p[2]->kind != Kind::string || p[3]->kind != Kind::string)
      fail("a persistent id whose key or location is not a string");
    auto s = make(Kind::storage);
    s->storage.type = p[1]->storage.type;
    s->storage.key = p[2]->text;
    s->storage.numel = int_arg(p[4], "a storage's element count");
    if (p.size() >= 6 && p[5]->kind != Kind::none) {  // legacy view: (view_key, offset, size)
      const auto& view = p[5]->items;
      if (p[5]->kind != Kind::tuple || view.size() != 3)
        fail("a storage view record that is not (key, offset, size)");
      s->storage.view_offset = int_arg(view[1], "a storage view's offset");
      s->storage.numel = int_arg(view[2], "a storage view's size");
    }
    storages_.push_back(s->storage);
    push(std::move(s));
  }

  std::vector<StorageRef> storages_;
  std::span<const uint8_t> bytes_;
  const std::string& source_;
  Limits limits_;
  size_t pos_ = 0, op_start_ = 0, objects_ = 0;
  std::vector<ValuePtr> stack_, memo_;
  std::vector<size_t> marks_;
};

Unpickled Machine::run() {
  for (;;) {
    op_start_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80:  // PROTO
        if (*take(1) > 5) fail("pickle protocol above 5");
        break;
      case 0x95:  // FRAME: a length hint only
        take(8);
        break;
      case '.': {  // STOP
        ValuePtr root = pop();
        if (!stack_.empty() || !marks_.empty()) fail("the pickle stops with values left on its stack");
        return {std::move(root), pos_, std::move(storages_)};
      }
      case 'N':
        push(make(Kind::none));
        break;
      case 0x88:
      case 0x89: {
        auto v = make(Kind::boolean);
        v->boolean = op == 0x88;
        push(std::move(v));
        break;
      }
      case 'J':
        push(make_int(static_cast<int32_t>(le(4))));
        break;
      case 'K':
        push(make_int(static_cast<int64_t>(le(1))));
        break;
      case 'M':
        push(make_int(static_cast<int64_t>(le(2))));
        break;
      case 0x8a:    // LONG1
      case 0x8b: {  // LONG4
        const uint64_t n = op == 0x8a ? le(1) : le(4);
        if (n > 8) fail("an integer of " + std::to_string(n) + " bytes (more than 64 bits)");
        uint64_t v = n ? le(static_cast<size_t>(n)) : 0;
        if (n && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign-extend
        push(make_int(static_cast<int64_t>(v)));
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | p[i];
        auto v = make(Kind::real);
        v->real = std::bit_cast<double>(bits);
        push(std::move(v));
        break;
      }
      case 'X':
        push(make_text(Kind::string, le(4)));
        break;
      case 0x8c:
        push(make_text(Kind::string, le(1)));
        break;
      case 0x8d:
        push(make_text(Kind::string, le(8)));
        break;
      case 'U':  // SHORT_BINSTRING: a Python 2 str
        push(make_text(Kind::string, le(1)));
        break;
      case 'T': {
        const int32_t n = static_cast<int32_t>(le(4));
        if (n < 0) fail("a string of negative length");
        push(make_text(Kind::string, static_cast<size_t>(n)));
        break;
      }
      case 'B':
        push(make_text(Kind::bytes, le(4)));
        break;
      case 'C':
        push(make_text(Kind::bytes, le(1)));
        break;
      case 0x8e:
        push(make_text(Kind::bytes, le(8)));
        break;
      case ')':
        push(make_tuple({}));
        break;
      case 0x85:
      case 0x86:
      case 0x87: {
        std::vector<ValuePtr> items(op - 0x84);
        for (size_t i = items.size(); i-- > 0;) items[i] = pop();
        push(make_tuple(std::move(items)));
        break;
      }
      case '(':
        if (stack_.size() + marks_.size() >= limits_.max_stack) fail("too many MARKs");
        marks_.push_back(stack_.size());
        break;
      case 't':
        push(make_tuple(pop_mark()));
        break;
      case '0':
        pop();
        break;
      case '1':
        pop_mark();
        break;
      case '2':
        push(top());
        break;
      case ']':
        push(make(Kind::list));
        break;
      case 'l': {
        auto items = pop_mark();
        auto list = make(Kind::list);
        for (const auto& i : items) adopt(*list, i);
        list->items = std::move(items);
        push(std::move(list));
        break;
      }
      case 'a': {
        ValuePtr v = pop();
        Value& list = mutable_container(Kind::list, "APPEND");
        adopt(list, v);
        list.items.push_back(std::move(v));
        break;
      }
      case 'e': {
        auto items = pop_mark();
        Value& list = mutable_container(Kind::list, "APPENDS");
        for (auto& i : items) {
          adopt(list, i);
          list.items.push_back(std::move(i));
        }
        break;
      }
      case '}':
        push(make(Kind::dict));
        break;
      case 'd': {
        auto items = pop_mark();
        if (items.size() % 2) fail("DICT with an odd number of items");
        auto dict = make(Kind::dict);
        for (size_t i = 0; i < items.size(); i += 2) set_item(*dict, items[i], items[i + 1]);
        push(std::move(dict));
        break;
      }
      case 's': {
        ValuePtr value = pop();
        ValuePtr key = pop();
        set_item(mutable_container(Kind::dict, "SETITEM"), std::move(key), std::move(value));
        break;
      }
      case 'u': {
        auto items = pop_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        Value& dict = mutable_container(Kind::dict, "SETITEMS");
        for (size_t i = 0; i < items.size(); i += 2) set_item(dict, items[i], items[i + 1]);
        break;
      }
      case 'c': {
        const std::string module = line();
        const std::string name = line();
        global(module, name);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        ValuePtr name = pop();
        ValuePtr module = pop();
        if (module->kind != Kind::string || name->kind != Kind::string) fail("STACK_GLOBAL of non-strings");
        global(module->text, name->text);
        break;
      }
      case 'R':
        reduce();
        break;
      case 'b': {  // BUILD: attributes of an OrderedDict (state_dict()._metadata) — ignored
        pop();
        if (top()->kind != Kind::dict)
          fail(std::string("BUILD on a ") + kind_name(top()->kind) + " (only dicts take attributes here)");
        break;
      }
      case 0x81:
      case 0x92:
        fail("NEWOBJ builds a class instance: not part of a state_dict");
      case 'q':
        memo_put(static_cast<size_t>(le(1)));
        break;
      case 'r':
        memo_put(static_cast<size_t>(le(4)));
        break;
      case 0x94:
        memo_put(memo_.size());
        break;
      case 'h':
        memo_get(le(1));
        break;
      case 'j':
        memo_get(le(4));
        break;
      case 'Q':
        persistent_load();
        break;
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unsupported pickle opcode ") + hex +
             " (this reader knows the binary opcodes torch.save writes; is this a .pth file?)");
      }
    }
  }
}

}  // namespace

size_t scalar_size(ScalarType type) {
  switch (type) {
    case ScalarType::f64:
    case ScalarType::i64:
      return 8;
    case ScalarType::f32:
    case ScalarType::i32:
      return 4;
    case ScalarType::f16:
    case ScalarType::bf16:
    case ScalarType::i16:
      return 2;
    case ScalarType::i8:
    case ScalarType::u8:
    case ScalarType::boolean:
      return 1;
  }
  return 1;
}

const char* scalar_name(ScalarType type) {
  switch (type) {
    case ScalarType::f32:
      return "float32";
    case ScalarType::f16:
      return "float16";
    case ScalarType::bf16:
      return "bfloat16";
    case ScalarType::f64:
      return "float64";
    case ScalarType::i64:
      return "int64";
    case ScalarType::i32:
      return "int32";
    case ScalarType::i16:
      return "int16";
    case ScalarType::i8:
      return "int8";
    case ScalarType::u8:
      return "uint8";
    case ScalarType::boolean:
      return "bool";
  }
  return "?";
}

const char* kind_name(Value::Kind kind) {
  switch (kind) {
    case Kind::none:
      return "None";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::real:
      return "float";
    case Kind::string:
      return "str";
    case Kind::bytes:
      return "bytes";
    case Kind::tuple:
      return "tuple";
    case Kind::list:
      return "list";
    case Kind::dict:
      return "dict";
    case Kind::global:
      return "global";
    case Kind::storage:
      return "storage";
    case Kind::tensor:
      return "tensor";
  }
  return "?";
}

const Value* Value::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::string && k->text == key) return v.get();
  return nullptr;
}

Unpickled unpickle(std::span<const uint8_t> bytes, const std::string& source, const Limits& limits) {
  return Machine(bytes, source, limits).run();
}

}  // namespace resnet::io::pickle
