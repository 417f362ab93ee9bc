// Result<T>: a value or an Error, never both and never an "ok" error.
// Every fallible AegisRT function returns one; exceptions never cross our API.
#pragma once

#include <cassert>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "aegisrt/core/error.h"

namespace aegisrt {

template <typename T>
class [[nodiscard]] Result;
// Declared before the primary template's members mention Result<void>.
// (No attribute here: g++ rejects attributes on this declaration with
// -Werror=attributes; the definition below carries [[nodiscard]].)
template <>
class Result<void>;

namespace detail {
template <typename>
struct is_result : std::false_type {};
template <typename U>
struct is_result<Result<U>> : std::true_type {};
}  // namespace detail

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is meaningless");
  static_assert(!std::is_reference_v<T>, "Result<T&> is not supported");

 public:
  using value_type = T;

  Result(const T& value) : storage_(std::in_place_index<0>, value) {}  // NOLINT(implicit)
  Result(T&& value) : storage_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : storage_(std::in_place_index<1>, std::move(error)) {}  // NOLINT
  template <typename... Args>
  explicit Result(std::in_place_t, Args&&... args)
      : storage_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  [[nodiscard]] bool ok() const noexcept { return storage_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  [[nodiscard]] T& value() & {
    assert(ok() && "value() on an error Result");
    return std::get<0>(storage_);
  }
  [[nodiscard]] const T& value() const& {
    assert(ok() && "value() on an error Result");
    return std::get<0>(storage_);
  }
  [[nodiscard]] T&& value() && {
    assert(ok() && "value() on an error Result");
    return std::get<0>(std::move(storage_));
  }
  [[nodiscard]] const Error& error() const& {
    assert(!ok() && "error() on an ok Result");
    return std::get<1>(storage_);
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok() && "error() on an ok Result");
    return std::get<1>(std::move(storage_));
  }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  template <typename U>
  [[nodiscard]] T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  /// f: T -> U. Errors pass through untouched.
  template <typename F>
  auto map(F&& f) && -> Result<std::invoke_result_t<F, T&&>> {
    using U = std::invoke_result_t<F, T&&>;
    if (!ok()) return Result<U>(std::move(*this).error());
    if constexpr (std::is_void_v<U>) {
      std::forward<F>(f)(std::move(*this).value());
      return Result<U>();  // U is void here; a dependent name keeps clang from instantiating the primary template
    } else {
      return Result<U>(std::forward<F>(f)(std::move(*this).value()));
    }
  }

  /// f: T -> Result<U>.
  template <typename F>
  auto and_then(F&& f) && -> std::invoke_result_t<F, T&&> {
    using R = std::invoke_result_t<F, T&&>;
    static_assert(detail::is_result<R>::value, "and_then needs a function returning Result");
    if (!ok()) return R(std::move(*this).error());
    return std::forward<F>(f)(std::move(*this).value());
  }

  /// f: Error -> Result<T>; used to recover or to add context.
  template <typename F>
  Result<T> or_else(F&& f) && {
    if (ok()) return std::move(*this);
    return std::forward<F>(f)(std::move(*this).error());
  }

 private:
  std::variant<T, Error> storage_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT(implicit)

  [[nodiscard]] bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  void value() const { assert(ok() && "value() on an error Result"); }
  [[nodiscard]] const Error& error() const& {
    assert(!ok());
    return *error_;
  }
  [[nodiscard]] Error&& error() && {
    assert(!ok());
    return std::move(*error_);
  }

  template <typename F>
  auto map(F&& f) && -> Result<std::invoke_result_t<F>> {
    using U = std::invoke_result_t<F>;
    if (!ok()) return Result<U>(std::move(*this).error());
    if constexpr (std::is_void_v<U>) {
      std::forward<F>(f)();
      return Result<void>();
    } else {
      return Result<U>(std::forward<F>(f)());
    }
  }
  template <typename F>
  auto and_then(F&& f) && -> std::invoke_result_t<F> {
    using R = std::invoke_result_t<F>;
    static_assert(detail::is_result<R>::value, "and_then needs a function returning Result");
    if (!ok()) return R(std::move(*this).error());
    return std::forward<F>(f)();
  }
  template <typename F>
  Result<void> or_else(F&& f) && {
    if (ok()) return {};
    return std::forward<F>(f)(std::move(*this).error());
  }

 private:
  std::optional<Error> error_;
};

inline Result<void> ok_result() { return {}; }

}  // namespace aegisrt

#define AEGIS_CONCAT_INNER_(a, b) a##b
#define AEGIS_CONCAT_(a, b) AEGIS_CONCAT_INNER_(a, b)

/// Evaluates a Result-returning expression; returns its error from the
/// enclosing function (whose return type must be constructible from Error).
#define AEGIS_TRY(expr)                                              \
  do {                                                               \
    auto&& aegis_try_result_ = (expr);                               \
    if (!aegis_try_result_.ok()) return std::move(aegis_try_result_).error(); \
  } while (0)

/// AEGIS_ASSIGN_OR_RETURN(auto x, f()); declares/assigns x from the value or
/// returns the error.
#define AEGIS_ASSIGN_OR_RETURN(lhs, expr) \
  AEGIS_ASSIGN_OR_RETURN_IMPL_(AEGIS_CONCAT_(aegis_aor_, __LINE__), lhs, expr)
#define AEGIS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return std::move(tmp).error();      \
  lhs = std::move(tmp).value()
