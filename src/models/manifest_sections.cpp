// The manifest's sections (model, variants, source, input, output,
// postprocessing, resources): each reads its mapping with the YAML layer
// (yaml_reader.h) into ModelManifest. Cross-section checks are in
// manifest_checks.cpp.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "aegisrt/backend/backend_vocabulary.h"
#include "manifest_sections.h"

namespace aegisrt::models::detail {

namespace {

/// Every dtype name of the core table (parse_dtype also takes aliases).
const std::vector<std::string>& dtype_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (DType t : kAllDTypes) out.emplace_back(dtype_name(t));
    return out;
  }();
  return names;
}

}  // namespace

void ManifestParser::parse_root(const YAML::Node& root, ModelManifest& m) {
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

void ManifestParser::parse_model(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("model");
  if (!node.IsDefined()) return;
  MapReader model(*this, node, "model", top.key_mark("model"),
                  {"name", "family", "description", "variants", "default_variant", "backends", "precisions",
                   "parts"});
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

  parse_backends(model, m);
  parse_precisions(model, m);
  if (YAML::Node p = model.get("parts"); p.IsDefined()) parse_parts(p, model.key_mark("parts"), "model.parts", m.parts);
}

// backends: absent -> the default list; present -> a non-empty list from the vocabulary.
void ManifestParser::parse_backends(const MapReader& model, ModelManifest& m) {
  YAML::Node b = model.get("backends");
  if (!b.IsDefined()) {
    m.backends.assign(std::begin(kDefaultBackends), std::end(kDefaultBackends));
    m.backends_defaulted = true;
    return;
  }
  if (!is_list(b, model.key_mark("backends"), "model.backends", false)) return;
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

void ManifestParser::parse_precisions(const MapReader& model, ModelManifest& m) {
  YAML::Node p = model.require("precisions");
  if (!p.IsDefined() || !is_list(p, model.key_mark("precisions"), "model.precisions", false)) return;
  const std::vector<std::string> allowed = allowed_names<Precision>();
  for (std::size_t i = 0; i < p.size(); ++i) {
    const std::string f = "model.precisions[" + std::to_string(i) + "]";
    auto s = text(p[i], mark_of(p, model.anchor()), f);
    if (!s) continue;
    const auto prec = parse_name<Precision>(*s);
    if (!prec) {
      report(ManifestIssueKind::UnknownValue, p[i], mark_of(p, model.anchor()), f,
             "precision '" + clip(*s) + "' is not allowed; allowed: " + join(allowed) + suggestion(*s, allowed));
      continue;
    }
    if (std::find(m.precisions.begin(), m.precisions.end(), *prec) != m.precisions.end()) {
      report(ManifestIssueKind::Inconsistent, p[i], mark_of(p, model.anchor()), f,
             "precision '" + *s + "' is listed twice");
      continue;
    }
    m.precisions.push_back(*prec);
  }
}

void ManifestParser::parse_variants(const YAML::Node& n, const YAML::Mark& fallback, const std::string& field,
                                    ModelManifest& m) {
  if (!is_list(n, fallback, field, false)) return;
  if (n.size() > kMaxVariants) {
    report(ManifestIssueKind::OutOfRange, n, fallback, field,
           "lists " + std::to_string(n.size()) + " variants; the limit is " + std::to_string(kMaxVariants));
    return;
  }
  const std::size_t before = issue_count();
  const YAML::Mark list_mark = mark_of(n, fallback);
  std::set<std::string> names_seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string f = field + "[" + std::to_string(i) + "]";
    const YAML::Node item = n[i];
    VariantSpec spec;
    spec.where.file = file();
    const YAML::Mark item_mark = mark_of(item, list_mark);
    spec.where.line = item_mark.is_null() ? 0 : item_mark.line + 1;
    spec.where.column = item_mark.is_null() ? 0 : item_mark.column + 1;
    if (item.IsScalar()) {
      spec.name = item.Scalar();
    } else if (item.IsMap()) {
      if (!parse_variant_map(item, item_mark, f, spec)) continue;
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
  variants_ok_ = issue_count() == before;
}

/// The mapping form of a variant ({name: ..., onnx: ..., ...}); false when it
/// has no usable name (then the variant is skipped).
bool ManifestParser::parse_variant_map(const YAML::Node& item, const YAML::Mark& item_mark, const std::string& f,
                                       VariantSpec& spec) {
  MapReader v(*this, item, f, item_mark,
              {"name", "description", "onnx", "sha256", "input_size", "class_names", "output_layout", "parts"});
  auto name = text(v, "name", true);
  if (!name) return false;
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
  if (YAML::Node p = v.get("parts"); p.IsDefined()) parse_parts(p, v.key_mark("parts"), v.field("parts"), spec.parts);
  if (auto l = text(v, "output_layout", false)) {
    // A variant with another head of the same family (yolo -seg, -pose).
    if (auto layout = parse_output_layout(*l)) {
      spec.output_layout = *layout;
    } else {
      report(ManifestIssueKind::UnknownValue, v.get("output_layout"), v.key_mark("output_layout"),
             v.field("output_layout"),
             "unknown output layout '" + clip(*l) + "'; allowed: " + join(allowed_names<OutputLayout>()) +
                 suggestion(*l, allowed_names<OutputLayout>()));
    }
  }
  return true;
}

void ManifestParser::parse_source(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("source");
  if (!node.IsDefined()) return;
  MapReader s(*this, node, "source", top.key_mark("source"), {"weights", "export", "license", "url"});
  if (!s.valid()) return;
  if (auto w = text(s, "weights", true)) m.source.weights = *w;
  if (auto e = text(s, "export", true)) m.source.export_command = *e;
  if (auto l = text(s, "license", false)) m.source.license = *l;
  if (auto u = text(s, "url", false)) m.source.url = *u;
}

void ManifestParser::parse_input(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("input");
  if (!node.IsDefined()) return;
  MapReader in(*this, node, "input", top.key_mark("input"),
               {"type", "color_format", "dtype", "tensor_name", "preprocessing", "prompt"});
  if (!in.valid()) return;
  auto type = choice<InputType>(in, "type", true);
  if (type) m.input.type = *type;
  const bool has_image = !type || m.input.type != InputType::Detections;
  if (auto c = choice<ColorFormat>(in, "color_format", has_image)) m.input.color_format = *c;
  if (auto d = text(in, "dtype", false)) {
    if (auto dt = parse_dtype(*d)) {
      m.input.dtype = *dt;
    } else {
      report(ManifestIssueKind::UnknownValue, in.get("dtype"), in.key_mark("dtype"), "input.dtype",
             "unknown dtype '" + clip(*d) + "'; allowed: " + join(dtype_names()) + suggestion(*d, dtype_names()));
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
      MapReader p(*this, pr, "input.prompt", in.key_mark("prompt"), {"tokenizer", "tokenizer_file", "max_tokens"});
      if (p.valid()) {
        PromptSpec spec;
        if (auto t = text(p, "tokenizer", true)) spec.tokenizer = *t;
        if (auto tf = text(p, "tokenizer_file", false)) {
          // A bare name: the file ships next to the ONNX export.
          if (tf->empty() || tf->find('/') != std::string::npos || *tf == "." || *tf == "..") {
            report(ManifestIssueKind::OutOfRange, p.get("tokenizer_file"), p.key_mark("tokenizer_file"),
                   p.field("tokenizer_file"),
                   "must be a bare file name next to the ONNX file (e.g. vocab.txt), got '" + clip(*tf) + "'");
          } else {
            spec.tokenizer_file = *tf;
          }
        }
        if (p.require("max_tokens").IsDefined()) {
          if (auto mt = positive_int(p, "max_tokens", 1 << 16)) spec.max_tokens = *mt;
        }
        m.input.prompt = spec;
      }
    }
  }
}

void ManifestParser::parse_preprocessing(const YAML::Node& n, const YAML::Mark& anchor, const std::string& field,
                                         int channels, InputSpec& in) {
  MapReader p(*this, n, field, anchor,
              {"resize", "interpolation", "align_corners", "border", "keep_aspect", "size", "pad_value",
               "pad_position", "normalize", "layout"});
  if (!p.valid()) return;
  Preprocessing pre;
  auto resize = choice<ResizeMethod>(p, "resize", true);
  if (resize) pre.resize = *resize;
  auto interpolation = choice<Interpolation>(p, "interpolation", false);
  if (interpolation) pre.interpolation = *interpolation;
  if (auto ac = boolean(p, "align_corners")) {
    pre.align_corners = *ac;
    if (*ac && interpolation && *interpolation != Interpolation::Bilinear) {
      report(ManifestIssueKind::Inconsistent, p.get("align_corners"), p.key_mark("align_corners"),
             p.field("align_corners"),
             "applies to bilinear interpolation only; interpolation is " + std::string(to_string(*interpolation)));
    }
  }
  parse_border(p, resize, pre);
  parse_keep_aspect(p, resize, pre);
  if (YAML::Node s = p.require("size"); s.IsDefined()) {
    if (auto sz = image_size(s, p.key_mark("size"), p.field("size"))) pre.size = *sz;
  }
  parse_pad_value(p, pre);
  if (auto pp = choice<PadPosition>(p, "pad_position", false)) pre.pad_position = *pp;
  if (auto l = choice<Layout>(p, "layout", true)) pre.layout = *l;
  parse_normalize(p, channels, pre);
  in.preprocessing = pre;
}

void ManifestParser::parse_border(const MapReader& p, std::optional<ResizeMethod> resize, Preprocessing& pre) {
  YAML::Node b = p.get("border");
  if (!b.IsDefined()) return;
  MapReader br(*this, b, p.field("border"), p.key_mark("border"), {"mode", "factor"});
  if (!br.valid()) return;
  BorderPadding border;
  bool ok = true;
  if (auto mode = choice<BorderMode>(br, "mode", true)) {
    border.mode = *mode;
  } else {
    ok = false;
  }
  if (YAML::Node f = br.require("factor"); f.IsDefined()) {
    if (auto v = number(f, br.key_mark("factor"), br.field("factor"))) {
      if (*v <= 0.0 || *v > 64.0) {
        report(ManifestIssueKind::OutOfRange, f, br.key_mark("factor"), br.field("factor"),
               "must be within (0, 64], got " + clip(f.Scalar()));
        ok = false;
      } else {
        border.factor = *v;
      }
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (resize && *resize == ResizeMethod::Letterbox) {
    report(ManifestIssueKind::Inconsistent, b, p.key_mark("border"), p.field("border"),
           "a border is added before a plain resize; it cannot be combined with resize: letterbox");
    ok = false;
  }
  if (ok) pre.border = border;
}

void ManifestParser::parse_keep_aspect(const MapReader& p, std::optional<ResizeMethod> resize,
                                       Preprocessing& pre) {
  YAML::Node k = p.get("keep_aspect");
  if (!k.IsDefined()) return;
  MapReader kr(*this, k, p.field("keep_aspect"), p.key_mark("keep_aspect"), {"multiple_of"});
  if (!kr.valid()) return;
  KeepAspect keep;
  bool ok = false;
  if (kr.require("multiple_of").IsDefined()) {
    if (auto m = positive_int(kr, "multiple_of", 1024)) {
      keep.multiple_of = *m;
      ok = true;
    }
  }
  if (resize && *resize == ResizeMethod::Letterbox) {
    report(ManifestIssueKind::Inconsistent, k, p.key_mark("keep_aspect"), p.field("keep_aspect"),
           "sizes the input per image for a plain resize to it; it cannot be combined with resize: letterbox");
    ok = false;
  }
  if (ok) pre.keep_aspect = keep;
}

void ManifestParser::parse_pad_value(const MapReader& p, Preprocessing& pre) {
  YAML::Node pv = p.get("pad_value");
  if (!pv.IsDefined()) return;
  if (auto v = integer(pv, p.key_mark("pad_value"), p.field("pad_value"))) {
    if (*v < 0 || *v > 255) {
      report(ManifestIssueKind::OutOfRange, pv, p.key_mark("pad_value"), p.field("pad_value"),
             "must be within [0, 255], got " + std::to_string(*v));
    } else {
      pre.pad_value = static_cast<int>(*v);
    }
  }
}

void ManifestParser::parse_normalize(const MapReader& p, int channels, Preprocessing& pre) {
  YAML::Node norm = p.require("normalize");
  if (!norm.IsDefined()) return;
  MapReader nr(*this, norm, p.field("normalize"), p.key_mark("normalize"), {"scale", "mean", "std"});
  if (!nr.valid()) return;
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
  pre.normalize.mean = parse_channel_list(nr, "mean", channels, false);
  pre.normalize.stddev = parse_channel_list(nr, "std", channels, true);
}

/// One value per channel of the colour format (`positive`: each > 0); empty
/// (and reported) when the list is missing or wrong.
std::vector<double> ManifestParser::parse_channel_list(const MapReader& nr, std::string_view key, int channels,
                                                       bool positive) {
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
}

void ManifestParser::parse_output(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.require("output");
  if (!node.IsDefined()) return;
  const std::size_t before = issue_count();
  MapReader out(*this, node, "output", top.key_mark("output"),
                {"type", "layout", "fields", "class_names", "keypoint_names", "generation"});
  if (!out.valid()) return;
  const std::optional<OutputType> type = parse_output_type_and_layout(out, m);
  parse_output_fields(out, m);
  parse_generation(out, m);

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
  output_ok_ = issue_count() == before && type.has_value();
}

/// output.generation (seq2seq_tokens): transformers' GenerationConfig decoding settings.
void ManifestParser::parse_generation(const MapReader& out, ModelManifest& m) {
  const YAML::Node node = out.get("generation");
  if (!node.IsDefined()) return;
  if (m.output.layout != OutputLayout::Seq2SeqTokens) {
    report(ManifestIssueKind::Inconsistent, out.key_mark("generation"), "output.generation",
           "only seq2seq_tokens outputs (Florence-2) are generated token by token; remove this section");
    return;
  }
  MapReader g(*this, node, "output.generation", out.key_mark("generation"),
              {"num_beams", "no_repeat_ngram_size", "forced_bos_token_id", "forced_eos_token_id", "early_stopping",
               "length_penalty", "max_new_tokens", "min_length"});
  if (!g.valid()) return;
  GenerationSpec spec;
  if (auto v = positive_int(g, "num_beams", 16)) spec.num_beams = *v;
  if (auto v = positive_int(g, "max_new_tokens", 1 << 16)) spec.max_new_tokens = *v;
  // Non-negative integers (0 = off), bounded.
  const auto non_negative = [&](std::string_view key, std::int64_t max_value) -> std::optional<std::int64_t> {
    const YAML::Node n = g.get(key);
    if (!n.IsDefined()) return std::nullopt;
    auto v = integer(n, g.key_mark(key), g.field(key));
    if (!v) return std::nullopt;
    if (*v < 0 || *v > max_value) {
      report(ManifestIssueKind::OutOfRange, n, g.key_mark(key), g.field(key),
             "must be within [0, " + std::to_string(max_value) + "], got " + std::to_string(*v));
      return std::nullopt;
    }
    return v;
  };
  if (auto v = non_negative("no_repeat_ngram_size", 1 << 16)) spec.no_repeat_ngram_size = static_cast<int>(*v);
  if (auto v = non_negative("min_length", 1 << 16)) spec.min_length = static_cast<int>(*v);
  spec.forced_bos_token_id = non_negative("forced_bos_token_id", std::int64_t{1} << 40);
  spec.forced_eos_token_id = non_negative("forced_eos_token_id", std::int64_t{1} << 40);
  if (auto v = choice(g, "early_stopping", false, {"true", "false", "never"}, "early_stopping")) {
    spec.early_stopping = *v;
  }
  if (const YAML::Node lp = g.get("length_penalty"); lp.IsDefined()) {
    if (auto v = number(lp, g.key_mark("length_penalty"), g.field("length_penalty"))) {
      if (!std::isfinite(*v)) {
        report(ManifestIssueKind::OutOfRange, lp, g.key_mark("length_penalty"), g.field("length_penalty"),
               "must be a finite number");
      } else {
        spec.length_penalty = *v;
      }
    }
  }
  m.output.generation = spec;
}

/// output.type and output.layout (a layout must decode the declared type).
std::optional<OutputType> ManifestParser::parse_output_type_and_layout(const MapReader& out, ModelManifest& m) {
  const std::optional<OutputType> type = choice<OutputType>(out, "type", true);
  if (type) m.output.type = *type;
  if (auto l = text(out, "layout", true)) {
    auto layout = parse_output_layout(*l);
    std::vector<std::string> allowed;
    for (const auto& cand : name_table<OutputLayout>()) {
      if (!type || output_type_of(cand.value) == *type) allowed.emplace_back(cand.name);
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
  return type;
}

void ManifestParser::parse_output_fields(const MapReader& out, ModelManifest& m) {
  YAML::Node f = out.require("fields");
  if (!f.IsDefined() || !is_list(f, out.key_mark("fields"), "output.fields", false)) return;
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
               "unknown dtype '" + clip(*d) + "'; allowed: " + join(dtype_names()) +
                   suggestion(*d, dtype_names()));
      }
    }
    if (auto desc = text(fr, "description", false)) field.description = *desc;
    if (YAML::Node s = fr.require("shape");
        s.IsDefined() && is_list(s, fr.key_mark("shape"), fr.field("shape"), false)) {
      parse_field_shape(s, fr, field);
    }
    m.output.fields.push_back(std::move(field));
  }
}

/// One output field's shape: positive integers, -1 (dynamic) or symbolic names.
void ManifestParser::parse_field_shape(const YAML::Node& s, const MapReader& fr, OutputField& field) {
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

void ManifestParser::parse_postprocessing(const MapReader& top, ModelManifest& m) {
  const YAML::Node node = top.get("postprocessing");
  if (!node.IsDefined()) return;
  MapReader p(*this, node, "postprocessing", top.key_mark("postprocessing"),
              {"confidence_threshold", "nms_iou_threshold", "max_detections", "text_threshold",
               "keypoint_threshold", "mask_threshold", "color_map", "track_high_threshold", "track_low_threshold",
               "new_track_threshold", "match_threshold", "track_buffer", "upsample"});
  if (!p.valid()) return;
  auto& pp = m.postprocessing;
  pp.confidence_threshold = threshold(p, "confidence_threshold", true);
  pp.nms_iou_threshold = threshold(p, "nms_iou_threshold", true);
  pp.max_detections = positive_int(p, "max_detections", 1 << 20);
  pp.text_threshold = threshold(p, "text_threshold", true);
  pp.keypoint_threshold = threshold(p, "keypoint_threshold", true);
  pp.mask_threshold = threshold(p, "mask_threshold", false);
  pp.color_map = choice(p, "color_map", false, {std::begin(kColorMapNames), std::end(kColorMapNames)}, "color map");
  if (auto f = choice<Interpolation>(p, "upsample", false)) pp.upsample = *f;
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

void ManifestParser::parse_resources(const MapReader& top, ModelManifest& m) {
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

}  // namespace aegisrt::models::detail
