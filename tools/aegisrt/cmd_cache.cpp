// `aegisrt cache list|verify|clean` and `aegisrt build`: inspect the artefact
// caches and prebuild TVM libraries / TensorRT engines through them.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aegisrt/trt_plan/engine_builder.h"
#include "aegisrt/backends/tvm/tvm_backend.h"
#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/tools/progress.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/models/catalog.h"
#include "cli_common.h"

namespace aegisrt::cli {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> cache_dirs(const std::vector<std::string>& flags) {
  if (!flags.empty()) return {flags.begin(), flags.end()};
  return {default_cache_dir("tensorrt"), default_cache_dir("tvm")};
}

// The same backend checks a lookup applies (TVM: target in the file name,
// a usable extra.io), so `cache verify` never calls valid what a run rejects.
CacheOptions maintenance_options() {
  CacheOptions o;
#if AEGISRT_CLI_HAVE_TVM
  o.validate = tvm_validate_entry;
#endif
  return o;
}

// The running environment for an entry, where this build can tell.
std::optional<BuildEnvironment> running_environment([[maybe_unused]] const ArtifactMetadata& md) {
#if AEGISRT_CLI_HAVE_TVM
  if (md.backend == "tvm") {
    const Device dev = md.gpu_uuid.empty() ? Device::cpu() : Device::cuda(0);
    auto env = tvm_build_environment(dev);
    if (env.ok()) return *env;
  }
#endif
  return std::nullopt;
}

std::string human_size(std::uint64_t bytes) {
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
  if (bytes >= (1ull << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(bytes) / (1 << 10));
  return fmt::format("{} B", bytes);
}

nlohmann::json entry_json(const CacheEntry& e, bool verified) {
  nlohmann::json j;
  j["artifact"] = e.artifact_path.string();
  j["sidecar"] = e.sidecar_exists ? e.sidecar_path.string() : "";
  j["size"] = e.artifact_size;
  if (e.metadata) j["metadata"] = nlohmann::json::parse(e.metadata->to_json());
  if (verified) {
    j["valid"] = e.problem.empty();
    j["problem"] = e.problem;
    j["notes"] = e.notes;
  }
  return j;
}

void print_entry(const CacheEntry& e, bool verified) {
  std::cout << "  " << e.artifact_path.filename().string();
  if (e.metadata) {
    const auto& m = *e.metadata;
    std::cout << "  " << (m.backend_display_name.empty() ? m.backend : m.backend_display_name) << " "
              << m.backend_version << "  " << m.precision << "  " << human_size(e.artifact_size);
    for (const auto& [k, v] : m.build_options) std::cout << "  " << k << "=" << v;
    if (!m.gpu_uuid.empty()) std::cout << "  gpu " << m.gpu_uuid << " (cc " << m.compute_capability << ")";
    std::cout << "  built " << m.created_utc << " from " << m.source_model;
  } else if (e.artifact_exists) {
    std::cout << "  " << human_size(e.artifact_size) << "  (no metadata)";
  }
  std::cout << "\n";
  if (verified) {
    std::cout << "    " << (e.problem.empty() ? "valid" : "STALE: " + e.problem) << "\n";
    for (const auto& n : e.notes) std::cout << "    note: " << n << "\n";
  } else if (!e.problem.empty()) {
    std::cout << "    problem: " << e.problem << "\n";
  }
}

int list_or_verify(const std::vector<std::string>& dirs, bool verify, bool json) {
  nlohmann::json out = nlohmann::json::array();
  bool all_valid = true;
  for (const auto& dir : cache_dirs(dirs)) {
    ArtifactCache cache(dir, maintenance_options());
    auto entries = verify ? cache.verify(running_environment) : cache.list();
    if (!entries.ok()) return report_error(entries.error());
    if (!json) std::cout << dir.string() << ": " << entries->size() << " entr" << (entries->size() == 1 ? "y" : "ies") << "\n";
    for (const auto& e : *entries) {
      if (!e.problem.empty()) all_valid = false;
      if (json) out.push_back(entry_json(e, verify));
      else print_entry(e, verify);
    }
  }
  if (json) std::cout << out.dump(2) << "\n";
  return (verify && !all_valid) ? kExitFailure : kExitOk;
}

int clean(const std::vector<std::string>& dirs, bool all, bool dry_run) {
  int rc = kExitOk;
  for (const auto& dir : cache_dirs(dirs)) {
    ArtifactCache cache(dir, maintenance_options());
    auto report = cache.clean(running_environment, all, dry_run);
    if (!report.ok()) return report_error(report.error());
    for (const auto& p : report->removed) std::cout << (dry_run ? "would remove " : "removed ") << p.string() << "\n";
    for (const auto& f : report->failures) {
      std::cerr << "warning: " << f << "\n";
      rc = kExitFailure;
    }
    std::cout << dir.string() << ": " << report->removed.size() << " file(s) " << (dry_run ? "to remove" : "removed")
              << "\n";
  }
  return rc;
}

struct BuildArgs {
  std::string backend;
  std::string model;
  std::string model_file;
  std::string variant;
  std::string precision;
  std::string cache_dir;
  std::string part;  // --part: only this part of a --model (default: every part)
  std::string device = "cpu";
  std::string arch;
  std::vector<std::string> input_shapes;
  int tune_seconds = 0;  // --tune: MetaSchedule budget (tvm only)
};

void print_outcome(const CacheResult& r) {
  switch (r.outcome) {
    case CacheOutcome::Hit:
      std::cout << "cache hit: " << r.artifact_path.string() << " (built " << r.metadata.created_utc << ")\n";
      break;
    case CacheOutcome::Built:
      std::cout << (r.build_reason.starts_with("no cached artefact") ? "built " : "rebuilt ")
                << r.artifact_path.string() << fmt::format(" in {:.1f} s", to_ms(r.build_time) / 1000.0)
                << "\n  reason: " << r.build_reason << "\n";
      break;
    case CacheOutcome::BuiltByOther:
      std::cout << "built by another process while waiting: " << r.artifact_path.string() << "\n";
      break;
    case CacheOutcome::BuiltUncached:
      std::cout << "built without caching: " << r.artifact_path.string() << "\n  warning: " << r.warning << "\n";
      break;
  }
}

/// One ONNX file to build: a whole --model-file, or one part of a --model selection.
struct BuildTarget {
  fs::path model;
  std::string variant;  // the cache key's variant (a part's cache name)
  std::string label;    // "detector (yolo variant v8n)"; empty for a single-file model
};

int build_one(const BuildArgs& a, const fs::path& model, const std::string& variant, std::optional<Precision> prec,
              const Device& device);

int build(const BuildArgs& a, const CliContext& ctx) {
  std::vector<BuildTarget> targets;
  std::string precision = a.precision;
  if (!a.model.empty()) {
    auto dir = models::resolve_models_directory(ctx.models_dir);
    if (!dir.ok()) return report_error(dir.error());
    auto catalog = models::ModelCatalog::load_directory(dir->path);
    if (!catalog.ok()) return report_error(catalog.error());
    auto sel = catalog->validate_selection(a.model, a.backend, a.variant, a.precision);
    if (!sel.ok()) return report_error(sel.error());
    // Every part of the variant (its own file first), each under its own
    // cache key; all files are found before anything is built.
    std::vector<models::ResolvedPart> parts = sel->parts;
    if (!a.part.empty()) {
      std::vector<std::string> names;
      for (const auto& p : parts) names.push_back(p.name);
      std::erase_if(parts, [&](const models::ResolvedPart& p) { return p.name != a.part; });
      if (parts.empty()) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
        return report_error(Error(ErrorCode::NotFound, sel->model + " variant '" + sel->variant + "' has no part '" +
                                                           a.part + "'; parts: " + list));
      }
    }
    const bool several = sel->parts.size() > 1;
    if (!a.input_shapes.empty() && parts.size() > 1) {
      return report_error(Error(ErrorCode::InvalidArgument,
                                "--input-shape pins an input of one ONNX file; " + sel->model + " variant '" +
                                    sel->variant + "' has " + std::to_string(parts.size()) +
                                    " parts: give --part too"));
    }
    for (const auto& p : parts) {
      auto onnx = catalog->find_part_onnx(sel->model, sel->variant, p);
      if (!onnx.ok()) return report_error(onnx.error());
      std::string label;
      if (several) label = p.name + (p.kind == models::PartKind::Model ? " (" + p.model + " variant " + p.variant + ")" : "");
      targets.push_back({*onnx, p.cache_name, label});
    }
    if (precision.empty()) precision = std::string(to_string(sel->precision));
  } else {
    if (!a.part.empty()) {
      return report_error(Error(ErrorCode::InvalidArgument, "--part selects a part of a --model; a --model-file has one"));
    }
    targets.push_back({a.model_file, a.variant, ""});
  }
  if (targets.front().model.empty()) {
    return report_error(Error(ErrorCode::InvalidArgument, "give --model NAME or --model-file FILE"));
  }
  // A FIFO, socket or device would block the hashing and the build for ever.
  for (const auto& t : targets) {
    if (auto checked = check_regular_file(t.model, "model file"); !checked.ok()) return report_error(checked.error());
  }
  const auto device = parse_device(a.device);
  if (!device) return report_error(Error(ErrorCode::InvalidArgument, "unknown --device '" + a.device + "' (cpu, cuda, cuda:N)"));
  std::optional<Precision> prec;
  if (!precision.empty()) {
    prec = parse_precision(precision);
    if (!prec) return report_error(Error(ErrorCode::InvalidArgument, "unknown --precision '" + precision + "' (fp32, fp16, int8)"));
  }
  for (const auto& t : targets) {
    if (!t.label.empty()) std::cout << "part " << t.label << ":\n";
    if (const int rc = build_one(a, t.model, t.variant, prec, *device); rc != kExitOk) return rc;
  }
  return kExitOk;
}

/// Builds one ONNX file into the cache under `variant`.
int build_one(const BuildArgs& a, const fs::path& model, const std::string& variant, std::optional<Precision> prec,
              const Device& device) {
  tools::BuildProgressIndicator progress(std::cerr, tools::BuildProgressIndicator::stderr_is_terminal());
  if (a.backend == "tvm") {
#if AEGISRT_CLI_HAVE_TVM
    TvmBuildOptions o;
    o.model = model;
    o.cache_dir = a.cache_dir;
    o.variant = variant;
    o.precision = prec.value_or(Precision::FP32);
    o.device = device;
    o.arch = a.arch;
    for (const auto& s : a.input_shapes) {
      const auto colon = s.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        return report_error(Error(ErrorCode::InvalidArgument, "--input-shape '" + s + "' must look like name:1x3x224x224"));
      }
      o.input_shapes[s.substr(0, colon)] = s.substr(colon + 1);
    }
    // An --input-shape for an input the model does not have would otherwise be
    // ignored and the build reported as done: refuse it, naming the inputs.
    if (!o.input_shapes.empty()) {
      auto summary = onnx::summarize_onnx_file(model);
      if (!summary.ok()) return report_error(summary.error());
      for (const auto& [name, shape] : o.input_shapes) {
        const bool known = std::any_of(summary->inputs.begin(), summary->inputs.end(),
                                       [&](const TensorDesc& d) { return d.name == name; });
        if (!known) {
          std::string inputs;
          for (const auto& d : summary->inputs) inputs += (inputs.empty() ? "" : ", ") + d.to_string();
          return report_error(Error(ErrorCode::InvalidArgument,
                                    "--input-shape '" + name + ":" + shape + "': '" + model.string() +
                                        "' has no input '" + name + "'; its inputs: " +
                                        (inputs.empty() ? std::string("none") : inputs)));
        }
      }
    }
    o.tune_seconds = a.tune_seconds;
    auto r = build_tvm_library(o, progress.callback());
    progress.finish(r.ok());
    if (!r.ok()) return report_error(r.error());
    print_outcome(*r);
    if (auto t = tvm_tuning_summary(r->metadata, r->artifact_path.string()); t.ok() && *t) {
      const auto& s = **t;
      std::cout << fmt::format("  tuned: {} trials over {} tasks in {:.0f} s (budget {} s), best records of {} "
                               "functions kept in the sidecar{}\n",
                               s.trials, s.tasks, s.search_seconds, s.budget_seconds, s.records,
                               s.seed_records > 0 ? fmt::format(", started from {} earlier records", s.seed_records)
                                                  : std::string());
    }
    return kExitOk;
#else
    return report_error(Error(ErrorCode::Unsupported, "this aegisrt was built without TVM (AEGISRT_WITH_TVM)"));
#endif
  }
  if (a.tune_seconds > 0) {
    return report_error(Error(ErrorCode::InvalidArgument,
                              "--tune runs TVM's MetaSchedule search; backend '" + a.backend +
                                  "' has no tuning step (TensorRT tunes its tactics in every engine build)"));
  }
  if (a.backend == "tensorrt") {
    trt::EngineBuildOptions o;
    o.onnx_model = model;
    o.variant = variant;
    o.precision = prec;
    o.cache_dir = a.cache_dir;
    o.device = device.index;
    auto r = trt::build_tensorrt_engine(o, progress.callback());
    progress.finish(r.ok());
    if (!r.ok()) return report_error(r.error());
    print_outcome(r->cache);
    return kExitOk;
  }
  return report_error(Error(ErrorCode::InvalidArgument,
                            "backend '" + a.backend + "' has no build step (tvm and tensorrt do; onnx loads .onnx directly)"));
}

}  // namespace

