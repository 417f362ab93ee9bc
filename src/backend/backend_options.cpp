// The shared backend_options reader (see backend_options.h).
#include "aegisrt/backend/backend_options.h"

#include <charconv>

namespace aegisrt {

Error BackendOptionReader::unknown(std::string_view key) const {
  return Error(ErrorCode::InvalidArgument, "unknown backend option '" + std::string(key) + "' for backend '" +
                                               backend_ + "'; known: " + known_keys_);
}

Error BackendOptionReader::bad_value(std::string_view key, std::string_view value, std::string_view allowed) const {
  return Error(ErrorCode::InvalidArgument, "backend option '" + std::string(key) + "' of backend '" + backend_ +
                                               "' has value '" + std::string(value) + "'; allowed: " +
                                               std::string(allowed));
}

Result<int> BackendOptionReader::integer(std::string_view key, std::string_view value, int min, int max,
                                         std::string_view allowed) const {
  int n = 0;
  const auto* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, n);
  if (value.empty() || ec != std::errc() || ptr != end || n < min || n > max) return bad_value(key, value, allowed);
  return n;
}

Result<std::string> BackendOptionReader::one_of(std::string_view key, std::string_view value,
                                                std::initializer_list<std::string_view> allowed) const {
  std::string list;
  for (auto a : allowed) {
    if (a == value) return std::string(value);
    list += (list.empty() ? "" : ", ") + std::string(a);
  }
  return bad_value(key, value, list);
}

Result<std::string> BackendOptionReader::non_empty(std::string_view key, std::string_view value,
                                                   std::string_view allowed) const {
  if (value.empty()) return bad_value(key, value, allowed);
  return std::string(value);
}

}  // namespace aegisrt
