// ModelManifest helpers: enum names, variant resolution, ONNX lookup, issue
// formatting and the built-in class/keypoint name lists.
#include "aegisrt/models/manifest.h"

#include <algorithm>
#include <system_error>

#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/models/manifest_names.h"

namespace aegisrt::models {

std::string to_string(const SourceLocation& loc) {
  std::string out = loc.file.empty() ? std::string("<manifest>") : loc.file.string();
  if (loc.line > 0) {
    // Appended piecewise: `":" + std::string` trips GCC 12's false -Wrestrict at -O3.
    out += ':';
    out += std::to_string(loc.line);
    if (loc.column > 0) {
      out += ':';
      out += std::to_string(loc.column);
    }
  }
  return out;
}

// Enum names come from the one table per enum in manifest_names.h.
std::string_view to_string(InputType v) noexcept { return name_of(v); }
std::string_view to_string(ColorFormat v) noexcept { return name_of(v); }
std::string_view to_string(ResizeMethod v) noexcept { return name_of(v); }
std::string_view to_string(PadPosition v) noexcept { return name_of(v); }
std::string_view to_string(BorderMode v) noexcept { return name_of(v); }
std::string_view to_string(Interpolation v) noexcept { return name_of(v); }
std::string_view to_string(Layout v) noexcept { return name_of(v); }
std::string_view to_string(OutputType v) noexcept { return name_of(v); }
std::string_view to_string(OutputLayout v) noexcept { return name_of(v); }
std::string_view to_string(PartKind v) noexcept { return name_of(v); }

std::string part_cache_name(std::string_view variant, std::string_view part) {
  std::string out(variant);
  if (part != kMainPart) {
    out += '+';
    out += part;
  }
  return out;
}
std::optional<OutputType> parse_output_type(std::string_view s) noexcept { return parse_name<OutputType>(s); }
std::optional<OutputLayout> parse_output_layout(std::string_view s) noexcept { return parse_name<OutputLayout>(s); }

OutputType output_type_of(OutputLayout layout) noexcept {
  switch (layout) {
    case OutputLayout::YoloV8:
    case OutputLayout::GroundingDino: return OutputType::Detections;
    case OutputLayout::RelativeInverseDepth:
    case OutputLayout::MetricDepth: return OutputType::DepthMap;
    case OutputLayout::SimCC:
    case OutputLayout::YoloV8Pose: return OutputType::Keypoints;
    case OutputLayout::YoloV8Seg: return OutputType::Segmentation;
    case OutputLayout::SamMasks: return OutputType::Segmentation;
    case OutputLayout::Tracks: return OutputType::TrackedObjects;
    case OutputLayout::Seq2SeqTokens: return OutputType::MultiTask;
  }
  return OutputType::Detections;
}

const OutputField* OutputSpec::find_field(std::string_view field_name) const noexcept {
  for (const auto& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

std::string_view to_string(ManifestIssueKind k) noexcept { return name_of(k); }

std::string to_string(const ManifestIssue& issue) {
  std::string out = to_string(issue.where) + ": ";
  if (!issue.field.empty()) out += issue.field + ": ";
  out += issue.message;
  return out;
}

// ---------------------------------------------------------------- ModelManifest

const VariantSpec* ModelManifest::find_variant(std::string_view v) const noexcept {
  for (const auto& spec : variants) {
    if (spec.name == v) return &spec;
  }
  return nullptr;
}

std::vector<std::string> ModelManifest::variant_names() const {
  std::vector<std::string> out;
  out.reserve(variants.size());
  for (const auto& v : variants) out.push_back(v.name);
  return out;
}

bool ModelManifest::supports_backend(std::string_view b) const noexcept {
  return std::find(backends.begin(), backends.end(), b) != backends.end();
}

bool ModelManifest::supports_precision(Precision p) const noexcept {
  return std::find(precisions.begin(), precisions.end(), p) != precisions.end();
}

std::filesystem::path ModelManifest::directory() const { return manifest_path.parent_path(); }

namespace {
std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

Error unknown_variant(const ModelManifest& m, std::string_view v) {
  const auto names = m.variant_names();
  std::string msg = m.name + " has no variant '" + std::string(v) + "'";
  if (auto near = nearest_name(v, names); !near.empty()) msg += " (did you mean '" + near + "'?)";
  msg += "; variants: " + join(names);
  return Error(ErrorCode::NotFound, std::move(msg));
}
}  // namespace

Result<ResolvedVariant> ModelManifest::resolve(std::string_view variant) const {
  const std::string_view wanted = variant.empty() ? std::string_view(default_variant) : variant;
  const VariantSpec* spec = find_variant(wanted);
  if (spec == nullptr) return unknown_variant(*this, wanted);
  ResolvedVariant out;
  out.model = name;
  out.variant = spec->name;
  out.input = input;
  out.output = output;
  out.postprocessing = postprocessing;
  if (spec->input_size && out.input.preprocessing) out.input.preprocessing->size = *spec->input_size;
  if (spec->class_names) {
    out.output.class_names = *spec->class_names;
    out.output.class_names_source = "inline";
  }
  if (spec->output_layout) {
    out.output.layout = *spec->output_layout;
    out.output.type = output_type_of(*spec->output_layout);
  }
  if (auto it = device_memory_mb.find(spec->name); it != device_memory_mb.end()) {
    out.device_memory_mb = it->second;
    out.device_memory_bytes = static_cast<std::size_t>(it->second) * 1024U * 1024U;
  }
  out.onnx = spec->onnx.empty() ? spec->name + ".onnx" : spec->onnx;
  out.parts = parts_of(spec->name);
  return out;
}

Result<std::size_t> ModelManifest::device_memory_bytes(std::string_view variant) const {
  const std::string_view wanted = variant.empty() ? std::string_view(default_variant) : variant;
  if (find_variant(wanted) == nullptr) return unknown_variant(*this, wanted);
  auto it = device_memory_mb.find(wanted);
  if (it == device_memory_mb.end()) {
    return Error(ErrorCode::NotFound, name + " declares no resources.device_memory_mb for variant '" +
                                          std::string(wanted) + "'");
  }
  return static_cast<std::size_t>(it->second) * 1024U * 1024U;
}

std::vector<std::filesystem::path> ModelManifest::onnx_candidates(
    std::string_view variant, const std::vector<std::filesystem::path>& search_dirs) const {
  const std::string_view wanted = variant.empty() ? std::string_view(default_variant) : variant;
  const VariantSpec* spec = find_variant(wanted);
  if (spec == nullptr) return {};
  const std::filesystem::path file = spec->onnx.empty() ? spec->name + ".onnx" : spec->onnx;
  if (file.is_absolute()) return {file};
  std::vector<std::filesystem::path> out;
  if (!manifest_path.empty()) out.push_back(directory() / file);
  for (const auto& dir : search_dirs) {
    out.push_back(dir / file);
    out.push_back(dir / name / file);
  }
  return out;
}

namespace {
/// Where a file declared as `file` (a variant's or a part's) may be, in search order.
std::vector<std::filesystem::path> file_candidates(const ModelManifest& m, const std::filesystem::path& file,
                                                   const std::vector<std::filesystem::path>& search_dirs) {
  if (file.is_absolute()) return {file};
  std::vector<std::filesystem::path> out;
  if (!m.manifest_path.empty()) out.push_back(m.directory() / file);
  for (const auto& dir : search_dirs) {
    out.push_back(dir / file);
    out.push_back(dir / m.name / file);
  }
  return out;
}

/// The first existing candidate, checked (regular file, sha256 pin).
/// `owner`: "yolo variant 'v8n'" (or "sam variant 'vit_b' part 'decoder'").
Result<std::filesystem::path> first_candidate(const ModelManifest& m, const std::vector<std::filesystem::path>& candidates,
                                              const std::string& sha256, const std::string& owner) {
  std::string tried;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(c, ec))) {
      tried += (tried.empty() ? "" : ", ") + c.string();
      continue;
    }
    // Something is there: it must be a readable regular file, or a typed error.
    auto checked = check_regular_file(c, "ONNX file of " + owner);
    if (!checked.ok()) return checked.error();
    if (!sha256.empty()) {
      auto actual = sha256_file(c);
      if (!actual.ok()) return actual.error();
      if (*actual != sha256) {
        return Error(ErrorCode::Corrupt,
                     "ONNX file '" + c.string() + "' of " + owner +
                         " does not match the SHA-256 pinned in its manifest: expected " + sha256 + ", actual " +
                         *actual + " (a damaged or different download)");
      }
    }
    return c;
  }
  return Error(ErrorCode::NotFound, "no ONNX file for " + owner + "; tried: " + (tried.empty() ? "nothing" : tried),
               "see models/" + m.name + "/manifest.yaml source.export for how to produce it");
}
}  // namespace

