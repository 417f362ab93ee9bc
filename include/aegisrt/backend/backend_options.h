// One reader for LoadOptions::backend_options (`--backend-option key=value`),
// shared by every backend so that all of them answer a bad option with the
// same message shape, naming the backend, the option and what is allowed:
//   unknown key:  "unknown backend option 'K' for backend 'B'; known: k1, k2"
//   bad value:    "backend option 'K' of backend 'B' has value 'V'; allowed: ..."
// Both are ErrorCode::InvalidArgument. A backend keeps its own loop over the
// options (each knows its keys and what they set) and asks the reader for the
// typed value or the error.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include "aegisrt/core/error.h"
#include "aegisrt/core/result.h"

namespace aegisrt {

class BackendOptionReader {
 public:
  /// `backend`: the registry name ("onnx", "tvm", "openvino", "tensorrt");
  /// `known_keys`: the accepted keys as listed in messages ("a, b, c_<option>").
  BackendOptionReader(std::string_view backend, std::string_view known_keys)
      : backend_(backend), known_keys_(known_keys) {}

  [[nodiscard]] Error unknown(std::string_view key) const;
  [[nodiscard]] Error bad_value(std::string_view key, std::string_view value, std::string_view allowed) const;
  /// The value as a decimal integer in [min, max]; bad_value(allowed) otherwise.
  [[nodiscard]] Result<int> integer(std::string_view key, std::string_view value, int min, int max,
                                    std::string_view allowed) const;
  /// The value if it is one of `allowed`; bad_value listing them otherwise.
  [[nodiscard]] Result<std::string> one_of(std::string_view key, std::string_view value,
                                           std::initializer_list<std::string_view> allowed) const;
  /// The value if it is not empty; bad_value(allowed) otherwise.
  [[nodiscard]] Result<std::string> non_empty(std::string_view key, std::string_view value,
                                              std::string_view allowed) const;

  [[nodiscard]] std::string_view backend() const noexcept { return backend_; }

 private:
  std::string backend_;
  std::string known_keys_;
};

}  // namespace aegisrt