void add_cache_commands(CLI::App& app, CliContext& ctx) {
  auto* cache = app.add_subcommand("cache", "Inspect and clean the artefact caches (TensorRT engines, TVM libraries)");
  cache->require_subcommand(1);

  struct ListArgs {
    std::vector<std::string> dirs;
    bool json = false;
    bool all = false;
    bool dry_run = false;
  };
  auto args = std::make_shared<ListArgs>();
  const std::string dir_help =
      "Cache folder (repeatable; default: TensorRT's " + default_cache_dir("tensorrt").string() + " and TVM's " +
      default_cache_dir("tvm").string() + ")";

  auto* list = cache->add_subcommand("list", "Show cached artefacts with their metadata");
  list->add_option("--dir", args->dirs, dir_help);
  list->add_flag("--json", args->json, "Machine-readable output");
  list->callback([args, &ctx] { ctx.exit_code = list_or_verify(args->dirs, false, args->json); });

  auto* verify = cache->add_subcommand("verify", "Check every entry (checksum, source model, backend version, GPU); exit 1 if any is stale");
  verify->add_option("--dir", args->dirs, dir_help);
  verify->add_flag("--json", args->json, "Machine-readable output");
  verify->callback([args, &ctx] { ctx.exit_code = list_or_verify(args->dirs, true, args->json); });

  auto* clean_cmd = cache->add_subcommand(
      "clean", "Remove stale or corrupt entries and leftovers of crashed builds (only files provably the cache's own)");
  clean_cmd->add_option("--dir", args->dirs, dir_help);
  clean_cmd->add_flag("--all", args->all, "Remove every entry, valid or not");
  clean_cmd->add_flag("--dry-run", args->dry_run, "Only say what would be removed");
  clean_cmd->callback([args, &ctx] { ctx.exit_code = clean(args->dirs, args->all, args->dry_run); });

  auto b = std::make_shared<BuildArgs>();
  auto* build_cmd = app.add_subcommand("build", "Prebuild a TVM library or TensorRT engine into the artefact cache "
                                                "(every part of a multi-part model)");
  build_cmd->add_option("--backend", b->backend, "tvm or tensorrt")->required();
  auto* m = build_cmd->add_option("--model", b->model, "Model name from the models folder (manifest.yaml)");
  auto* f = build_cmd->add_option("--model-file", b->model_file, "An ONNX file")->check(CLI::ExistingFile);
  m->excludes(f);
  f->excludes(m);
  build_cmd->add_option("--variant", b->variant, "Variant (default: the manifest's default, or the file's stem)");
  build_cmd->add_option("--precision", b->precision, "fp32, fp16 or int8 (default: tvm fp32, tensorrt fp16)");
  build_cmd->add_option("--part", b->part,
                        "Only this part of a multi-part --model ('main' = the variant's own file; default: every "
                        "part, each under its own cache key)");
  build_cmd->add_option("--cache-dir", b->cache_dir,
                        "Cache folder (default: " + default_cache_dir("tvm").string() + " or " +
                            default_cache_dir("tensorrt").string() + ")");
  add_lock_timeout_option(build_cmd);
  build_cmd->add_option("--device", b->device, "cpu, cuda or cuda:N (tvm: cpu -> llvm, cuda -> cuda target)");
  build_cmd->add_option("--arch", b->arch, "tvm on cuda: GPU architecture, e.g. sm_90 (default: the device's)");
  build_cmd->add_option("--input-shape", b->input_shapes, "tvm: pin a dynamic input, name:1x3x224x224 (repeatable)");
  build_cmd->add_option("--tune", b->tune_seconds,
                        "tvm: MetaSchedule search of about SECONDS before the build (plus its imports and the final "
                        "build); cached as a separate '-tuned' library, which loads prefer (backend option tune=auto)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  build_cmd->callback([b, &ctx] { ctx.exit_code = build(*b, ctx); });
}

}  // namespace aegisrt::cli
