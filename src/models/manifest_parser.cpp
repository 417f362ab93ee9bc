// manifest.yaml -> ModelManifest with yaml-cpp. The parser keeps going after a
// problem so one run reports every issue (file:line:col, field, what is wrong);
// no yaml-cpp exception or type leaves this file.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "aegisrt/core/file_util.h"
#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest.h"

namespace aegisrt::models {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxIssues = 100;     // a garbage file should not print megabytes
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

class Parser;

/// One YAML mapping: checks it is a mapping, flags duplicate and unknown keys
/// (with a suggestion), and hands out the values of the known ones.
class MapReader {
 public:
  MapReader(Parser& p, const YAML::Node& node, std::string path, const YAML::Mark& anchor,
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
  Parser& parser_;
  std::string path_;
  YAML::Mark anchor_;
  std::vector<Entry> entries_;
  bool valid_ = false;
};

class Parser {
 public:
  Parser(fs::path file, std::vector<ManifestIssue>& issues) : file_(std::move(file)), issues_(issues) {}

  void report(ManifestIssueKind kind, const YAML::Mark& mark, std::string field, std::string message) {
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
  void report(ManifestIssueKind kind, const YAML::Node& at, const YAML::Mark& fallback, std::string field,
              std::string message) {
    report(kind, mark_of(at, fallback), std::move(field), std::move(message));
  }
  [[nodiscard]] bool truncated() const noexcept { return truncated_; }

  /// A node's position; `fallback` for absent or null nodes (yaml-cpp places a
  /// null value at the next token, which misleads).
  static YAML::Mark mark_of(const YAML::Node& n, const YAML::Mark& fallback) {
    if (!n.IsDefined() || n.IsNull()) return fallback;
    const YAML::Mark m = n.Mark();
    return m.is_null() ? fallback : m;
  }

  // ---- typed field readers. Each returns nullopt after reporting an issue.

  std::optional<std::string> text(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
    if (!n.IsScalar()) {
      report(ManifestIssueKind::WrongType, n, fallback, field, "expected text, got " + std::string(node_kind(n)));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> text(const MapReader& m, std::string_view key, bool required) {
    const YAML::Node n = required ? m.require(key) : m.get(key);
    if (!n.IsDefined()) return std::nullopt;
    return text(n, m.key_mark(key), m.field(key));
  }

  std::optional<std::int64_t> integer(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
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

  /// Decimal number, or a fraction "a/b" (handy for scale: 1/255).
  std::optional<double> number(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
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

  std::optional<double> threshold(const MapReader& m, std::string_view key, bool unit_interval) {
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

  std::optional<int> positive_int(const MapReader& m, std::string_view key, std::int64_t max_value) {
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

  /// A scalar from a fixed set; UnknownValue listing the set otherwise.
  std::optional<std::string> choice(const MapReader& m, std::string_view key, bool required,
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

  /// A YAML list; WrongType otherwise. Empty lists are reported when !allow_empty.
  bool is_list(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field, bool allow_empty) {
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

  /// A list of unique text items, or the name of a built-in list.
  std::optional<std::vector<std::string>> name_list(const YAML::Node& n, const YAML::Mark& fallback,
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

  /// [height, width], both within [1, kMaxImageSide].
  std::optional<ImageSize> image_size(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field) {
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

  // ---- sections

  void parse_root(const YAML::Node& root, ModelManifest& m);

 private:
  void parse_model(const MapReader& top, ModelManifest& m);
  void parse_variants(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field, ModelManifest& m);
  void parse_source(const MapReader& top, ModelManifest& m);
  void parse_input(const MapReader& top, ModelManifest& m);
  void parse_preprocessing(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field,
                           int channels, InputSpec& in);
  void parse_output(const MapReader& top, ModelManifest& m);
  void parse_postprocessing(const MapReader& top, ModelManifest& m);
  void parse_resources(const MapReader& top, ModelManifest& m);
  void cross_check(const MapReader& top, ModelManifest& m);

  fs::path file_;
  std::vector<ManifestIssue>& issues_;
  bool truncated_ = false;
  // Which sections parsed cleanly enough for cross-checks to be meaningful.
  bool variants_ok_ = false;
  bool output_ok_ = false;
  std::set<std::string> memory_keys_;  // keys of resources.device_memory_mb, valid or not
  std::size_t names_read_ = 0;         // items of every name list read so far (kMaxTotalNames)
};

MapReader::MapReader(Parser& p, const YAML::Node& node, std::string path, const YAML::Mark& anchor,
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
    if (e.key == key) return Parser::mark_of(e.key_node, anchor_);
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

void Parser::parse_root(const YAML::Node& root, ModelManifest& m) {
  if (root.IsNull() || !root.IsDefined()) {
    report(ManifestIssueKind::MissingField, YAML::Mark(), "model", "the manifest is empty");
    return;
  }
  MapReader top(*this, root, "", YAML::Mark(),
                {"model", "source", "input", "output", "postprocessing", "resources"});
  if (!top.valid()) return;
  parse_model(top, m);
  parse_source(top, m);
  parse_input(top, m);
  parse_output(top, m);
  parse_postprocessing(top, m);
  parse_resources(top, m);
  cross_check(top, m);
}

void Parser::parse_model(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("model");
  if (!node.IsDefined()) return;
  MapReader model(*this, node, "model", top.key_mark("model"),
                  {"name", "family", "description", "variants", "default_variant", "backends", "precisions"});
  if (!model.valid()) return;

  if (auto name = text(model, "name", true)) {
    if (!valid_identifier(*name, false)) {
      report(ManifestIssueKind::OutOfRange, model.get("name"), model.key_mark("name"), "model.name",
             "'" + clip(*name) + "' is not a valid model name (lower-case letters, digits, '_'; starts with a letter)");
    } else {
      m.name = *name;
    }
  }
  if (auto family = text(model, "family", true)) m.family = *family;
  if (auto d = text(model, "description", false)) m.description = *d;

  if (YAML::Node v = model.require("variants"); v.IsDefined()) {
    parse_variants(v, model.key_mark("variants"), "model.variants", m);
  }
  if (auto dv = text(model, "default_variant", true)) m.default_variant = *dv;

  // backends: absent -> the default list; present -> a non-empty list from the vocabulary.
  if (YAML::Node b = model.get("backends"); !b.IsDefined()) {
    m.backends.assign(std::begin(kDefaultBackends), std::end(kDefaultBackends));
    m.backends_defaulted = true;
  } else if (is_list(b, model.key_mark("backends"), "model.backends", false)) {
    const auto vocabulary = backend_vocabulary_names();
    for (std::size_t i = 0; i < b.size(); ++i) {
      const std::string f = "model.backends[" + std::to_string(i) + "]";
      auto s = text(b[i], mark_of(b, model.key_mark("backends")), f);
      if (!s) continue;
      if (find_backend_entry(*s) == nullptr) {
        report(ManifestIssueKind::UnknownValue, b[i], mark_of(b, model.anchor()), f,
               "unknown backend '" + clip(*s) + "'; the vocabulary is: " + join(vocabulary) +
                   suggestion(*s, vocabulary));
      } else if (std::find(m.backends.begin(), m.backends.end(), *s) != m.backends.end()) {
        report(ManifestIssueKind::Inconsistent, b[i], mark_of(b, model.anchor()), f,
               "backend '" + *s + "' is listed twice");
      } else {
        m.backends.push_back(*s);
      }
    }
  }

  if (YAML::Node p = model.require("precisions"); p.IsDefined() && is_list(p, model.key_mark("precisions"),
                                                                           "model.precisions", false)) {
    const std::vector<std::string> allowed = {"fp32", "fp16", "int8"};
    for (std::size_t i = 0; i < p.size(); ++i) {
      const std::string f = "model.precisions[" + std::to_string(i) + "]";
      auto s = text(p[i], mark_of(p, model.anchor()), f);
      if (!s) continue;
      const bool known = std::find(allowed.begin(), allowed.end(), *s) != allowed.end();
      if (!known) {
        report(ManifestIssueKind::UnknownValue, p[i], mark_of(p, model.anchor()), f,
               "precision '" + clip(*s) + "' is not allowed; allowed: " + join(allowed) + suggestion(*s, allowed));
        continue;
      }
      const Precision prec = *parse_precision(*s);
      if (std::find(m.precisions.begin(), m.precisions.end(), prec) != m.precisions.end()) {
        report(ManifestIssueKind::Inconsistent, p[i], mark_of(p, model.anchor()), f,
               "precision '" + *s + "' is listed twice");
        continue;
      }
      m.precisions.push_back(prec);
    }
  }
}

void Parser::parse_variants(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field,
                            ModelManifest& m) {
  if (!is_list(n, fallback, field, false)) return;
  if (n.size() > kMaxVariants) {
    report(ManifestIssueKind::OutOfRange, n, fallback, field,
           "lists " + std::to_string(n.size()) + " variants; the limit is " + std::to_string(kMaxVariants));
    return;
  }
  const std::size_t before = issues_.size();
  const YAML::Mark list_mark = mark_of(n, fallback);
  std::set<std::string> names_seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    const YAML::Node item = n[i];
    VariantSpec spec;
    spec.where.file = file_;
    const YAML::Mark item_mark = mark_of(item, list_mark);
    spec.where.line = item_mark.is_null() ? 0 : item_mark.line + 1;
    spec.where.column = item_mark.is_null() ? 0 : item_mark.column + 1;
    if (item.IsScalar()) {
      spec.name = item.Scalar();
    } else if (item.IsMap()) {
      MapReader v(*this, item, f, item_mark,
                  {"name", "description", "onnx", "sha256", "input_size", "class_names", "output_layout"});
      auto name = text(v, "name", true);
      if (!name) continue;
      spec.name = *name;
      if (auto d = text(v, "description", false)) spec.description = *d;
      if (auto o = text(v, "onnx", false)) {
        if (o->empty()) {
          report(ManifestIssueKind::OutOfRange, v.get("onnx"), v.key_mark("onnx"), v.field("onnx"),
                 "must name a file (omit it for '<variant>.onnx')");
        }
        spec.onnx = *o;
      }
      if (auto h = text(v, "sha256", false)) {
        std::string hex = *h;
        std::transform(hex.begin(), hex.end(), hex.begin(),
                       [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c; });
        const bool valid = hex.size() == 64 && std::all_of(hex.begin(), hex.end(), [](char c) {
                             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                           });
        if (!valid) {
          report(ManifestIssueKind::OutOfRange, v.get("sha256"), v.key_mark("sha256"), v.field("sha256"),
                 "must be the SHA-256 of the variant's ONNX file: 64 hexadecimal digits, got '" + clip(*h) + "'");
        }
        spec.sha256 = hex;
      }
      if (YAML::Node s = v.get("input_size"); s.IsDefined()) {
        spec.input_size = image_size(s, v.key_mark("input_size"), v.field("input_size"));
      }
      if (YAML::Node c = v.get("class_names"); c.IsDefined()) {
        spec.class_names = name_list(c, v.key_mark("class_names"), v.field("class_names"), nullptr);
      }
      if (auto l = text(v, "output_layout", false)) {
        // A variant with another head of the same family (yolo -seg, -pose).
        if (auto layout = parse_output_layout(*l)) {
          spec.output_layout = *layout;
        } else {
          report(ManifestIssueKind::UnknownValue, v.get("output_layout"), v.key_mark("output_layout"),
                 v.field("output_layout"), "unknown output layout '" + clip(*l) + "'");
        }
      }
    } else {
      report(ManifestIssueKind::WrongType, item, list_mark, f,
             "a variant is a name or a mapping with 'name', got " + std::string(node_kind(item)));
      continue;
    }
    if (!valid_identifier(spec.name, true)) {
      // Variant names end up in cache file names ({variant}_{precision}.engine).
      report(ManifestIssueKind::OutOfRange, item, list_mark, f,
             "'" + clip(spec.name) + "' is not a valid variant name (letters, digits, '_', '-', '.'; "
             "at most 64; starts with a letter or digit)");
      continue;
    }
    if (!names_seen.insert(spec.name).second) {
      report(ManifestIssueKind::Inconsistent, item, list_mark, f, "variant '" + spec.name + "' is listed twice");
      continue;
    }
    m.variants.push_back(std::move(spec));
  }
  variants_ok_ = issues_.size() == before;
}

void Parser::parse_source(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("source");
  if (!node.IsDefined()) return;
  MapReader s(*this, node, "source", top.key_mark("source"), {"weights", "export", "license", "url"});
  if (!s.valid()) return;
  if (auto w = text(s, "weights", true)) m.source.weights = *w;
  if (auto e = text(s, "export", true)) m.source.export_command = *e;
  if (auto l = text(s, "license", false)) m.source.license = *l;
  if (auto u = text(s, "url", false)) m.source.url = *u;
}

void Parser::parse_input(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("input");
  if (!node.IsDefined()) return;
  MapReader in(*this, node, "input", top.key_mark("input"),
               {"type", "color_format", "dtype", "tensor_name", "preprocessing", "prompt"});
  if (!in.valid()) return;
  auto type = choice(in, "type", true, {"image", "image_text", "detections"}, "input type");
  if (type) {
    m.input.type = *type == "image" ? InputType::Image
                   : *type == "image_text" ? InputType::ImageText
                                           : InputType::Detections;
  }
  const bool has_image = !type || m.input.type != InputType::Detections;
  if (auto c = choice(in, "color_format", has_image, {"rgb", "bgr", "gray"}, "color format")) {
    m.input.color_format = *c == "rgb" ? ColorFormat::RGB : *c == "bgr" ? ColorFormat::BGR : ColorFormat::Gray;
  }
  if (auto d = text(in, "dtype", false)) {
    if (auto dt = parse_dtype(*d)) {
      m.input.dtype = *dt;
    } else {
      report(ManifestIssueKind::UnknownValue, in.get("dtype"), in.key_mark("dtype"), "input.dtype",
             "unknown dtype '" + clip(*d) + "'; allowed: float32, float16, uint8, int8, int32, int64");
    }
  }
  if (auto t = text(in, "tensor_name", false)) m.input.tensor_name = *t;

  if (has_image) {
    if (YAML::Node p = in.require("preprocessing"); p.IsDefined()) {
      parse_preprocessing(p, in.key_mark("preprocessing"), "input.preprocessing", m.input.channels(), m.input);
    }
  } else if (in.has("preprocessing")) {
    report(ManifestIssueKind::Inconsistent, in.key_mark("preprocessing"), "input.preprocessing",
           "an input of type 'detections' has no image to pre-process; remove this section");
  }

  const bool wants_prompt = type && m.input.type == InputType::ImageText;
  if (YAML::Node pr = wants_prompt ? in.require("prompt") : in.get("prompt"); pr.IsDefined()) {
    if (!wants_prompt) {
      report(ManifestIssueKind::Inconsistent, in.key_mark("prompt"), "input.prompt",
             "only inputs of type 'image_text' take a prompt");
    } else {
      MapReader p(*this, pr, "input.prompt", in.key_mark("prompt"), {"tokenizer", "max_tokens"});
      if (p.valid()) {
        PromptSpec spec;
        if (auto t = text(p, "tokenizer", true)) spec.tokenizer = *t;
        if (p.require("max_tokens").IsDefined()) {
          if (auto mt = positive_int(p, "max_tokens", 1 << 16)) spec.max_tokens = *mt;
        }
        m.input.prompt = spec;
      }
    }
  }
}

void Parser::parse_preprocessing(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field,
                                 int channels, InputSpec& in) {
  MapReader p(*this, n, field, anchor, {"resize", "size", "pad_value", "pad_position", "normalize", "layout"});
  if (!p.valid()) return;
  Preprocessing pre;
  if (auto r = choice(p, "resize", true, {"letterbox", "resize"}, "resize method")) {
    pre.resize = *r == "letterbox" ? ResizeMethod::Letterbox : ResizeMethod::Resize;
  }
  if (YAML::Node s = p.require("size"); s.IsDefined()) {
    if (auto sz = image_size(s, p.key_mark("size"), p.field("size"))) pre.size = *sz;
  }
  if (YAML::Node pv = p.get("pad_value"); pv.IsDefined()) {
    if (auto v = integer(pv, p.key_mark("pad_value"), p.field("pad_value"))) {
      if (*v < 0 || *v > 255) {
        report(ManifestIssueKind::OutOfRange, pv, p.key_mark("pad_value"), p.field("pad_value"),
               "must be within [0, 255], got " + std::to_string(*v));
      } else {
        pre.pad_value = static_cast<int>(*v);
      }
    }
  }
  if (auto pp = choice(p, "pad_position", false, {"center", "top_left"}, "pad position")) {
    pre.pad_position = *pp == "center" ? PadPosition::Center : PadPosition::TopLeft;
  }
  if (auto l = choice(p, "layout", true, {"NCHW", "NHWC"}, "layout")) {
    pre.layout = *l == "NCHW" ? Layout::NCHW : Layout::NHWC;
  }
  if (YAML::Node norm = p.require("normalize"); norm.IsDefined()) {
    MapReader nr(*this, norm, p.field("normalize"), p.key_mark("normalize"), {"scale", "mean", "std"});
    if (nr.valid()) {
      if (YAML::Node sc = nr.get("scale"); sc.IsDefined()) {
        if (auto v = number(sc, nr.key_mark("scale"), nr.field("scale"))) {
          if (*v <= 0.0) {
            report(ManifestIssueKind::OutOfRange, sc, nr.key_mark("scale"), nr.field("scale"),
                   "must be positive, got " + clip(sc.Scalar()));
          } else {
            pre.normalize.scale = *v;
          }
        }
      }
      auto channel_list = [&](std::string_view key, bool positive) -> std::vector<double> {
        YAML::Node l = nr.require(key);
        if (!l.IsDefined()) return {};
        const std::string f = nr.field(key);
        if (!is_list(l, nr.key_mark(key), f, false)) return {};
        if (static_cast<int>(l.size()) != channels) {
          report(ManifestIssueKind::Inconsistent, l, nr.key_mark(key), f,
                 "needs " + std::to_string(channels) + " value(s), one per channel of the colour format; got " +
                     std::to_string(l.size()));
          return {};
        }
        std::vector<double> out;
        for (std::size_t i = 0; i < l.size(); ++i) {
          auto v = number(l[i], mark_of(l, nr.anchor()), f + "[" + std::to_string(i) + "]");
          if (!v) return {};
          if (positive && *v <= 0.0) {
            report(ManifestIssueKind::OutOfRange, l[i], mark_of(l, nr.anchor()), f + "[" + std::to_string(i) + "]",
                   "must be positive (it divides), got " + clip(l[i].Scalar()));
            return {};
          }
          out.push_back(*v);
        }
        return out;
      };
      pre.normalize.mean = channel_list("mean", false);
      pre.normalize.stddev = channel_list("std", true);
    }
  }
  in.preprocessing = pre;
}

void Parser::parse_output(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("output");
  if (!node.IsDefined()) return;
  const std::size_t before = issues_.size();
  MapReader out(*this, node, "output", top.key_mark("output"),
                {"type", "layout", "fields", "class_names", "keypoint_names"});
  if (!out.valid()) return;
  std::vector<std::string> types;
  for (auto t : {OutputType::Detections, OutputType::DepthMap, OutputType::Keypoints, OutputType::Segmentation,
                 OutputType::TrackedObjects, OutputType::MultiTask}) {
    types.emplace_back(to_string(t));
  }
  std::optional<OutputType> type;
  if (auto t = choice(out, "type", true, types, "output type")) {
    type = parse_output_type(*t);
    m.output.type = *type;
  }
  if (auto l = text(out, "layout", true)) {
    auto layout = parse_output_layout(*l);
    std::vector<std::string> allowed;
    for (auto cand : {OutputLayout::YoloV8, OutputLayout::GroundingDino, OutputLayout::RelativeInverseDepth,
                      OutputLayout::MetricDepth, OutputLayout::SimCC, OutputLayout::SamMasks, OutputLayout::Tracks,
                      OutputLayout::Seq2SeqTokens}) {
      if (!type || output_type_of(cand) == *type) allowed.emplace_back(to_string(cand));
    }
    if (!layout) {
      report(ManifestIssueKind::UnknownValue, out.get("layout"), out.key_mark("layout"), "output.layout",
             "unknown output layout '" + clip(*l) + "'; allowed" +
                 (type ? " for type " + std::string(to_string(*type)) : std::string()) + ": " + join(allowed) +
                 suggestion(*l, allowed));
    } else if (type && output_type_of(*layout) != *type) {
      report(ManifestIssueKind::Inconsistent, out.get("layout"), out.key_mark("layout"), "output.layout",
             "layout '" + *l + "' decodes " + std::string(to_string(output_type_of(*layout))) +
                 ", not " + std::string(to_string(*type)) + "; allowed for " + std::string(to_string(*type)) +
                 ": " + join(allowed));
    } else {
      m.output.layout = *layout;
    }
  }

  if (YAML::Node f = out.require("fields"); f.IsDefined() && is_list(f, out.key_mark("fields"), "output.fields", false)) {
    const YAML::Mark list_mark = mark_of(f, out.anchor());
    for (std::size_t i = 0; i < f.size(); ++i) {
      const std::string fp = "output.fields[" + std::to_string(i) + "]";
      MapReader fr(*this, f[i], fp, mark_of(f[i], list_mark), {"name", "dtype", "shape", "description"});
      if (!fr.valid()) continue;
      OutputField field;
      if (auto nm = text(fr, "name", true)) {
        if (m.output.find_field(*nm) != nullptr) {
          report(ManifestIssueKind::Inconsistent, fr.get("name"), fr.key_mark("name"), fr.field("name"),
                 "output field '" + clip(*nm) + "' is declared twice");
        }
        field.name = *nm;
      }
      if (auto d = text(fr, "dtype", true)) {
        if (auto dt = parse_dtype(*d)) {
          field.dtype = *dt;
        } else {
          report(ManifestIssueKind::UnknownValue, fr.get("dtype"), fr.key_mark("dtype"), fr.field("dtype"),
                 "unknown dtype '" + clip(*d) + "'; allowed: float32, float16, uint8, int8, int32, int64, bool");
        }
      }
      if (auto desc = text(fr, "description", false)) field.description = *desc;
      if (YAML::Node s = fr.require("shape"); s.IsDefined() && is_list(s, fr.key_mark("shape"), fr.field("shape"), false)) {
        for (std::size_t d = 0; d < s.size(); ++d) {
          const std::string df = fr.field("shape") + "[" + std::to_string(d) + "]";
          const YAML::Node dim = s[d];
          if (!dim.IsScalar()) {
            report(ManifestIssueKind::WrongType, dim, mark_of(s, fr.anchor()), df,
                   "a dimension is an integer or a symbolic name, got " + std::string(node_kind(dim)));
            continue;
          }
          std::int64_t v = 0;
          const std::string& txt = dim.Scalar();
          auto [ptr, ec] = std::from_chars(txt.data(), txt.data() + txt.size(), v);
          if (!txt.empty() && ec == std::errc() && ptr == txt.data() + txt.size()) {
            if (v <= 0 && v != kDynamicDim) {
              report(ManifestIssueKind::OutOfRange, dim, mark_of(s, fr.anchor()), df,
                     "a dimension is positive, -1 (dynamic) or a symbolic name, got " + txt);
              continue;
            }
            field.shape.push_back(v);
            field.dim_names.emplace_back();
          } else if (valid_identifier(txt, true) || txt.find('+') != std::string::npos) {
            field.shape.push_back(kDynamicDim);
            field.dim_names.push_back(txt);
          } else {
            report(ManifestIssueKind::WrongType, dim, mark_of(s, fr.anchor()), df,
                   "a dimension is an integer or a symbolic name, got '" + clip(txt) + "'");
          }
        }
      }
      m.output.fields.push_back(std::move(field));
    }
  }

  if (YAML::Node c = out.get("class_names"); c.IsDefined()) {
    if (auto names = name_list(c, out.key_mark("class_names"), "output.class_names", &m.output.class_names_source)) {
      m.output.class_names = std::move(*names);
    }
  }
  if (YAML::Node k = out.get("keypoint_names"); k.IsDefined()) {
    if (auto names = name_list(k, out.key_mark("keypoint_names"), "output.keypoint_names", nullptr)) {
      m.output.keypoint_names = std::move(*names);
    }
  }
  output_ok_ = issues_.size() == before && type.has_value();
}

void Parser::parse_postprocessing(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.get("postprocessing");
  if (!node.IsDefined()) return;
  MapReader p(*this, node, "postprocessing", top.key_mark("postprocessing"),
              {"confidence_threshold", "nms_iou_threshold", "max_detections", "text_threshold",
               "keypoint_threshold", "mask_threshold", "color_map", "track_high_threshold", "track_low_threshold",
               "new_track_threshold", "match_threshold", "track_buffer"});
  if (!p.valid()) return;
  auto& pp = m.postprocessing;
  pp.confidence_threshold = threshold(p, "confidence_threshold", true);
  pp.nms_iou_threshold = threshold(p, "nms_iou_threshold", true);
  pp.max_detections = positive_int(p, "max_detections", 1 << 20);
  pp.text_threshold = threshold(p, "text_threshold", true);
  pp.keypoint_threshold = threshold(p, "keypoint_threshold", true);
  pp.mask_threshold = threshold(p, "mask_threshold", false);
  pp.color_map = choice(p, "color_map", false, {"inferno", "viridis", "magma", "turbo", "gray"}, "color map");
  pp.track_high_threshold = threshold(p, "track_high_threshold", true);
  pp.track_low_threshold = threshold(p, "track_low_threshold", true);
  pp.new_track_threshold = threshold(p, "new_track_threshold", true);
  pp.match_threshold = threshold(p, "match_threshold", true);
  pp.track_buffer = positive_int(p, "track_buffer", 1 << 20);
  if (pp.track_high_threshold && pp.track_low_threshold && *pp.track_low_threshold > *pp.track_high_threshold) {
    report(ManifestIssueKind::Inconsistent, p.key_mark("track_low_threshold"), "postprocessing.track_low_threshold",
           "must not exceed track_high_threshold");
  }
}

void Parser::parse_resources(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("resources");
  if (!node.IsDefined()) return;
  MapReader r(*this, node, "resources", top.key_mark("resources"), {"device_memory_mb"});
  if (!r.valid()) return;
  const YAML::Node mem = r.require("device_memory_mb");
  if (!mem.IsDefined()) return;
  if (!mem.IsMap()) {
    report(ManifestIssueKind::WrongType, mem, r.key_mark("device_memory_mb"), "resources.device_memory_mb",
           "expected a mapping variant: megabytes, got " + std::string(node_kind(mem)));
    return;
  }
  const YAML::Mark anchor = r.key_mark("device_memory_mb");
  if (mem.size() > kMaxVariants) {
    report(ManifestIssueKind::OutOfRange, mem, anchor, "resources.device_memory_mb",
           "lists " + std::to_string(mem.size()) + " entries; the limit is " + std::to_string(kMaxVariants) +
               " (one per variant)");
    return;
  }
  for (auto it = mem.begin(); it != mem.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      report(ManifestIssueKind::WrongType, key, anchor, "resources.device_memory_mb",
             "keys are variant names, got " + std::string(node_kind(key)));
      continue;
    }
    const std::string f = "resources.device_memory_mb." + clip(key.Scalar());
    // Remember the key even if its value is bad, so the cross-check does not
    // also call it missing.
    const bool first_time = memory_keys_.insert(key.Scalar()).second;
    if (!first_time) {
      report(ManifestIssueKind::DuplicateField, key, anchor, f, "variant '" + clip(key.Scalar()) + "' appears twice");
      continue;
    }
    auto v = integer(it->second, mark_of(key, anchor), f);
    if (!v) continue;
    if (*v < 0) {
      report(ManifestIssueKind::OutOfRange, it->second, mark_of(key, anchor), f,
             "device memory must not be negative, got " + std::to_string(*v) + " MB");
      continue;
    }
    if (*v > kMaxMemoryMb) {
      report(ManifestIssueKind::OutOfRange, it->second, mark_of(key, anchor), f,
             "device memory of " + std::to_string(*v) + " MB is implausible (max " + std::to_string(kMaxMemoryMb) + ")");
      continue;
    }
    m.device_memory_mb.emplace(key.Scalar(), *v);
  }
}

void Parser::cross_check(const MapReader& top, ModelManifest& m) {
  const YAML::Node model = top.get("model");
  const bool model_is_map = model.IsMap();
  auto model_key = [&](std::string_view key) -> std::pair<YAML::Node, YAML::Mark> {
    if (!model_is_map) return {YAML::Node(YAML::NodeType::Undefined), top.key_mark("model")};
    for (auto it = model.begin(); it != model.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return {it->second, mark_of(it->first, top.anchor())};
    }
    return {YAML::Node(YAML::NodeType::Undefined), top.key_mark("model")};
  };

  if (variants_ok_ && !m.default_variant.empty() && m.find_variant(m.default_variant) == nullptr) {
    auto [node, mark] = model_key("default_variant");
    const auto names = m.variant_names();
    report(ManifestIssueKind::Inconsistent, node, mark, "model.default_variant",
           "default variant '" + clip(m.default_variant) + "' is not one of the variants: " + join(names) +
               suggestion(m.default_variant, names));
  }

  // resources must cover exactly the variants.
  if (variants_ok_ && top.get("resources").IsMap()) {
    const YAML::Node res = top.get("resources");
    const YAML::Mark res_mark = top.key_mark("resources");
    for (const auto& v : m.variants) {
      if (!memory_keys_.contains(v.name)) {
        report(ManifestIssueKind::MissingField, res_mark, "resources.device_memory_mb." + v.name,
               "no device memory given for variant '" + v.name + "'");
      }
    }
    const YAML::Node mem = child(res, "device_memory_mb");
    if (mem.IsMap() && mem.size() <= kMaxVariants) {
      const auto names = m.variant_names();
      for (auto it = mem.begin(); it != mem.end(); ++it) {
        if (!it->first.IsScalar()) continue;
        const std::string& k = it->first.Scalar();
        if (m.find_variant(k) == nullptr) {
          report(ManifestIssueKind::Inconsistent, it->first, res_mark, "resources.device_memory_mb." + clip(k),
                 "'" + clip(k) + "' is not a variant; variants: " + join(names) + suggestion(k, names));
        }
      }
    }
  }

  const auto out_mark = top.key_mark("output");
  if (output_ok_) {
    const auto& out = m.output;
    if (out.layout == OutputLayout::YoloV8) {
      if (out.class_names.empty()) {
        report(ManifestIssueKind::MissingField, out_mark, "output.class_names",
               "layout yolo_v8 needs class_names (a list, or a built-in list such as coco80)");
      }
      const OutputField& f0 = out.fields.front();
      if (f0.shape.size() != 3) {
        report(ManifestIssueKind::Inconsistent, out_mark, "output.fields[0].shape",
               "layout yolo_v8 expects [batch, 4+num_classes, num_anchors], got rank " +
                   std::to_string(f0.shape.size()));
      } else if (f0.shape[1] != kDynamicDim && !out.class_names.empty() &&
                 f0.shape[1] != 4 + static_cast<std::int64_t>(out.class_names.size())) {
        report(ManifestIssueKind::Inconsistent, out_mark, "output.fields[0].shape",
               "layout yolo_v8 with " + std::to_string(out.class_names.size()) + " classes needs shape[1] = " +
                   std::to_string(4 + out.class_names.size()) + ", got " + std::to_string(f0.shape[1]));
      }
    }
    if (out.layout == OutputLayout::SimCC && out.keypoint_names.empty()) {
      report(ManifestIssueKind::MissingField, out_mark, "output.keypoint_names",
             "layout simcc needs keypoint_names (a list, or coco17_keypoints)");
    }
    if (out.layout == OutputLayout::SimCC && !out.keypoint_names.empty()) {
      for (std::size_t i = 0; i < out.fields.size(); ++i) {
        const auto& f = out.fields[i];
        if (f.shape.size() == 3 && f.shape[1] != kDynamicDim &&
            f.shape[1] != static_cast<std::int64_t>(out.keypoint_names.size())) {
          report(ManifestIssueKind::Inconsistent, out_mark, "output.fields[" + std::to_string(i) + "].shape",
                 "simcc output '" + f.name + "' has " + std::to_string(f.shape[1]) + " keypoints but keypoint_names has " +
                     std::to_string(out.keypoint_names.size()));
        }
      }
    }
    if (out.type != OutputType::Detections && out.type != OutputType::TrackedObjects && !out.class_names.empty()) {
      report(ManifestIssueKind::Inconsistent, out_mark, "output.class_names",
             "class_names apply to detections and tracked_objects outputs only");
    }
    for (const auto& v : m.variants) {
      if (v.class_names && out.type != OutputType::Detections) {
        report(ManifestIssueKind::Inconsistent, v.where.line > 0 ? make_mark(v.where) : out_mark,
               "model.variants." + v.name + ".class_names", "class_names overrides apply to detections outputs only");
      }
    }
  }
  for (const auto& v : m.variants) {
    if (v.input_size && !m.input.preprocessing && m.input.type == InputType::Detections) {
      report(ManifestIssueKind::Inconsistent, make_mark(v.where),
             "model.variants." + v.name + ".input_size", "input_size applies to image inputs only");
    }
  }
}

ManifestReport analyze_impl(std::string_view text, const fs::path& origin) {
  ManifestReport report;
  Parser parser(origin, report.issues);
  if (text.size() > kMaxManifestBytes) {
    parser.report(ManifestIssueKind::OutOfRange, YAML::Mark::null_mark(), "",
                  "manifest is " + std::to_string(text.size()) + " bytes; the limit is " +
                      std::to_string(kMaxManifestBytes));
    return report;
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg.empty() ? std::string("malformed YAML") : "malformed YAML: " + e.msg;
    parser.report(ManifestIssueKind::MalformedYaml, e.mark, "", std::move(msg));
    return report;
  }
  ModelManifest m;
  m.manifest_path = origin;
  try {
    parser.parse_root(root, m);
  } catch (const YAML::Exception& e) {
    // Should not happen (we never call throwing accessors on absent nodes), but
    // a malformed document must never escape as an exception.
    parser.report(ManifestIssueKind::MalformedYaml, e.mark, "", "YAML error while reading the manifest: " + e.msg);
  }
  if (parser.truncated()) {
    report.issues.push_back({ManifestIssueKind::Inconsistent, {origin, 0, 0}, "",
                             "more than " + std::to_string(kMaxIssues) + " issues; the rest are not shown"});
  }
  if (report.issues.empty()) report.manifest = std::move(m);
  return report;
}

Error issues_to_error(const std::vector<ManifestIssue>& issues, const fs::path& origin) {
  std::string msg = std::to_string(issues.size()) + " problem(s) in " +
                    (origin.empty() ? std::string("manifest") : origin.string()) + ":";
  for (const auto& i : issues) msg += "\n  " + to_string(i);
  ErrorCode code = ErrorCode::InvalidArgument;
  if (issues.size() == 1 && issues.front().kind == ManifestIssueKind::Io) code = ErrorCode::IoError;
  return Error(code, std::move(msg));
}

}  // namespace

ManifestReport analyze_manifest(std::string_view yaml_text, const fs::path& origin) noexcept {
  try {
    return analyze_impl(yaml_text, origin);
  } catch (const std::exception& e) {
    ManifestReport r;
    r.issues.push_back({ManifestIssueKind::MalformedYaml, {origin, 0, 0}, "",
                        std::string("could not process the manifest: ") + e.what()});
    return r;
  } catch (...) {
    ManifestReport r;
    r.issues.push_back({ManifestIssueKind::MalformedYaml, {origin, 0, 0}, "", "could not process the manifest"});
    return r;
  }
}

ManifestReport analyze_manifest_file(const fs::path& file) noexcept {
  try {
    // read_file refuses FIFOs, sockets, devices, dangling links and link loops
    // (without blocking) and files over the size limit, naming the file.
    auto text = read_file(file, "manifest", kMaxManifestBytes);
    if (!text.ok()) {
      ManifestReport r;
      const bool too_big = text.error().code() == ErrorCode::InvalidArgument &&
                           text.error().message().find("more than the limit") != std::string::npos;
      r.issues.push_back({too_big ? ManifestIssueKind::OutOfRange : ManifestIssueKind::Io, {file, 0, 0}, "",
                          text.error().message()});
      return r;
    }
    return analyze_manifest(*text, file);
  } catch (const std::exception& e) {
    ManifestReport r;
    r.issues.push_back({ManifestIssueKind::Io, {file, 0, 0}, "", std::string("could not read the file: ") + e.what()});
    return r;
  }
}

Result<ModelManifest> parse_manifest(std::string_view yaml_text, const fs::path& origin) {
  auto report = analyze_manifest(yaml_text, origin);
  if (!report.ok()) return issues_to_error(report.issues, origin);
  return std::move(*report.manifest);
}

Result<ModelManifest> load_manifest(const fs::path& file) {
  // Missing or dangling: NotFound; a FIFO, socket, device or link loop:
  // InvalidArgument; both naming the file.
  if (auto checked = check_regular_file(file, "manifest"); !checked.ok()) return checked.error();
  auto report = analyze_manifest_file(file);
  if (!report.ok()) return issues_to_error(report.issues, file);
  return std::move(*report.manifest);
}

}  // namespace aegisrt::models
