// TVMBackend: runs Apache TVM Relax VM libraries (the graph executor no longer
// exists) through tvm-ffi: Module::LoadFromFile -> vm_load_executable ->
// vm_initialization(device) -> "main". No TVM type appears here.
//
// load(): LoadOptions::artifact_path is either
//   * an .onnx model: compiled with python/aegisrt_tvm_build.py (Relax ONNX
//     frontend; target llvm on CPU, cuda on CUDA) through the ArtifactCache into
//     {cache_dir}/{variant}_{precision}_{target}.so (default cache_dir
//     $XDG_CACHE_HOME/aegisrt/tvm or ~/.cache/aegisrt/tvm; variant = the given
//     one, else file stem + "-" + short content hash; target = cpu or
//     cuda-sm_XY), rebuilt when the model (or its external data), TVM
//     version, target or GPU changed; or
//   * a built library (.so) with its sidecar ({lib}.json, written by the cache
//     or by aegisrt_tvm_build.py --io-json) holding the input/output specs.
//     The library and sidecar must be owned by us (or root) and not writable
//     by group/others, and a cache sidecar's checksum must match, before the
//     library is dlopen()ed; a library without a sidecar is never opened.
// Precision: fp32 everywhere; fp16 only on CUDA (mixed precision, float32 I/O);
// int8 is Unsupported.
//
// LoadOptions::backend_options keys (others are InvalidArgument naming the key):
//   arch          cuda: GPU architecture for the build, e.g. "sm_90" (default:
//                 the GPU's compute capability)
//   input_shape   "name:1x3x224x224[,name2:...]": pin dynamic input dims at build time
//   memory        "pooled" (default) | "naive": the VM's allocator
//   python        interpreter for the build step (default: $AEGISRT_PYTHON, then
//                 the interpreter recorded by scripts/deps/30-tvm.sh, then .venv)
//
// Thread safety: execute() is serialised (capabilities().thread_safe_execute is
// false): one Relax VM instance is not safe for concurrent invocation.
// Errors: every TVM exception is caught inside the backend and returned as
// BackendError (Corrupt for a library that does not load).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/cache/artifact_cache.h"

namespace aegisrt {

/// The backend, ready to load().
std::unique_ptr<RuntimeBackend> make_tvm_backend();

/// "0.27.0.post1 (tvm-ffi 0.1.15.post2)": the TVM this build was compiled against.
std::string tvm_version();

/// What to compile an ONNX model into a TVM library with.
struct TvmBuildOptions {
  std::filesystem::path model;            // .onnx
  std::filesystem::path cache_dir;        // empty = default_cache_dir("tvm")
  std::string variant;                    // empty = model file stem
  Precision precision = Precision::FP32;
  Device device = Device::cpu();          // CPU -> target llvm, CUDA -> target cuda
  std::string arch;                       // cuda only; empty = the device's ("sm_90")
  std::map<std::string, std::string> input_shapes;  // name -> "1x3x224x224"
  std::filesystem::path python;           // empty = find_tvm_python()
  /// > 0: a MetaSchedule search of about this many seconds before the build
  /// (python/aegisrt_tvm_build.py --tune-seconds; MetaSchedule's imports and
  /// the final build come on top). The library is cached as
  /// {variant}_{precision}_{target}-tuned.so, the budget is part of its key
  /// (build_options "tuning" = "metaschedule:<N>s": another budget re-tunes,
  /// seeded with the entry's records) and the best record of every tuned
  /// function is kept in its sidecar (extra "tuning", see tvm_tuning_summary).
  int tune_seconds = 0;
  /// With tune_seconds == 0: return the cached tuned library of the same
  /// model, precision and target when the cache holds a valid one (whatever
  /// its budget), else build/find the untuned one. What a load does by
  /// default (backend option tune=auto); `aegisrt build` without --tune does not.
  bool prefer_tuned = false;
};

/// The tuning summary kept with a tuned library (metadata extra "tuning"):
/// budget, search time, trials, tasks and records (the best per workload).
struct TvmTuningSummary {
  int budget_seconds = 0;
  double search_seconds = 0.0;
  int trials = 0;
  int tasks = 0;
  int records = 0;
  int seed_records = 0;  // records the search started from (a re-tune)
};
/// Parses extra "tuning" of `metadata`; nullopt for an untuned library,
/// Corrupt naming `where` for an unusable one.
Result<std::optional<TvmTuningSummary>> tvm_tuning_summary(const ArtifactMetadata& metadata, std::string_view where);

/// The environment a TVM artefact is checked against: TVM version and, for
/// CUDA, the GPU's UUID and compute capability (Unsupported/CudaError when the
/// device cannot be queried).
Result<BuildEnvironment> tvm_build_environment(const Device& device);

/// The cache key for `options`: variant = options.variant, or the model's
/// stem + "-" + 12 hex digits of its content hash; name suffix = the target
/// ("_cpu", "_cuda-sm_90"), so the file is
/// {cache_dir}/{variant}_{precision}_{target}.so; the source hash covers the
/// .onnx and every external data file it names.
Result<ArtifactKey> tvm_artifact_key(const TvmBuildOptions& options, const BuildEnvironment& env);

/// "cpu" for llvm, "cuda-sm_90" for cuda with an arch; "-tuned" appended
/// when build_options has "tuning".
std::string tvm_target_tag(const std::map<std::string, std::string>& build_options);

/// The TVM EntryValidator (lookup and `cache verify` alike): the file name
/// carries the sidecar's target, extra.io is a usable I/O description and a
/// tuned entry's extra.tuning is a usable tuning summary.
std::optional<std::string> tvm_validate_entry(const ArtifactMetadata& metadata, const std::string& file_name);

/// Parses an I/O description (the builder's --io-json text); Corrupt naming
/// `where` when it is unusable.
Result<void> tvm_check_io_description(std::string_view text, std::string_view where);

/// Builds (or finds in the cache) the library for `options`. Build progress is
/// reported through `progress`.
Result<CacheResult> build_tvm_library(const TvmBuildOptions& options, const ProgressFn& progress = {});

/// The Python interpreter used for builds: $AEGISRT_PYTHON, the one recorded
/// in third_party/tvm/PYTHON at configure time, the source tree's .venv, then
/// "python3" from PATH.
std::filesystem::path find_tvm_python();

/// python/aegisrt_tvm_build.py: $AEGISRT_TVM_BUILD_SCRIPT, the source tree's
/// copy, then the installed one (share/aegisrt/python).
Result<std::filesystem::path> find_tvm_build_script();

}  // namespace aegisrt
