// Error values for the engine. Every fallible engine call returns a Status or
// a Result<T>; the GUI and the CLI turn them into dialogs or exit codes.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace topiary {

enum class ErrorKind {
  None,
  BadInput,     // the user's file, data or recipe is wrong (CLI exit code 2)
  Unsupported,  // valid input that the engine does not handle (exit code 2)
  Cancelled,    // the caller asked to stop
  Internal,     // a bug or an environment failure (exit code 1)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status ok() { return Status(); }
  static Status badInput(std::string msg) { return Status(ErrorKind::BadInput, std::move(msg)); }
  static Status unsupported(std::string msg) { return Status(ErrorKind::Unsupported, std::move(msg)); }
  static Status cancelled(std::string msg = "cancelled") { return Status(ErrorKind::Cancelled, std::move(msg)); }
  static Status internal(std::string msg) { return Status(ErrorKind::Internal, std::move(msg)); }

  bool isOk() const { return kind_ == ErrorKind::None; }
  explicit operator bool() const { return isOk(); }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // Exit code convention of topiary-cli: 0 ok, 2 bad input/unsupported, 1 internal.
  int exitCode() const {
    switch (kind_) {
      case ErrorKind::None: return 0;
      case ErrorKind::BadInput:
      case ErrorKind::Unsupported: return 2;
      default: return 1;
    }
  }
  // Returns a copy whose message is prefixed by context ("loading x.onnx: ...").
  Status withContext(const std::string& context) const {
    if (isOk()) return *this;
    return Status(kind_, context + ": " + message_);
  }

 private:
  Status(ErrorKind k, std::string m) : kind_(k), message_(std::move(m)) {}
  ErrorKind kind_ = ErrorKind::None;
  std::string message_;
};

// A value or an error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}
  bool isOk() const { return status_.isOk() && value_.has_value(); }
  explicit operator bool() const { return isOk(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

#define TOPIARY_RETURN_IF_ERROR(expr)       \
  do {                                      \
    ::topiary::Status _st = (expr);         \
    if (!_st.isOk()) return _st;            \
  } while (0)

}  // namespace topiary
