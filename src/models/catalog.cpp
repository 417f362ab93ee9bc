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

Result<Selection> ModelCatalog::validate_selection(std::string_view model, std::string_view backend,
                                                   std::string_view variant, std::string_view precision) const {
  AEGIS_ASSIGN_OR_RETURN(const ModelManifest* m, get(model));

  if (find_backend_entry(backend) == nullptr) {
    const auto vocabulary = backend_vocabulary_names();
    return Error(ErrorCode::NotFound, "unknown backend '" + std::string(backend) + "'" +
                                          did_you_mean(backend, vocabulary) + "; the vocabulary is: " +
                                          join(vocabulary) + "; " + m->name + " supports: " + join(m->backends));
  }
  if (!m->supports_backend(backend)) {
    return Error(ErrorCode::Unsupported, m->name + " does not support backend " + std::string(backend) +
                                             "; supported: " + join(m->backends));
  }

  Selection sel;
  sel.model = m->name;
  sel.backend = std::string(backend);
  sel.variant = variant.empty() ? m->default_variant : std::string(variant);
  if (m->find_variant(sel.variant) == nullptr) {
    const auto variants = m->variant_names();
    return Error(ErrorCode::NotFound, m->name + " has no variant '" + sel.variant + "'" +
                                          did_you_mean(sel.variant, variants) + "; variants: " + join(variants));
  }

  std::vector<std::string> supported;
  for (auto p : m->precisions) supported.emplace_back(to_string(p));
  if (precision.empty()) {
    sel.precision = m->supports_precision(Precision::FP32) ? Precision::FP32 : m->precisions.front();
  } else {
    auto p = parse_precision(precision);
    if (!p) {
      const std::vector<std::string> valid = {"fp32", "fp16", "int8"};
      return Error(ErrorCode::InvalidArgument, "unknown precision '" + std::string(precision) + "'" +
                                                   did_you_mean(precision, valid) + "; valid: " + join(valid));
    }
    if (!m->supports_precision(*p)) {
      return Error(ErrorCode::Unsupported, m->name + " does not support precision " + std::string(to_string(*p)) +
                                               "; supported: " + join(supported));
    }
    sel.precision = *p;
  }
  // ONNX Runtime applies no precision of its own except through its TensorRT
  // provider: it runs the .onnx at the precision stored in the file. Selecting
  // fp16/int8 for it would run fp32 while reporting fp16/int8, so it is refused.
  if (sel.precision != Precision::FP32) {
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
                   "backend " + std::string(backend) + " (ONNX Runtime) cannot run " + m->name + " at precision " +
                       std::string(to_string(sel.precision)) +
                       ": it runs the model at the precision stored in the .onnx file and supports fp32 only" +
                       (precision.empty() ? " (the manifest lists no fp32; pass --precision fp32 for an fp16 or "
                                            "quantised variant file)"
                                          : std::string()) +
                       "; use backend tensorrt or tvm to build at fp16/int8");
    }
  }
  AEGIS_ASSIGN_OR_RETURN(sel.device_memory_bytes, m->device_memory_bytes(sel.variant));
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
