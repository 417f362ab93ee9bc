// aegisrt models [NAME] [--json] and aegisrt validate --model M --backend B
// [--variant V] [--precision P]: the model catalog seen from the command line.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/models/catalog.h"
#include "backend_pick.h"
#include "cli_common.h"

namespace aegisrt::cli {
namespace {

using models::ModelCatalog;
using models::ModelManifest;

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> precision_names(const ModelManifest& m) {
  std::vector<std::string> out;
  for (auto p : m.precisions) out.emplace_back(to_string(p));
  return out;
}

std::string shape_text(const models::OutputField& f) {
  std::vector<std::string> dims;
  for (std::size_t i = 0; i < f.shape.size(); ++i) {
    dims.push_back(i < f.dim_names.size() && !f.dim_names[i].empty() ? f.dim_names[i] : std::to_string(f.shape[i]));
  }
  return "[" + join(dims) + "]";
}

nlohmann::json summary_json(const ModelManifest& m) {
  nlohmann::json j;
  j["name"] = m.name;
  j["family"] = m.family;
  j["variants"] = m.variant_names();
  j["default_variant"] = m.default_variant;
  j["backends"] = m.backends;
  j["backends_defaulted"] = m.backends_defaulted;
  j["precisions"] = precision_names(m);
  j["output_type"] = std::string(to_string(m.output.type));
  j["manifest"] = m.manifest_path.string();
  return j;
}

/// How a part's file is made: a file of this model comes from the model's own
/// source.export; a catalog-model part from that model's manifest (empty when
/// it is not in the catalog).
std::string part_export(const ModelManifest& m, const models::PartSpec& p, const models::ModelCatalog* catalog) {
  if (p.kind == models::PartKind::File) return m.source.export_command;
  const ModelManifest* ref = catalog != nullptr ? catalog->find(p.model) : nullptr;
  return ref != nullptr ? ref->source.export_command : std::string();
}

/// The declared parts of a variant (besides its own file), as JSON.
nlohmann::json parts_json(const ModelManifest& m, const std::vector<models::PartSpec>& parts,
                          const models::ModelCatalog* catalog) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : parts) {
    nlohmann::json j{{"name", p.name}, {"kind", std::string(to_string(p.kind))}, {"description", p.description},
                     {"export", part_export(m, p, catalog)}};
    if (p.kind == models::PartKind::File) {
      j["onnx"] = p.onnx;
    } else {
      j["model"] = p.model;
      j["variant"] = p.variant;  // empty: that model's default variant
      j["classes"] = p.classes;
    }
    out.push_back(j);
  }
  return out;
}

/// The resolved parts of a selection (main first), as JSON.
nlohmann::json resolved_parts_json(const std::vector<models::ResolvedPart>& parts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : parts) {
    out.push_back({{"name", p.name},
                   {"kind", std::string(to_string(p.kind))},
                   {"model", p.model},
                   {"variant", p.variant},
                   {"onnx", p.onnx},
                   {"cache_name", p.cache_name},
                   {"classes", p.classes},
                   {"device_memory_bytes", p.device_memory_bytes}});
  }
  return out;
}

/// "detector: model yolo variant v8n (yolov8n.onnx), classes person, cache key m+detector"
std::string describe_part(const models::ResolvedPart& p) {
  std::string out = p.name + ": ";
  if (p.kind == models::PartKind::Model) {
    out += "model " + p.model + " variant " + p.variant + " (" + p.onnx + ")";
  } else {
    out += p.onnx;
  }
  if (!p.classes.empty()) out += ", classes " + join(p.classes);
  out += ", cache key " + p.cache_name;
  return out;
}

nlohmann::json variant_details_json(const ModelManifest& m, const models::ModelCatalog* catalog) {
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& v : m.variants) {
    auto r = m.resolve(v.name);
    nlohmann::json vj{{"name", v.name}, {"description", v.description}};
    if (r.ok()) {
      vj["onnx"] = r->onnx;
      vj["device_memory_mb"] = r->device_memory_mb;
      if (r->input.preprocessing) {
        vj["input_size"] = {r->input.preprocessing->size.height, r->input.preprocessing->size.width};
      }
      vj["num_classes"] = r->output.class_names.size();
      vj["parts"] = parts_json(m, r->parts, catalog);
    }
    variants.push_back(vj);
  }
  return variants;
}

