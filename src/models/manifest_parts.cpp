// `parts:` of a manifest, at model level and per variant: every ONNX file a
// variant needs besides its own (SAM's prompt decoder, RTMPose's person
// detector). Syntax and rules: docs/MANIFEST.md "Multi-part models". The
// checks that need the other manifests (a referenced model exists, ...) are
// the catalog's (check_part_references in catalog.cpp).
#include <algorithm>
#include <set>

#include "manifest_sections.h"

namespace aegisrt::models::detail {

namespace {

/// At most this many parts in one `parts:` mapping (a bound on the work a
/// small file can cause, like kMaxVariants).
constexpr std::size_t kMaxParts = 16;

std::vector<std::string> part_keys() { return {std::begin(kPartKeys), std::end(kPartKeys)}; }

/// Lower-cases `hex` in place; true when it is 64 hexadecimal digits.
bool normalize_sha256(std::string& hex) {
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](char c) { return (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c; });
  return hex.size() == 64 &&
         std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

void ManifestParser::parse_parts(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field,
                                 std::vector<PartSpec>& out) {
  if (!n.IsMap()) {
    report(ManifestIssueKind::WrongType, n, anchor, field,
           "expected a mapping of part name to {onnx: FILE} or {model: NAME, variant: V}, got " +
               std::string(node_kind(n)));
    return;
  }
  if (n.size() == 0) {
    report(ManifestIssueKind::OutOfRange, n, anchor, field, "names no part; omit the key for a single-file model");
    return;
  }
  if (n.size() > kMaxParts) {
    report(ManifestIssueKind::OutOfRange, n, anchor, field,
           "lists " + std::to_string(n.size()) + " parts; the limit is " + std::to_string(kMaxParts));
    return;
  }
  const YAML::Mark map_mark = mark_of(n, anchor);
  std::set<std::string> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      report(ManifestIssueKind::WrongType, key, map_mark, field,
             "part names are plain text, got " + std::string(node_kind(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    const std::string f = field + "." + clip(name);
    if (!seen.insert(name).second) {
      report(ManifestIssueKind::DuplicateField, key, map_mark, f, "part '" + clip(name) + "' appears twice");
      continue;
    }
    if (name == kMainPart) {
      report(ManifestIssueKind::Inconsistent, key, map_mark, f,
             "'main' is the variant's own file (its 'onnx'); give the part another name");
      continue;
    }
    if (!valid_identifier(name, false)) {
      report(ManifestIssueKind::OutOfRange, key, map_mark, f,
             "'" + clip(name) + "' is not a valid part name (lower-case letters, digits, '_'; starts with a letter; "
             "at most 64)");
      continue;
    }
    PartSpec part;
    part.name = name;
    part.field = f;
    const YAML::Mark key_mark = mark_of(key, map_mark);
    part.where.file = file();
    part.where.line = key_mark.is_null() ? 0 : key_mark.line + 1;
    part.where.column = key_mark.is_null() ? 0 : key_mark.column + 1;
    if (parse_part(it->second, key_mark, f, part)) out.push_back(std::move(part));
  }
}

/// One `name: {...}` entry of a `parts:` mapping; false after reporting an issue.
bool ManifestParser::parse_part(const YAML::Node& n, const YAML::Mark& anchor, const std::string& f, PartSpec& part) {
  const std::size_t before = issue_count();
  MapReader p(*this, n, f, anchor, part_keys());
  if (!p.valid()) return false;
  const bool has_onnx = p.has("onnx");
  const bool has_model = p.has("model");
  if (has_onnx && has_model) {
    report(ManifestIssueKind::Inconsistent, p.get("model"), p.key_mark("model"), f,
           "part '" + part.name + "' names both a file ('onnx') and a catalog model ('model'); a part is one of them");
  } else if (!has_onnx && !has_model) {
    report(ManifestIssueKind::MissingField, p.anchor(), f + ".onnx",
           "part '" + part.name + "' names neither its ONNX file ('onnx: FILE') nor another catalog model "
           "('model: NAME', optionally with 'variant: V')");
  }
  if (auto d = text(p, "description", false)) part.description = *d;
  if (has_onnx) {
    part.kind = PartKind::File;
    if (auto o = text(p, "onnx", false)) {
      if (o->empty()) {
        report(ManifestIssueKind::OutOfRange, p.get("onnx"), p.key_mark("onnx"), p.field("onnx"),
               "must name the part's ONNX file");
      }
      part.onnx = *o;
    }
  }
  if (has_model) {
    part.kind = PartKind::Model;
    if (auto m = text(p, "model", false)) {
      if (!valid_identifier(*m, false)) {
        report(ManifestIssueKind::OutOfRange, p.get("model"), p.key_mark("model"), p.field("model"),
               "'" + clip(*m) + "' is not a model name (lower-case letters, digits, '_'; starts with a letter)");
      }
      part.model = *m;
    }
  }
  if (p.has("variant")) {
    if (!has_model) {
      report(ManifestIssueKind::Inconsistent, p.get("variant"), p.key_mark("variant"), p.field("variant"),
             "'variant' picks a variant of a referenced model; it needs 'model'");
    } else if (auto v = text(p, "variant", false)) {
      if (!valid_identifier(*v, true)) {
        report(ManifestIssueKind::OutOfRange, p.get("variant"), p.key_mark("variant"), p.field("variant"),
               "'" + clip(*v) + "' is not a variant name");
      }
      part.variant = *v;
    }
  }
  if (p.has("sha256")) {
    if (!has_onnx) {
      report(ManifestIssueKind::Inconsistent, p.get("sha256"), p.key_mark("sha256"), p.field("sha256"),
             "'sha256' pins the part's own file; a part that refers to a model is pinned by that model's manifest");
    } else if (auto h = text(p, "sha256", false)) {
      std::string hex = *h;
      if (!normalize_sha256(hex)) {
        report(ManifestIssueKind::OutOfRange, p.get("sha256"), p.key_mark("sha256"), p.field("sha256"),
               "must be the SHA-256 of the part's ONNX file: 64 hexadecimal digits, got '" + clip(*h) + "'");
      }
      part.sha256 = hex;
    }
  }
  if (YAML::Node c = p.get("classes"); c.IsDefined()) {
    if (!has_model) {
      report(ManifestIssueKind::Inconsistent, c, p.key_mark("classes"), p.field("classes"),
             "'classes' filters the detections of a referenced detector; it needs 'model'");
    } else if (auto names = name_list(c, p.key_mark("classes"), p.field("classes"), nullptr)) {
      part.classes = std::move(*names);  // never empty: name_list refuses an empty list
    }
  }
  return issue_count() == before;
}

/// What one manifest can tell about its parts: none refers to the model itself.
void ManifestParser::check_parts(const ModelManifest& m) {
  auto check = [&](const PartSpec& part) {
    if (part.kind == PartKind::Model && !m.name.empty() && part.model == m.name) {
      report(ManifestIssueKind::Inconsistent, make_mark(part.where), part.field + ".model",
             "a part cannot refer to its own model '" + m.name + "'; name its file with 'onnx'");
    }
  };
  for (const auto& part : m.parts) check(part);
  for (const auto& v : m.variants) {
    for (const auto& part : v.parts) check(part);
  }
}

}  // namespace aegisrt::models::detail
