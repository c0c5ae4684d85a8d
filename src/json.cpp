#include <jwtkit/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jwtkit {

namespace {

using json = nlohmann::json;

// Builds the DOM itself so it can refuse what nlohmann::json::parse accepts silently:
// duplicate member names (last one wins there) and unbounded nesting.
class StrictBuilder {
 public:
  explicit StrictBuilder(std::size_t max_depth) : max_depth_(max_depth) {}

  bool null() { return add(json(nullptr)) != nullptr; }
  bool boolean(bool v) { return add(json(v)) != nullptr; }
  bool number_integer(json::number_integer_t v) { return add(json(v)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t v) { return add(json(v)) != nullptr; }
  bool number_float(json::number_float_t v, const json::string_t&) { return add(json(v)) != nullptr; }
  bool string(json::string_t& v) { return add(json(std::move(v))) != nullptr; }
  bool binary(json::binary_t&) { return fail("binary values are not JSON"); }

  bool start_object(std::size_t) { return open(json::object()); }
  bool key(json::string_t& k) {
    if (stack_.back()->get_ref<const json::object_t&>().count(k) != 0) {
      return fail("duplicate member name \"" + k + "\"");
    }
    key_ = std::move(k);
    return true;
  }
  bool end_object() { stack_.pop_back(); return true; }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_array() { stack_.pop_back(); return true; }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string&, const Exception&) {
    if (error_.empty()) error_ = "invalid JSON at byte " + std::to_string(position);
    return false;
  }

  json& root() { return root_; }
  const std::string& error() const { return error_; }

 private:
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  bool open(json&& container) {
    if (stack_.size() + 1 > max_depth_) return fail("nesting deeper than " + std::to_string(max_depth_));
    json* p = add(std::move(container));
    if (p == nullptr) return false;
    stack_.push_back(p);
    return true;
  }
  json* add(json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      auto& arr = top.get_ref<json::array_t&>();
      arr.push_back(std::move(v));
      return &arr.back();
    }
    auto& obj = top.get_ref<json::object_t&>();
    auto it = obj.emplace(std::move(key_), std::move(v)).first;
    return &it->second;
  }

  std::size_t max_depth_;
  json root_;
  std::vector<json*> stack_;
  std::string key_;
  std::string error_;
};

}  // namespace

Result<nlohmann::json> parse_json_strict(std::string_view text, const JsonLimits& limits) noexcept {
  try {
    if (text.size() > limits.max_bytes) {
      return Error(Errc::malformed, "JSON input of " + std::to_string(text.size()) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(limits.max_bytes));
    }
    StrictBuilder builder(limits.max_depth);
    bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                              /*strict=*/true);
    if (!ok) {
      return Error(Errc::malformed,
                   builder.error().empty() ? std::string("invalid JSON") : builder.error());
    }
    return std::move(builder.root());
  } catch (const std::bad_alloc&) {
    return Error(Errc::internal, "out of memory while parsing JSON");
  } catch (const std::exception& e) {
    return Error(Errc::malformed, std::string("invalid JSON: ") + e.what());
  }
}

namespace detail {

LazyJson& LazyJson::operator=(const LazyJson& other) {
  if (this != &other) {
    text_ = other.text_;
    delete dom_.exchange(nullptr);
  }
  return *this;
}

LazyJson& LazyJson::operator=(LazyJson&& other) noexcept {
  if (this != &other) {
    text_ = std::move(other.text_);
    delete dom_.exchange(other.dom_.exchange(nullptr));
  }
  return *this;
}

LazyJson::~LazyJson() { delete dom_.load(); }

const nlohmann::json& LazyJson::get() const {
  if (const nlohmann::json* dom = dom_.load(std::memory_order_acquire)) return *dom;
  auto fresh = std::make_unique<nlohmann::json>(
      nlohmann::json::parse(text_, nullptr, /*allow_exceptions=*/false));
  nlohmann::json* expected = nullptr;
  if (dom_.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel)) {
    return *fresh.release();
  }
  return *expected;  // another thread installed it first
}

}  // namespace detail

}  // namespace jwtkit
