// The manifest parser's YAML layer: helpers, MapReader and YamlReader's typed
// readers (see yaml_reader.h).
#include "yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "aegisrt/models/catalog.h"

namespace aegisrt::models::detail {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string suggestion(std::string_view got, const std::vector<std::string>& allowed) {
  auto near = nearest_name(got, allowed);
  return near.empty() ? std::string() : " (did you mean '" + near + "'?)";
}

/// Keeps error text readable when a fuzzer hands us a megabyte-long scalar.
std::string clip(std::string_view s) {
  constexpr std::size_t kMax = 64;
  if (s.size() <= kMax) return std::string(s);
  return std::string(s.substr(0, kMax)) + "...";
}

std::string_view node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "something else";
}

bool valid_identifier(std::string_view s, bool allow_upper_and_punct) {
  if (s.empty() || s.size() > 64) return false;
  auto first_ok = [&](char c) {
    return (c >= 'a' && c <= 'z') || (allow_upper_and_punct && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')));
  };
  if (!first_ok(s.front())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           (allow_upper_and_punct && ((c >= 'A' && c <= 'Z') || c == '-' || c == '.'));
  });
}

/// Value of `key` in a mapping, or an undefined node. (operator[] on a const
/// node yields a "zombie" whose Type() throws, so we never use it on maps.)
YAML::Node child(const YAML::Node& map, std::string_view key) {
  if (map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

/// A mark from a 1-based location we recorded earlier.
YAML::Mark make_mark(const SourceLocation& loc) {
  YAML::Mark m;
  m.line = std::max(loc.line - 1, 0);
  m.column = std::max(loc.column - 1, 0);
  return m;
}

MapReader::MapReader(YamlReader& p, const YAML::Node& node, std::string path, const YAML::Mark& anchor,
                     std::vector<std::string> allowed)
    : parser_(p), path_(std::move(path)), anchor_(anchor) {
  const std::string where = path_.empty() ? std::string("the manifest") : path_;
  if (!node.IsMap()) {
    parser_.report(ManifestIssueKind::WrongType, node, anchor, path_,
                   "expected a mapping (key: value lines), got " + std::string(node_kind(node)));
    return;
  }
  valid_ = true;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      parser_.report(ManifestIssueKind::WrongType, key, anchor_, path_, "keys must be plain text, got " +
                                                                            std::string(node_kind(key)));
      continue;
    }
    const std::string& k = key.Scalar();
    const bool duplicate = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == k; });
    if (duplicate) {
      parser_.report(ManifestIssueKind::DuplicateField, key, anchor_, field(k),
                     "'" + clip(k) + "' appears more than once in " + where);
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      parser_.report(ManifestIssueKind::UnknownField, key, anchor_, field(k),
                     "unknown field '" + clip(k) + "' in " + where + "; allowed: " + join(allowed) +
                         suggestion(k, allowed));
      continue;
    }
    entries_.push_back({k, key, it->second});
  }
}

