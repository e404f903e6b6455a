#pragma once

// Expected failures (bad config, bad file, bad frame, dead peer) travel as a
// `result<T>`: either a value or an `error` with a code and a message that says
// what went wrong, where, and what to do. Programmer bugs are assertions.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <variant>

#include "murmur/common/enum_names.hpp"

namespace murmur::common {

enum class errc {
  invalid_argument,  // a value from the user (flag, config) is impossible
  not_found,         // a file, model or data set does not exist
  io,                // reading or writing failed
  corrupt,           // a file or frame is malformed
  mismatch,          // well-formed, but of another model, shape or version
  unsupported,       // valid but not implemented for this case
  internal,          // a third-party library failed unexpectedly
};

inline constexpr enum_name<errc> errc_names[] = {{errc::invalid_argument, "invalid argument"},
                                                 {errc::not_found, "not found"},
                                                 {errc::io, "i/o error"},
                                                 {errc::corrupt, "corrupt input"},
                                                 {errc::mismatch, "mismatch"},
                                                 {errc::unsupported, "unsupported"},
                                                 {errc::internal, "internal error"}};
constexpr std::span<const enum_name<errc>> names_of(errc) { return errc_names; }
inline const char* to_string(errc code) { return name_of(code).data(); }

struct error {
  errc code;
  std::string message;

  // One line: "<code>: <message>".
  std::string what() const;
};

template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : data_(std::move(value)) {}
  result(error err) : data_(std::move(err)) {}

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { return checked(); }
  const T& value() const& { return const_cast<result*>(this)->checked(); }
  T&& value() && { return std::move(checked()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(checked()); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  const error& err() const { return std::get<1>(data_); }

 private:
  T& checked() {
    if (!ok()) {
      std::fprintf(stderr, "murmur: value() of a failed result: %s\n", err().what().c_str());
      std::abort();
    }
    return std::get<0>(data_);
  }

  std::variant<T, error> data_;
};

// A result without a value: success or an error.
class [[nodiscard]] status {
 public:
  status() = default;
  status(error err) : err_(std::move(err)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const error& err() const { return err_; }

 private:
  error err_{errc::internal, {}};
  bool failed_ = false;
};

inline error make_error(errc code, std::string message) { return error{code, std::move(message)}; }

}  // namespace murmur::common
