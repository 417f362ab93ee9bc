// ModelCatalog: folder scan, lookup with suggestions, selection validation and
// the models-folder resolution rule.
#include "aegisrt/models/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include "aegisrt/backend/backend_vocabulary.h"

namespace aegisrt::models {
namespace {

namespace fs = std::filesystem;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string did_you_mean(std::string_view got, const std::vector<std::string>& candidates) {
  auto near = nearest_name(got, candidates);
  return near.empty() ? std::string() : " (did you mean '" + near + "'?)";
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

}  // namespace

// ---------------------------------------------------------------- parts

namespace {

/// The parts of every variant of `m`, each once (model-level parts appear in
/// each variant's list; they are reported once, at their own line).
std::vector<PartSpec> declared_parts(const ModelManifest& m) {
  std::vector<PartSpec> out = m.parts;
  for (const auto& v : m.variants) out.insert(out.end(), v.parts.begin(), v.parts.end());
  return out;
}

ManifestIssue part_issue(const PartSpec& part, const std::string& subfield, std::string message) {
  return {ManifestIssueKind::Inconsistent, part.where, part.field + subfield, std::move(message)};
}

/// The variant a Model part refers to (its `variant`, or the model's default).
std::string referenced_variant(const ModelManifest& target, const PartSpec& part) {
  return part.variant.empty() ? target.default_variant : part.variant;
}

/// Removes the manifests whose part references are broken, reporting why,
/// until none is left (a removed manifest may be another's reference).
void drop_broken_references(CatalogScan& scan) {
  for (;;) {
    const auto issues = check_part_references(scan.catalog);
    if (issues.empty()) return;
    ModelCatalog kept;
    for (const auto& m : scan.catalog.models()) {
      const bool broken = std::any_of(issues.begin(), issues.end(),
                                      [&](const ManifestIssue& i) { return i.where.file == m.manifest_path; });
      if (!broken) (void)kept.add(m);
    }
    scan.issues.insert(scan.issues.end(), issues.begin(), issues.end());
    scan.catalog = std::move(kept);
  }
}

}  // namespace

std::vector<ManifestIssue> check_part_references(const ModelCatalog& catalog) {
  std::vector<ManifestIssue> issues;
  for (const auto& m : catalog.models()) {
    for (const auto& part : declared_parts(m)) {
      if (part.kind != PartKind::Model) continue;
      const ModelManifest* target = catalog.find(part.model);
      if (target == nullptr) {
        const auto known = catalog.names();
        issues.push_back(part_issue(part, ".model",
                                    "part '" + part.name + "' refers to model '" + part.model +
                                        "', which is not in the catalog" + did_you_mean(part.model, known) +
                                        "; models: " + (known.empty() ? std::string("none") : join(known))));
        continue;
      }
      const std::string tv = referenced_variant(*target, part);
      const VariantSpec* spec = target->find_variant(tv);
      if (spec == nullptr) {
        const auto variants = target->variant_names();
        issues.push_back(part_issue(part, ".variant",
                                    "part '" + part.name + "' refers to variant '" + tv + "' of " + target->name +
                                        ", which has no such variant" + did_you_mean(tv, variants) +
                                        "; variants: " + join(variants)));
        continue;
      }
      for (const auto& nested : target->parts_of(tv)) {
        if (nested.kind == PartKind::Model) {
          issues.push_back(part_issue(part, ".model",
                                      "part '" + part.name + "' refers to " + target->name + " variant '" + tv +
                                          "', which itself has part '" + nested.name + "' from model '" +
                                          nested.model + "'; a referenced variant must not refer to other models"));
          break;
        }
      }
      if (!part.classes.empty()) {
        auto resolved = target->resolve(tv);
        if (!resolved.ok()) continue;
        if (resolved->output.type != OutputType::Detections) {
          issues.push_back(part_issue(part, ".classes",
                                      "part '" + part.name + "' keeps classes of " + target->name + " variant '" + tv +
                                          "', whose output is " + std::string(to_string(resolved->output.type)) +
                                          ", not detections"));
          continue;
        }
        const auto& names = resolved->output.class_names;
        for (const auto& c : part.classes) {
          if (std::find(names.begin(), names.end(), c) == names.end()) {
            issues.push_back(part_issue(part, ".classes",
                                        "class '" + c + "' of part '" + part.name + "' is not a class of " +
                                            target->name + " variant '" + tv + "'" + did_you_mean(c, names)));
          }
        }
      }
    }
  }
  return issues;
}

Result<std::vector<ResolvedPart>> ModelCatalog::parts(std::string_view model, std::string_view variant) const {
  AEGIS_ASSIGN_OR_RETURN(const ModelManifest* m, get(model));
  AEGIS_ASSIGN_OR_RETURN(ResolvedVariant rv, m->resolve(variant));
  std::vector<ResolvedPart> out;
  ResolvedPart main;
  main.name = std::string(kMainPart);
  main.kind = PartKind::File;
  main.description = m->find_variant(rv.variant)->description;
  main.model = m->name;
  main.variant = rv.variant;
  main.onnx = rv.onnx;
  main.cache_name = part_cache_name(rv.variant, kMainPart);
  out.push_back(std::move(main));
  for (const auto& p : rv.parts) {
    ResolvedPart r;
    r.name = p.name;
    r.kind = p.kind;
    r.description = p.description;
    r.cache_name = part_cache_name(rv.variant, p.name);
    if (p.kind == PartKind::File) {
      r.model = m->name;
      r.variant = rv.variant;
      r.onnx = p.onnx;
    } else {
      const ModelManifest* target = find(p.model);
      if (target == nullptr) {
        return Error(ErrorCode::NotFound, m->name + " variant '" + rv.variant + "' part '" + p.name +
                                              "' refers to model '" + p.model + "', which is not in the catalog");
      }
      const std::string tv = referenced_variant(*target, p);
      auto trv = target->resolve(tv);
      if (!trv.ok()) {
        return std::move(trv).error().with_context(m->name + " variant '" + rv.variant + "' part '" + p.name + "'");
      }
      r.model = target->name;
      r.variant = trv->variant;
      r.onnx = trv->onnx;
      r.classes = p.classes;
      r.device_memory_bytes = trv->device_memory_bytes;
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::filesystem::path> ModelCatalog::find_part_onnx(std::string_view model, std::string_view variant,
                                                           const ResolvedPart& part,
                                                           const std::vector<std::filesystem::path>& search_dirs) const {
  if (part.kind == PartKind::Model || part.name == kMainPart) {
    AEGIS_ASSIGN_OR_RETURN(const ModelManifest* owner, get(part.model));
    auto found = owner->find_onnx(part.variant, search_dirs);
    if (!found.ok() && part.name != kMainPart) {
      return std::move(found).error().with_context("part '" + part.name + "' of " + std::string(model) +
                                                   " variant '" + std::string(variant) + "'");
    }
    return found;
  }
  AEGIS_ASSIGN_OR_RETURN(const ModelManifest* m, get(model));
  return m->find_part_onnx(variant, part.name, search_dirs);
}

CatalogScan ModelCatalog::scan_directory(const fs::path& dir) {
  CatalogScan scan;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    scan.issues.push_back({ManifestIssueKind::Io, {dir, 0, 0}, "", "not a folder"});
    return scan;
  }
  // Deterministic order: sorted sub-folder names.
  std::vector<fs::path> folders;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_directory(ec2)) folders.push_back(it->path());
  }
  if (ec) {
    scan.issues.push_back({ManifestIssueKind::Io, {dir, 0, 0}, "", "could not list the folder: " + ec.message()});
  }
  std::sort(folders.begin(), folders.end());
  for (const auto& folder : folders) {
    const fs::path file = folder / "manifest.yaml";
    std::error_code ec2;
    // symlink_status: a dangling link or a link loop named manifest.yaml is a
    // broken manifest (reported by analyze_manifest_file), not a missing one.
    if (!fs::exists(fs::symlink_status(file, ec2))) continue;  // no manifest: not a model (e.g. generated files)
    ++scan.manifests_seen;
    ManifestReport report = analyze_manifest_file(file);
    if (!report.ok()) {
      for (auto& issue : report.issues) scan.issues.push_back(std::move(issue));
      continue;
    }
    ModelManifest& m = *report.manifest;
    const std::string folder_name = folder.filename().string();
    if (m.name != folder_name) {
      scan.issues.push_back({ManifestIssueKind::Inconsistent, {file, 0, 0}, "model.name",
                             "model '" + m.name + "' lives in folder '" + folder_name +
                                 "'; the folder must be named after the model"});
      continue;
    }
    auto added = scan.catalog.add(std::move(m));
    if (!added.ok()) {
      scan.issues.push_back({ManifestIssueKind::Inconsistent, {file, 0, 0}, "model.name", added.error().message()});
    }
  }
  drop_broken_references(scan);
  return scan;
}

Result<ModelCatalog> ModelCatalog::load_directory(const fs::path& dir) {
  if (!is_dir(dir)) return Error(ErrorCode::NotFound, "models folder '" + dir.string() + "' does not exist");
  CatalogScan scan = scan_directory(dir);
  if (!scan.issues.empty()) {
    // Count files, so the headline says how many manifests are broken.
    std::vector<std::string> files;
    for (const auto& i : scan.issues) {
      const std::string f = i.where.file.string();
      if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
    }
    std::string msg = std::to_string(files.size()) + " broken manifest(s) in " + dir.string() + " (" +
                      std::to_string(scan.issues.size()) + " problem(s)):";
    for (const auto& i : scan.issues) msg += "\n  " + to_string(i);
    return Error(ErrorCode::InvalidArgument, std::move(msg));
  }
  return std::move(scan.catalog);
}

Result<void> ModelCatalog::add(ModelManifest manifest) {
  if (manifest.name.empty()) return Error(ErrorCode::InvalidArgument, "a manifest without a model name");
  if (find(manifest.name) != nullptr) {
    return Error(ErrorCode::InvalidArgument, "model '" + manifest.name + "' is defined twice");
  }
  auto pos = std::lower_bound(models_.begin(), models_.end(), manifest.name,
                              [](const ModelManifest& m, const std::string& n) { return m.name < n; });
  models_.insert(pos, std::move(manifest));
  return {};
}

const ModelManifest* ModelCatalog::find(std::string_view name) const noexcept {
  for (const auto& m : models_) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Result<const ModelManifest*> ModelCatalog::get(std::string_view name) const {
  if (const auto* m = find(name)) return m;
  const auto known = names();
  return Error(ErrorCode::NotFound, "unknown model '" + std::string(name) + "'" + did_you_mean(name, known) +
                                        "; known models: " + (known.empty() ? "none" : join(known)));
}

std::vector<std::string> ModelCatalog::names() const {
  std::vector<std::string> out;
  out.reserve(models_.size());
  for (const auto& m : models_) out.push_back(m.name);
  return out;
}

namespace {

/// NotFound for a backend name outside the vocabulary, Unsupported for one the
/// model does not list.
Result<void> check_backend(const ModelManifest& m, std::string_view backend) {
  if (find_backend_entry(backend) == nullptr) {
    const auto vocabulary = backend_vocabulary_names();
    return Error(ErrorCode::NotFound, "unknown backend '" + std::string(backend) + "'" +
                                          did_you_mean(backend, vocabulary) + "; the vocabulary is: " +
                                          join(vocabulary) + "; " + m.name + " supports: " + join(m.backends));
  }
  if (!m.supports_backend(backend)) {
    return Error(ErrorCode::Unsupported, m.name + " does not support backend " + std::string(backend) +
                                             "; supported: " + join(m.backends));
  }
  return {};
}

/// The asked precision, or (none asked) fp32 when the model lists it, else its first.
Result<Precision> select_precision(const ModelManifest& m, std::string_view precision) {
  if (precision.empty()) {
    return m.supports_precision(Precision::FP32) ? Precision::FP32 : m.precisions.front();
  }
  auto p = parse_precision(precision);
  if (!p) {
    const std::vector<std::string> valid = {"fp32", "fp16", "int8"};
    return Error(ErrorCode::InvalidArgument, "unknown precision '" + std::string(precision) + "'" +
                                                 did_you_mean(precision, valid) + "; valid: " + join(valid));
  }
  if (!m.supports_precision(*p)) {
    std::vector<std::string> supported;
    for (auto q : m.precisions) supported.emplace_back(to_string(q));
    return Error(ErrorCode::Unsupported, m.name + " does not support precision " + std::string(to_string(*p)) +
                                             "; supported: " + join(supported));
  }
  return *p;
}

// ONNX Runtime applies no precision of its own except through its TensorRT
// provider: it runs the .onnx at the precision stored in the file. Selecting
// fp16/int8 for it would run fp32 while reporting fp16/int8, so it is refused.
Result<void> check_onnx_precision(const ModelManifest& m, std::string_view backend, Precision selected,
                                  std::string_view asked_precision) {
  if (selected == Precision::FP32) return {};
  std::string registry;
  std::string provider;
  if (auto binding = bind_backend(backend); binding.ok()) {
    registry = binding->registry_name;
    if (auto it = binding->backend_options.find("provider"); it != binding->backend_options.end()) {
      provider = it->second;
    }
  } else if (const auto* entry = find_backend_entry(backend)) {
    registry = std::string(entry->registry_name);
    provider = std::string(entry->provider);
  }
  if (registry == "onnx" && provider != "tensorrt") {
    return Error(ErrorCode::Unsupported,
                 "backend " + std::string(backend) + " (ONNX Runtime) cannot run " + m.name + " at precision " +
                     std::string(to_string(selected)) +
                     ": it runs the model at the precision stored in the .onnx file and supports fp32 only" +
                     (asked_precision.empty() ? " (the manifest lists no fp32; pass --precision fp32 for an fp16 or "
                                                "quantised variant file)"
                                              : std::string()) +
                     "; use backend tensorrt or tvm to build at fp16/int8");
  }
  return {};
}

// A part from another model runs on the same backend at the same precision:
// that model's manifest must allow both.
Result<void> check_part_targets(const ModelCatalog& catalog, const ModelManifest& m, const Selection& sel) {
  for (const auto& part : sel.parts) {
    if (part.kind != PartKind::Model) continue;
    const ModelManifest* target = catalog.find(part.model);
    if (target == nullptr) continue;  // parts() refused it already
    if (!target->supports_backend(sel.backend)) {
      return Error(ErrorCode::Unsupported, m.name + " part '" + part.name + "' is " + target->name + " variant '" +
                                               part.variant + "', which does not support backend " + sel.backend +
                                               "; supported: " + join(target->backends));
    }
    if (!target->supports_precision(sel.precision)) {
      std::vector<std::string> target_precisions;
      for (auto p : target->precisions) target_precisions.emplace_back(to_string(p));
      return Error(ErrorCode::Unsupported, m.name + " part '" + part.name + "' is " + target->name + " variant '" +
                                               part.variant + "', which does not support precision " +
                                               std::string(to_string(sel.precision)) +
                                               "; supported: " + join(target_precisions));
    }
  }
  return {};
}

}  // namespace

Result<Selection> ModelCatalog::validate_selection(std::string_view model, std::string_view backend,
                                                   std::string_view variant, std::string_view precision) const {
  AEGIS_ASSIGN_OR_RETURN(const ModelManifest* m, get(model));
  AEGIS_TRY(check_backend(*m, backend));

  Selection sel;
  sel.model = m->name;
  sel.backend = std::string(backend);
  sel.variant = variant.empty() ? m->default_variant : std::string(variant);
  if (m->find_variant(sel.variant) == nullptr) {
    const auto variants = m->variant_names();
    return Error(ErrorCode::NotFound, m->name + " has no variant '" + sel.variant + "'" +
                                          did_you_mean(sel.variant, variants) + "; variants: " + join(variants));
  }
  AEGIS_ASSIGN_OR_RETURN(sel.precision, select_precision(*m, precision));
  AEGIS_TRY(check_onnx_precision(*m, backend, sel.precision, precision));
  AEGIS_ASSIGN_OR_RETURN(sel.device_memory_bytes, m->device_memory_bytes(sel.variant));
  AEGIS_ASSIGN_OR_RETURN(sel.parts, parts(sel.model, sel.variant));
  AEGIS_TRY(check_part_targets(*this, *m, sel));
  return sel;
}

Result<Selection> validate_selection(const ModelCatalog& catalog, std::string_view model, std::string_view backend,
                                     std::string_view variant, std::string_view precision) {
  return catalog.validate_selection(model, backend, variant, precision);
}

Result<ModelsDirectory> resolve_models_directory(std::string_view flag_value) {
  if (!flag_value.empty()) {
    fs::path p(flag_value);
    if (!is_dir(p)) return Error(ErrorCode::NotFound, "--models-dir '" + p.string() + "' is not a folder");
    return ModelsDirectory{p, "--models-dir"};
  }
  if (const char* env = std::getenv("AEGISRT_MODELS_DIR"); env != nullptr && *env != '\0') {
    fs::path p(env);
    if (!is_dir(p)) {
      return Error(ErrorCode::NotFound, "AEGISRT_MODELS_DIR='" + p.string() + "' is not a folder");
    }
    return ModelsDirectory{p, "AEGISRT_MODELS_DIR"};
  }
  std::vector<std::string> tried;
#if defined(AEGISRT_INSTALL_DATADIR)
  {
    const fs::path p = fs::path(AEGISRT_INSTALL_DATADIR) / "models";
    if (is_dir(p)) return ModelsDirectory{p, "installed"};
    tried.push_back(p.string());
  }
#endif
#if defined(AEGISRT_SOURCE_DIR)
  {
    const fs::path p = fs::path(AEGISRT_SOURCE_DIR) / "models";
    if (is_dir(p)) return ModelsDirectory{p, "source tree"};
    tried.push_back(p.string());
  }
#endif
  return Error(ErrorCode::NotFound, "no models folder found; tried: " + (tried.empty() ? "nothing" : join(tried)) +
                                        "; pass --models-dir or set AEGISRT_MODELS_DIR");
}

}  // namespace aegisrt::models