nlohmann::json backend_status_json(const ModelManifest& m) {
  nlohmann::json backends = nlohmann::json::array();
  for (const auto& b : m.backends) {
    const auto st = models::backend_status(b);
    backends.push_back({{"name", b}, {"availability", std::string(to_string(st.availability))}, {"detail", st.detail}});
  }
  return backends;
}

// What `aegisrt run` without --backend would use here.
nlohmann::json auto_backend_json(const ModelManifest& m) {
  if (auto pick = pick_backend_for(m); pick.ok()) {
    return {{"backend", pick->backend}, {"passed_over", pick->skipped}};
  } else {
    return {{"backend", nullptr}, {"error", pick.error().message()}};
  }
}

nlohmann::json input_json(const ModelManifest& m) {
  nlohmann::json in{{"type", std::string(to_string(m.input.type))},
                    {"color_format", std::string(to_string(m.input.color_format))},
                    {"dtype", std::string(dtype_name(m.input.dtype))},
                    {"tensor_name", m.input.tensor_name}};
  if (const auto& p = m.input.preprocessing) {
    in["preprocessing"] = {{"resize", std::string(to_string(p->resize))},
                           {"size", {p->size.height, p->size.width}},
                           {"pad_value", p->pad_value},
                           {"pad_position", std::string(to_string(p->pad_position))},
                           {"normalize", {{"scale", p->normalize.scale}, {"mean", p->normalize.mean}, {"std", p->normalize.stddev}}},
                           {"layout", std::string(to_string(p->layout))}};
  }
  if (const auto& pr = m.input.prompt) {
    in["prompt"] = {{"tokenizer", pr->tokenizer}, {"tokenizer_file", pr->tokenizer_file}, {"max_tokens", pr->max_tokens}};
  }
  return in;
}

nlohmann::json output_json(const ModelManifest& m) {
  nlohmann::json out{{"type", std::string(to_string(m.output.type))},
                     {"layout", std::string(to_string(m.output.layout))},
                     {"class_names", m.output.class_names},
                     {"keypoint_names", m.output.keypoint_names}};
  for (const auto& f : m.output.fields) {
    nlohmann::json dims = nlohmann::json::array();
    for (std::size_t i = 0; i < f.shape.size(); ++i) {
      if (i < f.dim_names.size() && !f.dim_names[i].empty()) {
        dims.push_back(f.dim_names[i]);
      } else {
        dims.push_back(f.shape[i]);
      }
    }
    out["fields"].push_back({{"name", f.name}, {"dtype", std::string(dtype_name(f.dtype))}, {"shape", dims},
                             {"description", f.description}});
  }
  return out;
}

nlohmann::json postprocessing_json(const ModelManifest& m) {
  nlohmann::json pp = nlohmann::json::object();
  const auto& p = m.postprocessing;
  auto put = [&pp](const char* key, const auto& opt) {
    if (opt) pp[key] = *opt;
  };
  put("confidence_threshold", p.confidence_threshold);
  put("nms_iou_threshold", p.nms_iou_threshold);
  put("max_detections", p.max_detections);
  put("text_threshold", p.text_threshold);
  put("keypoint_threshold", p.keypoint_threshold);
  put("mask_threshold", p.mask_threshold);
  put("color_map", p.color_map);
  put("track_high_threshold", p.track_high_threshold);
  put("track_low_threshold", p.track_low_threshold);
  put("new_track_threshold", p.new_track_threshold);
  put("match_threshold", p.match_threshold);
  put("track_buffer", p.track_buffer);
  return pp;
}

nlohmann::json detail_json(const ModelManifest& m, const models::ModelCatalog* catalog = nullptr) {
  nlohmann::json j = summary_json(m);
  j["description"] = m.description;
  j["source"] = {{"weights", m.source.weights},
                 {"export", m.source.export_command},
                 {"license", m.source.license},
                 {"url", m.source.url}};
  j["variant_details"] = variant_details_json(m, catalog);
  j["backend_status"] = backend_status_json(m);
  j["auto_backend"] = auto_backend_json(m);
  j["input"] = input_json(m);
  j["output"] = output_json(m);
  j["postprocessing"] = postprocessing_json(m);
  return j;
}