YAML::Node MapReader::get(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return e.value;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

YAML::Mark MapReader::key_mark(std::string_view key) const {
  for (const auto& e : entries_) {
    if (e.key == key) return YamlReader::mark_of(e.key_node, anchor_);
  }
  return anchor_;
}

YAML::Node MapReader::require(std::string_view key) const {
  YAML::Node n = get(key);
  if (!n.IsDefined() && valid_) {
    parser_.report(ManifestIssueKind::MissingField, anchor_, field(key),
                   "missing required field '" + std::string(key) + "'" +
                       (path_.empty() ? std::string() : " in " + path_));
  }
  return n;
}

void YamlReader::report(ManifestIssueKind kind, const YAML::Mark& mark, std::string field, std::string message) {
  if (issues_.size() >= kMaxIssues) {
    truncated_ = true;
    return;
  }
  ManifestIssue issue;
  issue.kind = kind;
  issue.where.file = file_;
  if (!mark.is_null()) {
    issue.where.line = mark.line + 1;
    issue.where.column = mark.column + 1;
  }
  issue.field = std::move(field);
  issue.message = std::move(message);
  issues_.push_back(std::move(issue));
}

void YamlReader::report(ManifestIssueKind kind, const YAML::Node& at, const YAML::Mark& fallback, std::string field,
            std::string message) {
  report(kind, mark_of(at, fallback), std::move(field), std::move(message));
}

YAML::Mark YamlReader::mark_of(const YAML::Node& n, const YAML::Mark& fallback) {
  if (!n.IsDefined() || n.IsNull()) return fallback;
  const YAML::Mark m = n.Mark();
  return m.is_null() ? fallback : m;
}

std::optional<std::string> YamlReader::text(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
  if (!n.IsScalar()) {
    report(ManifestIssueKind::WrongType, n, fallback, field, "expected text, got " + std::string(node_kind(n)));
    return std::nullopt;
  }
  return n.Scalar();
}

std::optional<std::string> YamlReader::text(const MapReader& m, std::string_view key, bool required) {
  const YAML::Node n = required ? m.require(key) : m.get(key);
  if (!n.IsDefined()) return std::nullopt;
  return text(n, m.key_mark(key), m.field(key));
}

std::optional<std::int64_t> YamlReader::integer(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
  if (!n.IsScalar()) {
    report(ManifestIssueKind::WrongType, n, fallback, field, "expected an integer, got " + std::string(node_kind(n)));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  std::int64_t v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || s.empty()) {
    report(ManifestIssueKind::WrongType, n, fallback, field, "expected an integer, got '" + clip(s) + "'");
    return std::nullopt;
  }
  return v;
}

std::optional<double> YamlReader::number(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
  if (!n.IsScalar()) {
    report(ManifestIssueKind::WrongType, n, fallback, field, "expected a number, got " + std::string(node_kind(n)));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
  auto parse = [](std::string_view t) -> std::optional<double> {
    double v = 0;
    if (!t.empty() && t.front() == '+') t.remove_prefix(1);
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  };
  std::optional<double> v;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    auto num = parse(std::string_view(s).substr(0, slash));
    auto den = parse(std::string_view(s).substr(slash + 1));
    if (num && den && *den != 0.0) v = *num / *den;
  } else {
    v = parse(s);
  }
  if (!v) {
    report(ManifestIssueKind::WrongType, n, fallback, field, "expected a number, got '" + clip(s) + "'");
  }
  return v;
}

std::optional<double> YamlReader::threshold(const MapReader& m, std::string_view key, bool unit_interval) {
  const YAML::Node n = m.get(key);
  if (!n.IsDefined()) return std::nullopt;
  auto v = number(n, m.key_mark(key), m.field(key));
  if (v && unit_interval && (*v < 0.0 || *v > 1.0)) {
    report(ManifestIssueKind::OutOfRange, n, m.key_mark(key), m.field(key),
           "must be within [0, 1], got " + n.Scalar());
    return std::nullopt;
  }
  return v;
}

std::optional<int> YamlReader::positive_int(const MapReader& m, std::string_view key, std::int64_t max_value) {
  const YAML::Node n = m.get(key);
  if (!n.IsDefined()) return std::nullopt;
  auto v = integer(n, m.key_mark(key), m.field(key));
  if (!v) return std::nullopt;
  if (*v <= 0 || *v > max_value) {
    report(ManifestIssueKind::OutOfRange, n, m.key_mark(key), m.field(key),
           "must be within [1, " + std::to_string(max_value) + "], got " + std::to_string(*v));
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

std::optional<bool> YamlReader::boolean(const MapReader& m, std::string_view key) {
  const YAML::Node n = m.get(key);
  if (!n.IsDefined()) return std::nullopt;
  if (n.IsScalar()) {
    if (n.Scalar() == "true") return true;
    if (n.Scalar() == "false") return false;
    report(ManifestIssueKind::WrongType, n, m.key_mark(key), m.field(key),
           "expected true or false, got '" + clip(n.Scalar()) + "'");
    return std::nullopt;
  }
  report(ManifestIssueKind::WrongType, n, m.key_mark(key), m.field(key),
         "expected true or false, got " + std::string(node_kind(n)));
  return std::nullopt;
}

std::optional<std::string> YamlReader::choice(const MapReader& m, std::string_view key, bool required,
                                  const std::vector<std::string>& allowed, std::string_view what) {
  auto v = text(m, key, required);
  if (!v) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
    report(ManifestIssueKind::UnknownValue, m.get(key), m.key_mark(key), m.field(key),
           "unknown " + std::string(what) + " '" + clip(*v) + "'; allowed: " + join(allowed) +
               suggestion(*v, allowed));
    return std::nullopt;
  }
  return v;
}

bool YamlReader::is_list(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field, bool allow_empty) {
  if (!n.IsSequence()) {
    report(ManifestIssueKind::WrongType, n, fallback, field, "expected a list, got " + std::string(node_kind(n)));
    return false;
  }
  if (!allow_empty && n.size() == 0) {
    report(ManifestIssueKind::Inconsistent, n, fallback, field, "must not be empty");
    return false;
  }
  return true;
}

std::optional<std::vector<std::string>> YamlReader::name_list(const YAML::Node& n, const YAML::Mark& fallback,
                                                  const std::string& field, std::string* source) {
  if (n.IsScalar()) {
    if (const auto* builtin = builtin_name_list(n.Scalar())) {
      if (source) *source = n.Scalar();
      return *builtin;
    }
    std::vector<std::string> known;
    for (auto s : builtin_name_list_names()) known.emplace_back(s);
    report(ManifestIssueKind::UnknownValue, n, fallback, field,
           "unknown built-in name list '" + clip(n.Scalar()) + "'; built-in lists: " + join(known) +
               suggestion(n.Scalar(), known) + " (or give the names as a list)");
    return std::nullopt;
  }
  if (!is_list(n, fallback, field, false)) return std::nullopt;
  if (n.size() > kMaxNames) {
    report(ManifestIssueKind::OutOfRange, n, fallback, field,
           "lists " + std::to_string(n.size()) + " names; the limit is " + std::to_string(kMaxNames));
    return std::nullopt;
  }
  names_read_ += n.size();
  if (names_read_ > kMaxTotalNames) {
    report(ManifestIssueKind::OutOfRange, n, fallback, field,
           "the manifest's name lists hold more than " + std::to_string(kMaxTotalNames) +
               " names in all (YAML aliases count every time they are used)");
    return std::nullopt;
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  bool ok = true;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string item_field = field + "[" + std::to_string(i) + "]";
    auto s = text(n[i], mark_of(n, fallback), item_field);
    if (!s) {
      ok = false;
      continue;
    }
    if (!seen.insert(*s).second) {
      report(ManifestIssueKind::Inconsistent, n[i], mark_of(n, fallback), item_field, "duplicate name '" + clip(*s) + "'");
      ok = false;
    }
    out.push_back(*s);
  }
  if (!ok) return std::nullopt;
  if (source) *source = "inline";
  return out;
}

std::optional<ImageSize> YamlReader::image_size(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
  if (!is_list(n, fallback, field, true)) return std::nullopt;
  if (n.size() != 2) {
    report(ManifestIssueKind::WrongType, n, fallback, field,
           "expected [height, width], got a list of " + std::to_string(n.size()));
    return std::nullopt;
  }
  auto h = integer(n[0], mark_of(n, fallback), field + "[0]");
  auto w = integer(n[1], mark_of(n, fallback), field + "[1]");
  if (!h || !w) return std::nullopt;
  if (*h <= 0 || *w <= 0 || *h > kMaxImageSide || *w > kMaxImageSide) {
    report(ManifestIssueKind::OutOfRange, n, fallback, field,
           "height and width must be within [1, " + std::to_string(kMaxImageSide) + "], got [" +
               std::to_string(*h) + ", " + std::to_string(*w) + "]");
    return std::nullopt;
  }
  return ImageSize{static_cast<int>(*h), static_cast<int>(*w)};
}

}  // namespace aegisrt::models::detail