Result<std::filesystem::path> ModelManifest::find_onnx(
    std::string_view variant, const std::vector<std::filesystem::path>& search_dirs) const {
  const std::string_view wanted = variant.empty() ? std::string_view(default_variant) : variant;
  const VariantSpec* spec = find_variant(wanted);
  if (spec == nullptr) return unknown_variant(*this, wanted);
  return first_candidate(*this, onnx_candidates(wanted, search_dirs), spec->sha256,
                         name + " variant '" + std::string(wanted) + "'");
}

std::vector<PartSpec> ModelManifest::parts_of(std::string_view variant) const {
  const std::string_view wanted = variant.empty() ? std::string_view(default_variant) : variant;
  const VariantSpec* spec = find_variant(wanted);
  if (spec == nullptr) return {};
  std::vector<PartSpec> out;
  auto own = [&](std::string_view part) -> const PartSpec* {
    for (const auto& p : spec->parts) {
      if (p.name == part) return &p;
    }
    return nullptr;
  };
  for (const auto& p : parts) out.push_back(own(p.name) != nullptr ? *own(p.name) : p);
  for (const auto& p : spec->parts) {
    const bool listed = std::any_of(out.begin(), out.end(), [&](const PartSpec& o) { return o.name == p.name; });
    if (!listed) out.push_back(p);
  }
  return out;
}

