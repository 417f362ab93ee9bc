// manifest.yaml -> ModelManifest with yaml-cpp: the entry points. The parser
// keeps going after a problem so one run reports every issue (file:line:col,
// field, what is wrong); no yaml-cpp exception or type leaves src/models.
//   yaml_reader.{h,cpp}      typed YAML readers, MapReader, issue reporting
//   manifest_sections.cpp    one parser per section
//   manifest_checks.cpp      checks across sections
//   manifest_names.h         one name table per enum (parsing + "allowed" lists)
#include <exception>
#include <string>

#include "aegisrt/core/file_util.h"
#include "aegisrt/models/manifest.h"
#include "manifest_sections.h"

namespace aegisrt::models {
namespace {

namespace fs = std::filesystem;
using detail::kMaxIssues;
using detail::kMaxManifestBytes;

ManifestReport analyze_impl(std::string_view text, const fs::path& origin) {
  ManifestReport report;
  detail::ManifestParser parser(origin, report.issues);
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
