// Small vocabulary types: ModelId (strong string id), clock and durations.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace aegisrt {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

/// Milliseconds as a double, for reports.
inline double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
inline double to_us(Duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

/// Strongly typed model identifier ("yolo", "depth_anything"): not
/// interchangeable with other strings at compile time.
class ModelId {
 public:
  ModelId() = default;
  explicit ModelId(std::string value) : value_(std::move(value)) {}
  [[nodiscard]] const std::string& str() const noexcept { return value_; }
  [[nodiscard]] bool empty() const noexcept { return value_.empty(); }
  friend bool operator==(const ModelId&, const ModelId&) = default;
  friend auto operator<=>(const ModelId&, const ModelId&) = default;

 private:
  std::string value_;
};

}  // namespace aegisrt

template <>
struct std::hash<aegisrt::ModelId> {
  std::size_t operator()(const aegisrt::ModelId& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