void print_table(const ModelCatalog& catalog) {
  const std::string fmt_row = "{:<17} {:<18} {:<8} {:<31} {:<16} {}\n";
  std::cout << fmt::format(fmt::runtime(fmt_row), "MODEL", "FAMILY", "DEFAULT", "BACKENDS", "OUTPUT", "VARIANTS");
  for (const auto& m : catalog.models()) {
    std::string backends = join(m.backends);
    if (m.backends_defaulted) backends += " (default)";
    std::cout << fmt::format(fmt::runtime(fmt_row), m.name, m.family, m.default_variant, backends,
                             to_string(m.output.type), join(m.variant_names(), " "));
  }
}

void print_details(const ModelManifest& m, const models::ModelCatalog& catalog) {
  std::cout << m.name << " (" << m.family << ")\n";
  if (!m.description.empty()) std::cout << "  " << m.description << "\n";
  std::cout << "  manifest: " << m.manifest_path.string() << "\n";
  std::cout << "  variants (default " << m.default_variant << "):\n";
  for (const auto& v : m.variants) {
    auto r = m.resolve(v.name);
    if (!r.ok()) continue;
    std::string size;
    if (r->input.preprocessing) {
      size = fmt::format("{}x{}", r->input.preprocessing->size.height, r->input.preprocessing->size.width);
    }
    std::cout << fmt::format("    {:<10} {:>6} MB  {:<9} {:<42} {}\n", v.name, r->device_memory_mb, size,
                             v.onnx.empty() && m.output.fields.empty() ? "-" : r->onnx, v.description);
    for (const auto& p : r->parts) {
      std::cout << "      + part " << p.name << ": "
                << (p.kind == models::PartKind::File
                        ? p.onnx
                        : "model " + p.model + " variant " + (p.variant.empty() ? std::string("(its default)") : p.variant) +
                              (p.classes.empty() ? std::string() : ", classes " + join(p.classes)))
                << (p.description.empty() ? std::string() : "  " + p.description) << "\n";
      // A file of this model is made by the model's own export (source, below); a catalog model's by its own.
      const std::string how = part_export(m, p, &catalog);
      std::cout << "        export: "
                << (p.kind == models::PartKind::File ? std::string("with the variant's file (source.export below)")
                                                     : (how.empty() ? std::string("(model not in the catalog)") : how))
                << "\n";
    }
  }
  std::cout << "  backends" << (m.backends_defaulted ? " (field absent: default list)" : "") << ":\n";
  for (const auto& b : m.backends) {
    const auto st = models::backend_status(b);
    std::cout << fmt::format("    {:<9} {}: {}\n", b, to_string(st.availability), st.detail);
  }
  if (auto pick = pick_backend_for(m); pick.ok()) {
    std::cout << "  backend without --backend here: " << describe_pick(m, *pick) << "\n";
  } else {
    std::cout << "  backend without --backend here: none (" << pick.error().message() << ")\n";
  }
  std::cout << "  precisions: " << join(precision_names(m)) << "\n";
  std::cout << "  input: " << to_string(m.input.type);
  if (m.input.type != models::InputType::Detections) std::cout << ", " << to_string(m.input.color_format);
  std::cout << ", " << dtype_name(m.input.dtype);
  if (!m.input.tensor_name.empty()) std::cout << ", tensor '" << m.input.tensor_name << "'";
  std::cout << "\n";
  if (const auto& p = m.input.preprocessing) {
    std::cout << fmt::format("    {} to {}x{} (HxW)", to_string(p->resize), p->size.height, p->size.width);
    if (p->resize == models::ResizeMethod::Letterbox) {
      std::cout << fmt::format(", pad {} at {}", p->pad_value, to_string(p->pad_position));
    }
    std::cout << fmt::format(", scale {:.6g}, mean [{:.6g}], std [{:.6g}], {}\n", p->normalize.scale,
                             fmt::join(p->normalize.mean, ", "), fmt::join(p->normalize.stddev, ", "),
                             to_string(p->layout));
  }
  if (const auto& pr = m.input.prompt) {
    std::cout << "    prompt: tokenizer " << pr->tokenizer << ", at most " << pr->max_tokens << " tokens";
    if (!pr->tokenizer_file.empty()) std::cout << ", tokenizer_file " << pr->tokenizer_file << " (next to the ONNX)";
    std::cout << "\n";
  }
  std::cout << "  output: " << to_string(m.output.type) << " (layout " << to_string(m.output.layout) << ")";
  if (!m.output.class_names.empty()) {
    std::cout << ", " << m.output.class_names.size() << " classes";
    if (!m.output.class_names_source.empty() && m.output.class_names_source != "inline") {
      std::cout << " (" << m.output.class_names_source << ")";
    }
  }
  if (!m.output.keypoint_names.empty()) std::cout << ", " << m.output.keypoint_names.size() << " keypoints";
  std::cout << "\n";
  for (const auto& f : m.output.fields) {
    std::cout << fmt::format("    {:<16} {:<8} {}{}\n", f.name, dtype_name(f.dtype), shape_text(f),
                             f.description.empty() ? "" : "  " + f.description);
  }
  const auto pp = detail_json(m)["postprocessing"];
  if (!pp.empty()) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : pp.items()) parts.push_back(k + " " + (v.is_string() ? v.get<std::string>() : v.dump()));
    std::cout << "  postprocessing: " << join(parts) << "\n";
  }
  std::cout << "  source:\n    weights: " << m.source.weights << "\n";
  if (!m.source.url.empty()) std::cout << "    url: " << m.source.url << "\n";
  if (!m.source.license.empty()) std::cout << "    license: " << m.source.license << "\n";
  std::cout << "    export: " << m.source.export_command << "\n";
}

