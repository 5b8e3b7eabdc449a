// result.h: Result<T>, the error channel of core/ (no exceptions, static messages).
#pragma once

#include <stdint.h>

namespace instar {

// Broad error classes; the CLI alone turns them into qemu-img's text and exit codes.
enum class Errc : uint8_t {
  io,           // the device failed a read or write
  truncated,    // fewer bytes than the structure needs
  invalid,      // a field holds a value the format forbids
  unsupported,  // valid, but not something instar handles (yet)
  too_large,    // a size or count beyond a fixed limit
  overflow,     // arithmetic on on-disk numbers would overflow
  no_space,     // an output buffer is full
};

// An error is a code, a static message and at most one number that the
// message refers to with "{}" (for example "Unsupported qcow2 version {}").
struct Error {
  Errc code;
  const char* message;
  uint64_t detail = 0;
  bool has_detail = false;
  uint64_t detail2 = 0;  // a second "{}", when the message has one
};

inline constexpr Error make_error(Errc code, const char* message) {
  return Error{code, message, 0, false, 0};
}
inline constexpr Error make_error(Errc code, const char* message, uint64_t detail) {
  return Error{code, message, detail, true, 0};
}
inline constexpr Error make_error(Errc code, const char* message, uint64_t detail, uint64_t detail2) {
  return Error{code, message, detail, true, detail2};
}

namespace detail {
[[noreturn]] inline void result_misuse() { __builtin_trap(); }
}  // namespace detail

// T must be default-constructible and copyable; core/ keeps its values plain.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : value_(value), ok_(true) {}       // NOLINT(google-explicit-constructor)
  Result(const Error& error) : error_(error), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return ok_; }
  bool is_error() const { return !ok_; }
  const T& value() const {
    if (!ok_) detail::result_misuse();
    return value_;
  }
  T& value() {
    if (!ok_) detail::result_misuse();
    return value_;
  }
  const Error& error() const {
    if (ok_) detail::result_misuse();
    return error_;
  }

 private:
  T value_{};
  Error error_{Errc::invalid, "", 0, false, 0};
  bool ok_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() : ok_(true) {}
  Result(const Error& error) : error_(error), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool is_ok() const { return ok_; }
  bool is_error() const { return !ok_; }
  const Error& error() const {
    if (ok_) detail::result_misuse();
    return error_;
  }

 private:
  Error error_{Errc::invalid, "", 0, false, 0};
  bool ok_;
};

inline Result<void> ok() { return Result<void>(); }

}  // namespace instar

// Propagate an error from an expression yielding Result<...>.
#define INSTAR_TRY(expr)                                                  \
  do {                                                                    \
    auto instar_try_result_ = (expr);                                     \
    if (instar_try_result_.is_error()) return instar_try_result_.error(); \
  } while (0)

// Bind the value of a Result<T> expression to `var`, or propagate its error.
#define INSTAR_TRY_ASSIGN(var, expr)                          \
  auto var##_result_ = (expr);                                \
  if (var##_result_.is_error()) return var##_result_.error(); \
  auto var = var##_result_.value()
