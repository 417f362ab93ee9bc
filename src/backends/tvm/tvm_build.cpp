// The TVM build step: ONNX -> Relax VM library via python/aegisrt_tvm_build.py,
// run as a child process through the ArtifactCache's builder hook.
#include <cctype>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "aegisrt/onnx/onnx_summary.h"
#include "aegisrt/backends/tvm/tvm_backend.h"
#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"
#include "subprocess.h"

#if defined(AEGISRT_HAVE_CUDA)
#include "aegisrt/cuda/device_info.h"
#endif

#ifndef AEGISRT_TVM_VERSION
#define AEGISRT_TVM_VERSION "unknown"
#endif
#ifndef AEGISRT_TVM_FFI_VERSION
#define AEGISRT_TVM_FFI_VERSION "unknown"
#endif
#ifndef AEGISRT_TVM_PYTHON
#define AEGISRT_TVM_PYTHON ""
#endif

namespace aegisrt {

namespace fs = std::filesystem;

namespace {
// Bumped when the build script's output for the same inputs changes.
constexpr const char* kBuilderId = "aegisrt_tvm_build.py/1";

// The last few non-empty lines of a stderr dump, for error messages.
std::string tail_lines(const std::string& text, int max_lines) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  std::string out;
  const int start = std::max(0, static_cast<int>(lines.size()) - max_lines);
  for (int i = start; i < static_cast<int>(lines.size()); ++i) {
    out += (out.empty() ? "" : " | ") + lines[static_cast<std::size_t>(i)];
  }
  return out;
}

// True for a line that reports an error with its reason: the word "error"
// (not the tail of "RuntimeError") followed by more than ':' and spaces, like
// "kernel.cu(12): error: expected ...", not a bare "Compilation error:" header.
bool is_error_report(const std::string& line) {
  std::string lower = line;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t pos = lower.find("error"); pos != std::string::npos; pos = lower.find("error", pos + 1)) {
    const bool starts_word = pos == 0 || !std::isalpha(static_cast<unsigned char>(lower[pos - 1]));
    const bool ends_word = pos + 5 >= lower.size() || !std::isalpha(static_cast<unsigned char>(lower[pos + 5]));
    if (!starts_word || !ends_word) continue;
    if (lower.find_first_not_of(": \t", pos + 5) != std::string::npos) return true;
  }
  return false;
}

// What a failed build says: the script's own summary line ("aegisrt_tvm_build:
// error: ...", which quotes the compiler's FIRST error line), else the first
// line reporting an error (a crash before the summary), else the last lines.
std::string build_failure_reason(const std::string& text) {
  constexpr std::string_view kSummary = "aegisrt_tvm_build: error: ";
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) lines.push_back(l);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (it->starts_with(kSummary)) return it->substr(kSummary.size());
  }
  for (const auto& l : lines) {
    if (is_error_report(l)) return l + " | ... | " + tail_lines(text, 2);
  }
  return tail_lines(text, 4);
}

std::string shapes_to_string(const std::map<std::string, std::string>& shapes) {
  std::string s;
  for (const auto& [name, dims] : shapes) s += (s.empty() ? "" : ",") + name + ":" + dims;
  return s;
}
}  // namespace

std::string tvm_version() {
  return std::string(AEGISRT_TVM_VERSION) + " (tvm-ffi " + AEGISRT_TVM_FFI_VERSION + ")";
}