/// The catalog plus the issues of broken manifests (printed by the caller).
struct LoadedCatalog {
  models::CatalogScan scan;
  std::filesystem::path dir;
};

Result<LoadedCatalog> load_catalog(const CliContext& ctx) {
  // main.cpp pre-fills models_dir from $AEGISRT_MODELS_DIR; hand that case to the
  // resolver as "no flag" so its messages name the variable, not the flag.
  const char* env = std::getenv("AEGISRT_MODELS_DIR");
  const bool from_env = env != nullptr && ctx.models_dir == env;
  AEGIS_ASSIGN_OR_RETURN(auto dir, models::resolve_models_directory(from_env ? std::string() : ctx.models_dir));
  LoadedCatalog out{models::ModelCatalog::scan_directory(dir.path), dir.path};
  if (out.scan.manifests_seen == 0) {
    return Error(ErrorCode::NotFound, "no models/<name>/manifest.yaml under " + dir.path.string() + " (" +
                                          dir.origin + ")");
  }
  return out;
}

void print_issues(const std::vector<models::ManifestIssue>& issues) {
  for (const auto& i : issues) std::cerr << "manifest error: " << to_string(i) << "\n";
}

// ---- aegisrt models [NAME] [--json]
void run_models_list(CliContext& ctx, const std::string& name, bool json) {
  auto loaded = load_catalog(ctx);
  if (!loaded.ok()) {
    ctx.exit_code = report_error(loaded.error());
    return;
  }
  const auto& catalog = loaded->scan.catalog;
  print_issues(loaded->scan.issues);
  if (!name.empty()) {
    auto m = catalog.get(name);
    if (!m.ok()) {
      ctx.exit_code = report_error(m.error());
      return;
    }
    if (json) {
      std::cout << detail_json(**m, &catalog).dump(2) << "\n";
    } else {
      print_details(**m, catalog);
    }
  } else if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : catalog.models()) out.push_back(summary_json(m));
    std::cout << out.dump(2) << "\n";
  } else {
    print_table(catalog);
  }
  // A broken manifest anywhere makes `aegisrt models` fail, so it doubles as a lint.
  if (!loaded->scan.issues.empty()) ctx.exit_code = kExitInvalid;
}

struct ValidateArgs {
  std::string model, backend, variant, precision;
  bool json = false;
};

/// Prints the --json form of a failed validation (when asked) and reports it.
void fail_validation(CliContext& ctx, const ValidateArgs& args, const Error& err) {
  if (args.json) {
    std::cout << nlohmann::json{{"valid", false},
                                {"code", std::string(to_string(err.code()))},
                                {"message", err.message()}}
                     .dump(2)
              << "\n";
  }
  ctx.exit_code = report_error(err);
}

