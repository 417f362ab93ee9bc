// The manifest parser's YAML layer (private to src/models): typed readers for
// scalars, numbers, lists and name lists, a mapping reader that flags unknown
// and duplicate keys, and issue reporting with file:line:col. Every reader
// reports what is wrong and returns nullopt, so one run finds every problem.
// No yaml-cpp exception or type leaves src/models.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/models/manifest.h"
#include "aegisrt/models/manifest_names.h"

namespace aegisrt::models::detail {

constexpr std::size_t kMaxIssues = 100;  // a garbage file should not print megabytes
constexpr std::int64_t kMaxImageSide = 16384;
constexpr std::int64_t kMaxMemoryMb = 1 << 24;  // 16 TiB: anything above is a typo
constexpr std::size_t kMaxManifestBytes = 1 << 20;
// Bounds on the work a small file can cause (docs/MANIFEST.md "Limits"): a
// manifest lists at most kMaxVariants variants (and memory entries), a name
// list at most kMaxNames names, and all name lists together (YAML aliases can
// repeat one list many times) at most kMaxTotalNames.
constexpr std::size_t kMaxVariants = 256;
constexpr std::size_t kMaxNames = 32768;
constexpr std::size_t kMaxTotalNames = 65536;

std::string join(const std::vector<std::string>& items);
/// " (did you mean 'x'?)" when a name of `allowed` is near `got`; empty otherwise.
std::string suggestion(std::string_view got, const std::vector<std::string>& allowed);
/// Keeps error text readable when a fuzzer hands us a megabyte-long scalar.
std::string clip(std::string_view s);
/// "a scalar", "a list", ... for messages.
std::string_view node_kind(const YAML::Node& n);
/// Model names: [a-z][a-z0-9_]*; variant names (allow_upper_and_punct) also
/// take upper case, '-' and '.', and may start with a digit. At most 64.
bool valid_identifier(std::string_view s, bool allow_upper_and_punct);
/// Value of `key` in a mapping, or an undefined node. (operator[] on a const
/// node yields a "zombie" whose Type() throws, so we never use it on maps.)
YAML::Node child(const YAML::Node& map, std::string_view key);
/// A mark from a 1-based location we recorded earlier.
YAML::Mark make_mark(const SourceLocation& loc);

class YamlReader;

/// One YAML mapping: checks it is a mapping, flags duplicate and unknown keys
/// (with a suggestion), and hands out the values of the known ones.
class MapReader {
 public:
  MapReader(YamlReader& p, const YAML::Node& node, std::string path, const YAML::Mark& anchor,
            std::vector<std::string> allowed);

  [[nodiscard]] bool valid() const noexcept { return valid_; }
  /// Null node (IsDefined() false) when absent.
  [[nodiscard]] YAML::Node get(std::string_view key) const;
  [[nodiscard]] bool has(std::string_view key) const { return get(key).IsDefined(); }
  [[nodiscard]] YAML::Mark key_mark(std::string_view key) const;
  [[nodiscard]] const YAML::Mark& anchor() const noexcept { return anchor_; }
  [[nodiscard]] std::string field(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  /// Missing -> MissingField issue and an undefined node.
  YAML::Node require(std::string_view key) const;

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  YamlReader& parser_;
  std::string path_;
  YAML::Mark anchor_;
  std::vector<Entry> entries_;
  bool valid_ = false;
};

class YamlReader {
 public:
  YamlReader(std::filesystem::path file, std::vector<ManifestIssue>& issues)
      : file_(std::move(file)), issues_(issues) {}

  /// Records one issue (at most kMaxIssues; truncated() says when more came).

  void report(ManifestIssueKind kind, const YAML::Mark& mark, std::string field, std::string message);
  void report(ManifestIssueKind kind, const YAML::Node& at, const YAML::Mark& fallback, std::string field,
              std::string message);
  [[nodiscard]] bool truncated() const noexcept { return truncated_; }
  [[nodiscard]] std::size_t issue_count() const noexcept { return issues_.size(); }
  [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

  /// A node's position; `fallback` for absent or null nodes (yaml-cpp places a
  /// null value at the next token, which misleads).
  static YAML::Mark mark_of(const YAML::Node& n, const YAML::Mark& fallback);

  // ---- typed field readers. Each returns nullopt after reporting an issue.

  std::optional<std::string> text(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field);

  std::optional<std::string> text(const MapReader& m, std::string_view key, bool required);

  std::optional<std::int64_t> integer(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field);

  /// Decimal number, or a fraction "a/b" (handy for scale: 1/255).
  std::optional<double> number(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field);

  std::optional<double> threshold(const MapReader& m, std::string_view key, bool unit_interval);

  std::optional<int> positive_int(const MapReader& m, std::string_view key, std::int64_t max_value);

  /// `true` or `false` (optional key); WrongType otherwise.
  std::optional<bool> boolean(const MapReader& m, std::string_view key);

  /// A scalar from a fixed set; UnknownValue listing the set otherwise.
  std::optional<std::string> choice(const MapReader& m, std::string_view key, bool required,
                                    const std::vector<std::string>& allowed, std::string_view what);

  /// choice() over an enum's name table (manifest_names.h): the "allowed"
  /// list and the parsing come from the same rows.
  template <typename E>
  std::optional<E> choice(const MapReader& m, std::string_view key, bool required) {
    auto name = choice(m, key, required, allowed_names<E>(), NameTable<E>::what);
    if (!name) return std::nullopt;
    return parse_name<E>(*name);
  }

  /// A YAML list; WrongType otherwise. Empty lists are reported when !allow_empty.
  bool is_list(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field, bool allow_empty);

  /// A list of unique text items, or the name of a built-in list.
  std::optional<std::vector<std::string>> name_list(const YAML::Node& n, const YAML::Mark& fallback,
                                                    const std::string& field, std::string* source);

  /// [height, width], both within [1, kMaxImageSide].
  std::optional<ImageSize> image_size(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field);

 private:
  std::filesystem::path file_;
  std::vector<ManifestIssue>& issues_;
  bool truncated_ = false;
  std::size_t names_read_ = 0;  // items of every name list read so far (kMaxTotalNames)
};

}  // namespace aegisrt::models::detail