Result<std::filesystem::path> ModelManifest::find_part_onnx(
    std::string_view variant, std::string_view part, const std::vector<std::filesystem::path>& search_dirs) const {
  const std::string_view wanted = variant.empty() ? std::string_view(default_variant) : variant;
  if (find_variant(wanted) == nullptr) return unknown_variant(*this, wanted);
  if (part == kMainPart) return find_onnx(wanted, search_dirs);
  const auto all = parts_of(wanted);
  const auto it = std::find_if(all.begin(), all.end(), [&](const PartSpec& p) { return p.name == part; });
  if (it == all.end()) {
    std::vector<std::string> names{std::string(kMainPart)};
    for (const auto& p : all) names.push_back(p.name);
    std::string msg = name + " variant '" + std::string(wanted) + "' has no part '" + std::string(part) + "'";
    if (auto near = nearest_name(part, names); !near.empty()) msg += " (did you mean '" + near + "'?)";
    return Error(ErrorCode::NotFound, msg + "; parts: " + join(names));
  }
  if (it->kind == PartKind::Model) {
    return Error(ErrorCode::InvalidArgument,
                 "part '" + it->name + "' of " + name + " variant '" + std::string(wanted) + "' is model '" +
                     it->model + "' of the catalog; its file is found through that model's manifest "
                     "(ModelCatalog::find_part_onnx)");
  }
  return first_candidate(*this, file_candidates(*this, it->onnx, search_dirs), it->sha256,
                         name + " variant '" + std::string(wanted) + "' part '" + it->name + "'");
}

// ---------------------------------------------------------------- built-in name lists

namespace {
const std::vector<std::string> kCoco80 = {
    "person",        "bicycle",      "car",           "motorcycle",    "airplane",     "bus",
    "train",         "truck",        "boat",          "traffic light", "fire hydrant", "stop sign",
    "parking meter", "bench",        "bird",          "cat",           "dog",          "horse",
    "sheep",         "cow",          "elephant",      "bear",          "zebra",        "giraffe",
    "backpack",      "umbrella",     "handbag",       "tie",           "suitcase",     "frisbee",
    "skis",          "snowboard",    "sports ball",   "kite",          "baseball bat", "baseball glove",
    "skateboard",    "surfboard",    "tennis racket", "bottle",        "wine glass",   "cup",
    "fork",          "knife",        "spoon",         "bowl",          "banana",       "apple",
    "sandwich",      "orange",       "broccoli",      "carrot",        "hot dog",      "pizza",
    "donut",         "cake",         "chair",         "couch",         "potted plant", "bed",
    "dining table",  "toilet",       "tv",            "laptop",        "mouse",        "remote",
    "keyboard",      "cell phone",   "microwave",     "oven",          "toaster",      "sink",
    "refrigerator",  "book",         "clock",         "vase",          "scissors",     "teddy bear",
    "hair drier",    "toothbrush"};
const std::vector<std::string> kCoco17Keypoints = {
    "nose",         "left_eye",       "right_eye",      "left_ear",    "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow",    "right_elbow", "left_wrist",
    "right_wrist",  "left_hip",       "right_hip",      "left_knee",   "right_knee",
    "left_ankle",   "right_ankle"};
}  // namespace

const std::vector<std::string>* builtin_name_list(std::string_view list_name) noexcept {
  if (list_name == "coco80") return &kCoco80;
  if (list_name == "coco17_keypoints") return &kCoco17Keypoints;
  return nullptr;
}

std::vector<std::string_view> builtin_name_list_names() { return {"coco80", "coco17_keypoints"}; }

}  // namespace aegisrt::models