/// Only the asked model's own manifest problems decide the outcome: true (and
/// reported) when its manifest is broken.
bool own_manifest_broken(CliContext& ctx, const LoadedCatalog& loaded, const std::string& model) {
  const auto own = loaded.dir / model / "manifest.yaml";
  std::vector<models::ManifestIssue> own_issues;
  for (const auto& i : loaded.scan.issues) {
    if (i.where.file == own) own_issues.push_back(i);
  }
  if (own_issues.empty()) return false;
  print_issues(own_issues);
  ctx.exit_code = report_error(
      Error(ErrorCode::InvalidArgument, "the manifest of '" + model + "' is broken (" + own.string() + ")"));
  return true;
}

void print_selection(const ValidateArgs& args, const models::Selection& sel, const std::string& picked_from) {
  const auto status = models::backend_status(sel.backend);
  if (args.json) {
    std::cout << nlohmann::json{{"valid", true},
                                {"model", sel.model},
                                {"backend", sel.backend},
                                {"variant", sel.variant},
                                {"precision", std::string(to_string(sel.precision))},
                                {"device_memory_bytes", sel.device_memory_bytes},
                                {"backend_availability", std::string(to_string(status.availability))},
                                {"backend_detail", status.detail},
                                {"backend_picked", !picked_from.empty()},
                                {"parts", resolved_parts_json(sel.parts)}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << fmt::format("valid: {} variant {} at {} on backend {} (device memory {} MB)\n", sel.model,
                           sel.variant, to_string(sel.precision), sel.backend,
                           sel.device_memory_bytes / (1024 * 1024));
  if (!picked_from.empty()) std::cout << "backend picked: " << picked_from << "\n";
  if (sel.parts.size() > 1) {
    std::cout << "parts (" << sel.parts.size() << "):\n";
    for (const auto& p : sel.parts) std::cout << "  " << describe_part(p) << "\n";
  }
  if (status.availability != models::BackendAvailability::Available) {
    std::cout << "note: backend " << sel.backend << " in this build: " << status.detail << "\n";
  }
}

// ---- aegisrt validate --model M --backend B [--variant V] [--precision P]
void run_validate(CliContext& ctx, const ValidateArgs& args) {
  auto loaded = load_catalog(ctx);
  if (!loaded.ok()) {
    ctx.exit_code = report_error(loaded.error());
    return;
  }
  if (own_manifest_broken(ctx, *loaded, args.model)) return;
  std::string backend = args.backend;
  std::string picked_from;  // set when no --backend was given
  if (backend.empty()) {
    auto m = loaded->scan.catalog.get(args.model);
    auto pick = m.ok() ? pick_backend_for(**m) : Result<models::BackendPick>(m.error());
    if (!pick.ok()) {
      fail_validation(ctx, args, pick.error());
      return;
    }
    backend = pick->backend;
    picked_from = describe_pick(**m, *pick);
  }
  auto sel = loaded->scan.catalog.validate_selection(args.model, backend, args.variant, args.precision);
  if (!sel.ok()) {
    fail_validation(ctx, args, sel.error());
    return;
  }
  print_selection(args, *sel, picked_from);
  ctx.exit_code = kExitOk;
}

}  // namespace

void add_models_commands(CLI::App& app, CliContext& ctx) {
  // ---- aegisrt models [NAME] [--json]
  auto* list = app.add_subcommand("models", "List the models of the catalog, or show one model in detail");
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  list->add_option("name", *name, "Model to show in detail");
  list->add_flag("--json", *json, "Machine-readable output");
  list->callback([&ctx, name, json] { run_models_list(ctx, *name, *json); });

  // ---- aegisrt validate --model M --backend B [--variant V] [--precision P]
  auto* validate = app.add_subcommand("validate", "Check that a model/backend/variant/precision selection is supported");
  auto args = std::make_shared<ValidateArgs>();
  validate->add_option("-m,--model", args->model, "Model name (see `aegisrt models`)")->required();
  validate->add_option("-b,--backend", args->backend,
                       "Backend: tensorrt, onnx, cuda, rocm, openvino, tvm or cpu (default: the first of the "
                       "model's list that this build and machine can run, as `aegisrt run` picks it)");
  validate->add_option("--variant", args->variant, "Variant (default: the manifest's default_variant)");
  validate->add_option("-p,--precision", args->precision, "fp32, fp16 or int8 (default: fp32 when supported)");
  validate->add_flag("--json", args->json, "Machine-readable output");
  validate->callback([&ctx, args] { run_validate(ctx, *args); });
}

}  // namespace aegisrt::cli
