// TensorRT version parsing and per-version API features.
#include "aegisrt/trt_plan/trt_version.h"

#include <charconv>
#include <map>
#include <optional>
#include <vector>

namespace aegisrt::trt {

std::string TrtVersion::to_string() const {
  std::string s = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (build > 0) s += "." + std::to_string(build);
  return s;
}

namespace {

std::optional<int> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<TrtVersion> parse_trt_version(std::string_view text) {
  std::string_view s = trim(text);
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) s.remove_prefix(1);
  std::vector<int> parts;
  while (true) {
    const auto dot = s.find('.');
    const auto piece = s.substr(0, dot);
    const auto v = parse_uint(piece);
    if (!v) {
      return Error(ErrorCode::InvalidArgument,
                   "not a TensorRT version: '" + std::string(text) +
                       "' (expected MAJOR.MINOR[.PATCH[.BUILD]], e.g. 10.16.0.72)");
    }
    parts.push_back(*v);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  if (parts.size() < 2 || parts.size() > 4) {
    return Error(ErrorCode::InvalidArgument,
                 "not a TensorRT version: '" + std::string(text) +
                     "' (expected MAJOR.MINOR[.PATCH[.BUILD]], e.g. 10.16.0.72)");
  }
  TrtVersion v;
  v.major = parts[0];
  v.minor = parts[1];
  if (parts.size() > 2) v.patch = parts[2];
  if (parts.size() > 3) v.build = parts[3];
  return v;
}

Result<TrtVersion> parse_version_header(std::string_view header_text, std::string_view what) {
  // Collect every "#define NAME VALUE" whose VALUE is a number or another name.
  std::map<std::string, std::string, std::less<>> defines;
  std::size_t pos = 0;
  while (pos < header_text.size()) {
    auto eol = header_text.find('\n', pos);
    if (eol == std::string_view::npos) eol = header_text.size();
    std::string_view line = trim(header_text.substr(pos, eol - pos));
    pos = eol + 1;
    if (!line.starts_with("#")) continue;
    line.remove_prefix(1);
    line = trim(line);
    if (!line.starts_with("define")) continue;
    line.remove_prefix(6);
    line = trim(line);
    const auto name_end = line.find_first_of(" \t");
    if (name_end == std::string_view::npos) continue;
    const auto name = line.substr(0, name_end);
    auto value = trim(line.substr(name_end));
    if (const auto c = value.find("//"); c != std::string_view::npos) value = trim(value.substr(0, c));
    if (const auto c = value.find("/*"); c != std::string_view::npos) value = trim(value.substr(0, c));
    if (!value.empty()) defines.emplace(std::string(name), std::string(value));
  }
  auto resolve = [&](std::string_view name) -> std::optional<int> {
    std::string_view cur = name;
    for (int depth = 0; depth < 4; ++depth) {  // NV_TENSORRT_MAJOR -> TRT_MAJOR_ENTERPRISE -> 10
      const auto it = defines.find(cur);
      if (it == defines.end()) return std::nullopt;
      if (auto v = parse_uint(it->second)) return v;
      cur = it->second;
    }
    return std::nullopt;
  };
  const auto major = resolve("NV_TENSORRT_MAJOR");
  const auto minor = resolve("NV_TENSORRT_MINOR");
  if (!major || !minor) {
    return Error(ErrorCode::Corrupt,
                 std::string(what) + " defines no NV_TENSORRT_MAJOR/NV_TENSORRT_MINOR version");
  }
  TrtVersion v;
  v.major = *major;
  v.minor = *minor;
  v.patch = resolve("NV_TENSORRT_PATCH").value_or(0);
  v.build = resolve("NV_TENSORRT_BUILD").value_or(0);
  return v;
}

Result<TrtVersion> decode_lib_version(std::int64_t value) {
  if (value <= 0 || value > 9999999) {
    return Error(ErrorCode::InvalidArgument,
                 "getInferLibVersion() returned " + std::to_string(value) + ", not a version");
  }
  TrtVersion v;
  if (value >= 100000) {  // 10.x+: major*10000 + minor*100 + patch
    v.major = static_cast<int>(value / 10000);
    v.minor = static_cast<int>(value / 100 % 100);
    v.patch = static_cast<int>(value % 100);
  } else {  // up to 8.x: major*1000 + minor*100 + patch
    v.major = static_cast<int>(value / 1000);
    v.minor = static_cast<int>(value / 100 % 10);
    v.patch = static_cast<int>(value % 100);
  }
  return v;
}

bool engine_version_compatible(const TrtVersion& built, const TrtVersion& runtime) noexcept {
  if (built.major != runtime.major || built.minor != runtime.minor || built.patch != runtime.patch) {
    return false;
  }
  return built.build == 0 || runtime.build == 0 || built.build == runtime.build;
}

TrtFeatures features_of(const TrtVersion& v) noexcept {
  TrtFeatures f;
  f.supported = v >= kMinimumTrtVersion;
  f.precision_builder_flags = v.major < 11;
  f.int8_calibrator = v.major < 11;
  f.explicit_batch_flag = v.major < 10;
  f.strongly_typed_flag = v.major >= 9 && v.major < 11;
  f.always_strongly_typed = v.major >= 11;
  f.device_memory_v2 = v.major >= 10;
  return f;
}

}  // namespace aegisrt::trt
