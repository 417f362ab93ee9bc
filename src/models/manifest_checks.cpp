// Checks across manifest sections, run after every section was read: the
// default variant is a variant, resources cover exactly the variants, the
// output layout's needs (class names, keypoint names, shapes) are met.
#include "manifest_sections.h"

namespace aegisrt::models::detail {

void ManifestParser::cross_check(const MapReader& top, const ModelManifest& m) {
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

  if (variants_ok_ && top.get("resources").IsMap()) check_memory_covers_variants(top, m);
  if (output_ok_) check_output(top.key_mark("output"), m);
  check_parts(m);
  for (const auto& v : m.variants) {
    if (v.input_size && !m.input.preprocessing && m.input.type == InputType::Detections) {
      report(ManifestIssueKind::Inconsistent, make_mark(v.where),
             "model.variants." + v.name + ".input_size", "input_size applies to image inputs only");
    }
  }
}

/// resources.device_memory_mb must name exactly the variants.
void ManifestParser::check_memory_covers_variants(const MapReader& top, const ModelManifest& m) {
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

/// What the output layout needs, and overrides that only some types take.
void ManifestParser::check_output(const YAML::Mark& out_mark, const ModelManifest& m) {
  const OutputSpec& out = m.output;
  check_output_shapes(out, out_mark);
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

/// yolo_v8 and simcc: class and keypoint names against the declared shapes.
void ManifestParser::check_output_shapes(const OutputSpec& out, const YAML::Mark& out_mark) {
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
}

}  // namespace aegisrt::models::detail
