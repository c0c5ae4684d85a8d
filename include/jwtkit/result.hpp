// Result<T>: a value or an Error. Must be looked at: the class is [[nodiscard]].
#pragma once

#include <jwtkit/error.hpp>

#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace jwtkit {

/// Thrown by `Result::value()` when the result holds an error: a programming bug in the
/// caller, like `std::bad_optional_access`. jwtkit itself never calls it on an error.
class JWTKIT_EXPORT BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& e);
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

/// A value of type T or an Error, shaped like `std::expected<T, Error>`. Every function
/// returning it is must-use because the class is [[nodiscard]]; to drop one on purpose,
/// call `ignore()`. Not thread-safe to mutate; safe to read from many threads.
template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  using value_type = T;

  template <class U = T,
            std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                 !std::is_same_v<std::decay_t<U>, Error> &&
                                 !std::is_same_v<std::decay_t<U>, Result>,
                             int> = 0>
  Result(U&& value) : v_(std::in_place_index<0>, std::forward<U>(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  bool has_value() const noexcept { return ok(); }

  T& value() & { check(); return std::get<0>(v_); }
  const T& value() const& { check(); return std::get<0>(v_); }
  T&& value() && { check(); return std::get<0>(std::move(v_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error. Precondition: `!ok()`; otherwise throws BadResultAccess with Errc::internal.
  const Error& error() const& {
    if (ok()) throw BadResultAccess(Error(Errc::internal, "Result::error() on a value"));
    return std::get<1>(v_);
  }
  Error&& error() && {
    if (ok()) throw BadResultAccess(Error(Errc::internal, "Result::error() on a value"));
    return std::get<1>(std::move(v_));
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<0>(v_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// Drops the result on purpose. Greppable, unlike a `(void)` cast.
  void ignore() const noexcept {}

 private:
  void check() const {
    if (!ok()) throw BadResultAccess(std::get<1>(v_));
  }
  std::variant<T, Error> v_;
};

/// The result of an operation that returns nothing but can fail (every store write).
template <>
class [[nodiscard]] Result<void> {
 public:
  using value_type = void;

  Result() noexcept = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  bool has_value() const noexcept { return ok(); }

  /// Throws BadResultAccess if this holds an error.
  void value() const {
    if (error_) throw BadResultAccess(*error_);
  }

  const Error& error() const& {
    if (!error_) throw BadResultAccess(Error(Errc::internal, "Result::error() on a value"));
    return *error_;
  }
  Error&& error() && {
    if (!error_) throw BadResultAccess(Error(Errc::internal, "Result::error() on a value"));
    return std::move(*error_);
  }

  /// Drops the result on purpose. Greppable, unlike a `(void)` cast.
  void ignore() const noexcept {}

 private:
  std::optional<Error> error_;
};

/// A successful Result<void>, for readability: `return jwtkit::ok();`.
inline Result<void> ok() noexcept { return Result<void>(); }

}  // namespace jwtkit
