// ModelCatalog: every manifest under a models/ folder, selection validation
// (model, backend, variant, precision) and the models-folder lookup rule.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/models/manifest.h"

namespace aegisrt::models {

/// One ONNX file of a selected variant, resolved through the catalog: the
/// variant's own file (`main`) first, then each declared part.
struct ResolvedPart {
  std::string name;         // kMainPart ("main") or the part's name ("detector")
  PartKind kind = PartKind::File;
  std::string description;
  /// The manifest that describes the file: the selected model for `main` and
  /// File parts, the referenced model for Model parts.
  std::string model;
  std::string variant;      // that manifest's variant (the referenced one for Model parts)
  std::string onnx;         // the file name as declared (before the search)
  /// ArtifactKey::variant of the part's compiled artefact: part_cache_name(selected variant, name).
  std::string cache_name;
  std::vector<std::string> classes;  // Model parts: detector classes to keep (empty = all)
  std::size_t device_memory_bytes = 0;  // Model parts: the referenced variant's; else 0 (in the variant's own)
};

/// A validated choice, defaults filled in.
struct Selection {
  std::string model;
  std::string backend;  // vocabulary name as asked
  std::string variant;  // default_variant when none was asked
  Precision precision = Precision::FP32;  // fp32 if allowed, else the first listed, when none was asked
  std::size_t device_memory_bytes = 0;    // resources.device_memory_mb of the variant, in bytes
  /// Every ONNX file of the variant: `main` first, then its parts (ModelCatalog::parts).
  std::vector<ResolvedPart> parts;
};

class ModelCatalog;

/// Result of scanning a folder: the good manifests plus every issue found.
struct CatalogScan;

class ModelCatalog {
 public:
  ModelCatalog() = default;

  /// Loads <dir>/<name>/manifest.yaml for every sub-folder that has one.
  /// NotFound if `dir` is not a folder; InvalidArgument listing EVERY issue of
  /// EVERY broken manifest (one "file:line:col: field: message" per line).
  static Result<ModelCatalog> load_directory(const std::filesystem::path& dir);
  /// Same walk, but keeps the good manifests and returns the issues beside them.
  /// Both then check the parts that refer to other models
  /// (check_part_references) and drop a manifest with a broken reference.
  static CatalogScan scan_directory(const std::filesystem::path& dir);

  /// InvalidArgument if a model of that name is already present.
  Result<void> add(ModelManifest manifest);

  [[nodiscard]] const ModelManifest* find(std::string_view name) const noexcept;
  /// NotFound "unknown model 'yolov8'; did you mean 'yolo'? known: ...".
  [[nodiscard]] Result<const ModelManifest*> get(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> names() const;
  /// Sorted by name.
  [[nodiscard]] const std::vector<ModelManifest>& models() const noexcept { return models_; }
  [[nodiscard]] std::size_t size() const noexcept { return models_.size(); }
  [[nodiscard]] bool empty() const noexcept { return models_.empty(); }

  /// See the free function below.
  [[nodiscard]] Result<Selection> validate_selection(std::string_view model, std::string_view backend,
                                                     std::string_view variant = {},
                                                     std::string_view precision = {}) const;

  /// Every ONNX file of a variant (empty = default): `main` (the variant's own
  /// file), then each part of ModelManifest::parts_of, Model parts resolved to
  /// the referenced model and variant. NotFound naming the model, variant or
  /// part for a model, variant or reference that is not in the catalog.
  [[nodiscard]] Result<std::vector<ResolvedPart>> parts(std::string_view model, std::string_view variant = {}) const;
  /// Where a resolved part's ONNX file is: the owning manifest's find_onnx
  /// (Model parts and `main`) or find_part_onnx (File parts of `model`/`variant`,
  /// the selection the part belongs to). Errors say which part was looked for.
  [[nodiscard]] Result<std::filesystem::path> find_part_onnx(
      std::string_view model, std::string_view variant, const ResolvedPart& part,
      const std::vector<std::filesystem::path>& search_dirs = {}) const;

 private:
  std::vector<ModelManifest> models_;
};

struct CatalogScan {
  ModelCatalog catalog;
  std::vector<ManifestIssue> issues;
  std::size_t manifests_seen = 0;
};

/// Checks a selection against the manifests (not against this build: use
/// bind_backend() for that). Empty variant/precision mean "the default".
///  * unknown model          -> NotFound, nearest known name suggested
///  * backend not in the vocabulary -> NotFound, listing the vocabulary
///  * backend not supported  -> Unsupported "depth_anything does not support backend
///                              tensorrt; supported: cuda, rocm, openvino"
///  * unknown variant        -> NotFound "yolo has no variant 'v9n'; variants: ..."
///  * unknown precision text -> InvalidArgument "unknown precision 'fp64'; valid: fp32, fp16, int8"
///  * precision not allowed  -> Unsupported "depth_anything does not support precision int8; supported: fp32, fp16"
Result<Selection> validate_selection(const ModelCatalog& catalog, std::string_view model,
                                     std::string_view backend, std::string_view variant = {},
                                     std::string_view precision = {});

/// The checks of `parts:` that need the whole catalog, one `inconsistent`
/// issue each, at the part's line, field "<part field>.model" (".variant",
/// ".classes"): a Model part must name a model of the catalog and one of its
/// variants; that variant must have no Model parts of its own (references are
/// one level deep, so they cannot form cycles); `classes` must be class names
/// of the referenced variant, whose output must then be detections.
std::vector<ManifestIssue> check_part_references(const ModelCatalog& catalog);

/// Which models/ folder to use, and why.
struct ModelsDirectory {
  std::filesystem::path path;
  std::string origin;  // "--models-dir", "AEGISRT_MODELS_DIR", "installed", "source tree"
};
/// flag (if non-empty) > $AEGISRT_MODELS_DIR > <install prefix>/share/aegisrt/models
/// > <source tree>/models. An explicit flag or env value that is not a folder is
/// NotFound (no silent fall-back); NotFound listing the paths tried otherwise.
Result<ModelsDirectory> resolve_models_directory(std::string_view flag_value = {});

/// Edit distance (insert/delete/substitute = 1), for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `query` when it is close enough to be a plausible
/// typo (distance <= max(2, |query|/3) and < |query|, or one name of at least
/// 3 characters is a prefix of the other);
/// empty otherwise.
std::string nearest_name(std::string_view query, const std::vector<std::string>& candidates);

}  // namespace aegisrt::models