fs::path find_tvm_python() {
  if (const char* env = std::getenv("AEGISRT_PYTHON"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (const fs::path recorded = AEGISRT_TVM_PYTHON; !recorded.empty() && fs::exists(recorded, ec)) {
    return recorded;
  }
  if (const fs::path venv = fs::path(AEGISRT_SOURCE_DIR) / ".venv/bin/python"; fs::exists(venv, ec)) {
    return venv;
  }
  return "python3";
}

Result<fs::path> find_tvm_build_script() {
  std::error_code ec;
  if (const char* env = std::getenv("AEGISRT_TVM_BUILD_SCRIPT"); env != nullptr && *env != '\0') {
    if (!fs::is_regular_file(env, ec)) {
      return Error(ErrorCode::NotFound,
                   std::string("AEGISRT_TVM_BUILD_SCRIPT names '") + env + "', which does not exist");
    }
    return fs::path(env);
  }
  const fs::path candidates[] = {fs::path(AEGISRT_SOURCE_DIR) / "python/aegisrt_tvm_build.py",
                                 fs::path(AEGISRT_INSTALL_DATADIR) / "python/aegisrt_tvm_build.py"};
  for (const auto& c : candidates)
    if (fs::is_regular_file(c, ec)) return c;
  return Error(ErrorCode::NotFound, "aegisrt_tvm_build.py not found (looked in '" + candidates[0].string() +
                                        "' and '" + candidates[1].string() +
                                        "'; set AEGISRT_TVM_BUILD_SCRIPT)");
}

Result<BuildEnvironment> tvm_build_environment(const Device& device) {
  BuildEnvironment env;
  env.backend_display_name = "TVM";
  env.backend_version = tvm_version();
  if (device.kind == DeviceKind::CPU) return env;
#if defined(AEGISRT_HAVE_CUDA)
  AEGIS_ASSIGN_OR_RETURN(const auto info, cuda::query_device(device.index));
  env.gpu_uuid = info.uuid;
  env.compute_capability = info.compute_capability();
  env.gpu_name = info.name;
  return env;
#else
  return Error(ErrorCode::Unsupported,
               "TVM on " + to_string(device) +
                   " needs the CUDA layer to identify the GPU (reconfigure with AEGISRT_WITH_CUDA=ON)");
#endif
}

std::string tvm_target_tag(const std::map<std::string, std::string>& build_options) {
  const std::string tuned = build_options.count("tuning") != 0 ? "-tuned" : "";
  const auto target = build_options.find("target");
  if (target == build_options.end() || target->second == "llvm") return "cpu" + tuned;
  const auto arch = build_options.find("arch");
  return target->second + (arch == build_options.end() || arch->second.empty() ? "" : "-" + arch->second) + tuned;
}

namespace {
constexpr const char* kTuningKey = "tuning";

std::string tuning_option(int seconds) { return "metaschedule:" + std::to_string(seconds) + "s"; }
}  // namespace

Result<std::optional<TvmTuningSummary>> tvm_tuning_summary(const ArtifactMetadata& md, std::string_view where) {
  if (md.build_options.count(kTuningKey) == 0) return std::optional<TvmTuningSummary>();
  const auto text = md.extra.find(kTuningKey);
  if (text == md.extra.end() || text->second.empty()) {
    return Error(ErrorCode::Corrupt, std::string(where) + ": a tuned library's sidecar has no tuning records (extra.tuning)");
  }
  const auto j = nlohmann::json::parse(text->second, nullptr, false);
  auto bad = [&](const std::string& why) {
    return Error(ErrorCode::Corrupt, std::string(where) + ": unusable tuning records (extra.tuning): " + why);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  for (const char* field : {"workloads", "records"}) {
    if (!j.contains(field) || !j[field].is_array()) return bad(std::string("no '") + field + "' array");
    for (const auto& line : j[field]) {
      if (!line.is_string()) return bad(std::string("'") + field + "' holds a non-string entry");
    }
  }
  if (j["records"].empty()) return bad("no record");
  // Every record names a workload of the list (MetaSchedule's JSON database line:
  // [workload_index, [trace, run_secs, target, args_info]]).
  for (const auto& line : j["records"]) {
    const auto rec = nlohmann::json::parse(line.get<std::string>(), nullptr, false);
    if (rec.is_discarded() || !rec.is_array() || rec.size() != 2 || !rec[0].is_number_integer() ||
        rec[0].get<long long>() < 0 || rec[0].get<long long>() >= static_cast<long long>(j["workloads"].size())) {
      return bad("a record does not name one of the " + std::to_string(j["workloads"].size()) + " workloads");
    }
  }
  TvmTuningSummary s;
  auto number = [&](const char* field, auto& out) -> bool {
    if (!j.contains(field) || !j[field].is_number() || j[field].template get<double>() < 0) return false;
    out = j[field].template get<std::remove_reference_t<decltype(out)>>();
    return true;
  };
  if (!number("budget_seconds", s.budget_seconds) || !number("search_seconds", s.search_seconds) ||
      !number("trials", s.trials) || !number("tasks", s.tasks)) {
    return bad("budget_seconds, search_seconds, trials and tasks must be non-negative numbers");
  }
  if (j.contains("seed_records") && !number("seed_records", s.seed_records)) {
    return bad("seed_records must be a non-negative number");
  }
  s.records = static_cast<int>(j["records"].size());
  if (md.build_options.at(kTuningKey) != tuning_option(s.budget_seconds)) {
    return bad("budget " + std::to_string(s.budget_seconds) + " s does not match the key's '" +
               md.build_options.at(kTuningKey) + "'");
  }
  return std::optional<TvmTuningSummary>(s);
}

Result<ArtifactKey> tvm_artifact_key(const TvmBuildOptions& options, const BuildEnvironment& env) {
  ArtifactKey key;
  key.backend = "tvm";
  key.precision = std::string(to_string(options.precision));
  key.extension = ".so";
  key.source_model = options.model;
  // Every file the model reads is part of its identity (ONNX external data).
  AEGIS_ASSIGN_OR_RETURN(key.extra_sources, onnx::onnx_external_data_files(options.model));
  AEGIS_ASSIGN_OR_RETURN(const std::string model_sha, sha256_file(options.model));
  AEGIS_ASSIGN_OR_RETURN(key.source_sha256, combined_source_hash(options.model, model_sha, key.extra_sources));
  // No variant given: the file stem plus a short content hash, so two
  // different "model.onnx" never share a cache file.
  key.variant = options.variant.empty() ? options.model.stem().string() + "-" + key.source_sha256.substr(0, 12)
                                        : options.variant;
  const bool cuda = options.device.kind == DeviceKind::CUDA;
  std::string arch = options.arch;
  if (cuda && arch.empty()) {
    std::string cc = env.compute_capability;
    cc.erase(std::remove(cc.begin(), cc.end(), '.'), cc.end());
    arch = "sm_" + cc;
  }
  key.build_options["target"] = cuda ? "cuda" : "llvm";
  if (cuda) key.build_options["arch"] = arch;
  if (!options.input_shapes.empty()) key.build_options["input_shapes"] = shapes_to_string(options.input_shapes);
  key.build_options["builder"] = kBuilderId;
  if (options.tune_seconds > 0) key.build_options[kTuningKey] = tuning_option(options.tune_seconds);
  // The target is in the file name: CPU and CUDA builds never overwrite each other.
  key.name_suffix = "_" + tvm_target_tag(key.build_options);
  return key;
}

std::optional<std::string> tvm_validate_entry(const ArtifactMetadata& md, const std::string& file_name) {
  if (md.backend != "tvm") return std::nullopt;
  const std::string tag = "_" + tvm_target_tag(md.build_options) + ".so";
  if (!file_name.ends_with(tag)) {
    return "file name '" + file_name + "' does not match the target it was built for ('" + tag.substr(1) + "')";
  }
  const auto io = md.extra.find("io");
  if (io == md.extra.end()) return std::string("sidecar has no I/O description (extra.io)");
  if (auto r = tvm_check_io_description(io->second, file_name + ".json"); !r.ok()) {
    return "unusable I/O description (extra.io): " + r.error().message();
  }
  if (auto t = tvm_tuning_summary(md, file_name + ".json"); !t.ok()) return t.error().message();
  return std::nullopt;
}

namespace {

/// One build: runs aegisrt_tvm_build.py (`python` `script`) to req.output_path
/// and returns the I/O description it wrote; its progress lines go to
/// req.progress. The script's temporaries are removed on every path.
Result<BuildOutput> run_tvm_build_script(const BuildRequest& req, const fs::path& python, const fs::path& script,
                                         const std::string& arch, bool cuda, const TvmBuildOptions& options,
                                         const std::string& seed_records) {
  // export_library picks the format from the extension: build to *.so, then rename.
  const fs::path out_so = req.output_path.string() + ".build.so";
  const fs::path io_json = req.output_path.string() + ".io.json";
  std::vector<std::string> argv = {python.string(), script.string(), "--model", req.key.source_model.string(),
                                   "--output", out_so.string(), "--target", cuda ? "cuda" : "llvm",
                                   "--precision", req.key.precision, "--io-json", io_json.string()};
  if (cuda) {
    argv.push_back("--arch");
    argv.push_back(arch);
  }
  for (const auto& [name, dims] : options.input_shapes) {
    argv.push_back("--input-shape");
    argv.push_back(name + ":" + dims);
  }
  const fs::path records_out = req.output_path.string() + ".records.json";
  const fs::path records_in = req.output_path.string() + ".seed.json";
  if (options.tune_seconds > 0) {
    argv.insert(argv.end(), {"--tune-seconds", std::to_string(options.tune_seconds), "--records-out",
                             records_out.string()});
    if (!seed_records.empty() && write_file_atomic(records_in, seed_records).ok()) {
      argv.insert(argv.end(), {"--records-in", records_in.string()});
    }
  }
  spdlog::info("tvm: building '{}' with {} {}", req.key.source_model.string(), python.string(), script.string());
  auto cleanup = [&] {
    std::error_code ignore;
    fs::remove(out_so, ignore);
    fs::remove(io_json, ignore);
    fs::remove(records_out, ignore);
    fs::remove(records_in, ignore);
  };
  auto run = tvm_detail::run_process(argv, [&req](std::string_view line) {
    constexpr std::string_view kTag = "AEGISRT_PROGRESS ";
    if (!line.starts_with(kTag)) return;
    line.remove_prefix(kTag.size());
    const auto space = line.find(' ');
    double fraction = -1.0;
    try {
      fraction = std::stod(std::string(line.substr(0, space)));
    } catch (...) {  // NOLINT(bugprone-empty-catch): malformed progress is ignored
    }
    req.progress(space == std::string_view::npos ? std::string_view("building") : line.substr(space + 1), fraction);
  });
  if (!run.ok()) {
    cleanup();
    return std::move(run).error().with_context("running the TVM build script (python: '" + python.string() +
                                               "'; set AEGISRT_PYTHON)");
  }
  if (run->signalled || run->exit_code != 0) {
    cleanup();
    const std::string why = build_failure_reason(run->stderr_tail);
    const std::string status = run->signalled ? "killed by signal " + std::to_string(run->signal)
                                              : "exit code " + std::to_string(run->exit_code);
    ErrorCode code = ErrorCode::BackendError;
    if (!run->signalled && run->exit_code == 2) code = ErrorCode::Corrupt;      // not a usable model
    if (!run->signalled && run->exit_code == 3) code = ErrorCode::Unsupported;  // missing TVM / precision
    return Error(code, "TVM build of '" + req.key.source_model.string() + "' failed (" + status + "): " + why);
  }
  std::error_code rename_ec;
  fs::rename(out_so, req.output_path, rename_ec);
  if (rename_ec) {
    cleanup();
    return Error(ErrorCode::IoError, "cannot move built library '" + out_so.string() + "' to '" +
                                         req.output_path.string() + "': " + rename_ec.message());
  }
  BuildOutput out;
  // A missing or unreadable description reads as empty: refused just below.
  auto io_text = read_file(io_json, "TVM build I/O description");
  out.extra["io"] = io_text.ok() ? std::move(*io_text) : std::string();
  if (options.tune_seconds > 0) {
    auto records = read_file(records_out, "TVM tuning records");
    out.extra[kTuningKey] = records.ok() ? std::move(*records) : std::string();
  }
  cleanup();
  if (out.extra["io"].empty()) {
    return Error(ErrorCode::BackendError, "TVM build script wrote no I/O description for '" +
                                              req.key.source_model.string() + "'");
  }
  if (options.tune_seconds > 0 && out.extra[kTuningKey].empty()) {
    return Error(ErrorCode::BackendError, "TVM build script wrote no tuning records for '" +
                                              req.key.source_model.string() + "'");
  }
  return out;
}

}  // namespace

Result<CacheResult> build_tvm_library(const TvmBuildOptions& options, const ProgressFn& progress) {
  std::error_code ec;
  if (options.model.empty()) return Error(ErrorCode::InvalidArgument, "no ONNX model given to build");
  if (!fs::is_regular_file(options.model, ec)) {
    return Error(ErrorCode::NotFound, "ONNX model '" + options.model.string() + "' does not exist");
  }
  if (options.precision == Precision::INT8) {
    return Error(ErrorCode::Unsupported, "TVM builds support fp32 (CPU, CUDA) and fp16 (CUDA); int8 is not supported");
  }
  if (options.tune_seconds < 0) {
    return Error(ErrorCode::InvalidArgument,
                 "TVM tuning budget " + std::to_string(options.tune_seconds) + " s is negative");
  }
  if (options.precision == Precision::FP16 && options.device.kind == DeviceKind::CPU) {
    return Error(ErrorCode::Unsupported, "TVM fp16 is only built for CUDA; use fp32 on the CPU (llvm) target");
  }
  AEGIS_ASSIGN_OR_RETURN(const BuildEnvironment env, tvm_build_environment(options.device));
  AEGIS_ASSIGN_OR_RETURN(const fs::path script, find_tvm_build_script());
  const fs::path python = options.python.empty() ? find_tvm_python() : options.python;

  AEGIS_ASSIGN_OR_RETURN(ArtifactKey key, tvm_artifact_key(options, env));
  const bool cuda = options.device.kind == DeviceKind::CUDA;
  const std::string arch = cuda ? key.build_options.at("arch") : std::string();

  const fs::path dir = options.cache_dir.empty() ? default_cache_dir("tvm") : options.cache_dir;
  CacheOptions cache_options;
  cache_options.validate = tvm_validate_entry;
  ArtifactCache cache(dir, cache_options);

  // The tuned library of this model/target, if one is cached and valid
  // (its budget is read from its sidecar: any budget will do).
  if (options.tune_seconds == 0 && options.prefer_tuned) {
    ArtifactKey tuned = key;
    tuned.build_options[kTuningKey] = tuning_option(1);
    tuned.name_suffix = "_" + tvm_target_tag(tuned.build_options);
    if (auto md = ArtifactMetadata::read(cache.sidecar_path(tuned));
        md.ok() && md->build_options.count(kTuningKey) != 0) {
      tuned.build_options[kTuningKey] = md->build_options.at(kTuningKey);
      if (auto hit = cache.lookup(tuned, env); hit.ok() && hit->status == LookupStatus::Hit && hit->metadata) {
        spdlog::info("tvm: using the tuned library '{}' ({})", hit->artifact_path.string(),
                     tuned.build_options[kTuningKey]);
        CacheResult r;
        r.artifact_path = hit->artifact_path;
        r.metadata = *hit->metadata;
        r.outcome = CacheOutcome::Hit;
        return r;
      } else if (hit.ok() && hit->status != LookupStatus::Hit) {
        spdlog::info("tvm: tuned library not used: {}", hit->reason);
      }
    }
  }

  // A re-tune (another budget, a changed model or TVM) starts from the records
  // of the entry it replaces, read through lookup() (its trust checks: never
  // another user's sidecar); the build script drops records it cannot use.
  // Read in the builder, which runs only on a miss, so a hit is looked up once.
  BuilderFn builder = [&cache, &key, &env, python, script, arch, cuda, &options](const BuildRequest& req) -> Result<BuildOutput> {
    std::string seed_records;
    if (options.tune_seconds > 0) {
      if (auto prev = cache.lookup(key, env); prev.ok() && prev->status == LookupStatus::Stale && prev->metadata &&
                                              prev->metadata->extra.count(kTuningKey) != 0) {
        seed_records = prev->metadata->extra.at(kTuningKey);
      }
    }
    return run_tvm_build_script(req, python, script, arch, cuda, options, seed_records);
  };
  return cache.get_or_build(key, env, builder, progress);
}

}  // namespace aegisrt
