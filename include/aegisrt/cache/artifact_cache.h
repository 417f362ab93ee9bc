// ArtifactCache: on-disk cache of compiled model artefacts (TensorRT engines,
// TVM libraries) with sidecar metadata, validation, atomic publish and a
// cross-process build lock. Backend-agnostic: the backend supplies the key, its
// environment (version, GPU) and a builder callback.
//
// Layout (the seed rule; a backend may add a name suffix, e.g. TVM's target):
//   {dir}/{variant}_{precision}{suffix}{extension}          the artefact ("yolo_fp16.engine")
//   {dir}/{variant}_{precision}{suffix}{extension}.json     sidecar metadata (JSON)
//   {dir}/{variant}_{precision}{suffix}{extension}.lock     flock(2) target while building
//   {dir}/.{variant}_{precision}{suffix}{extension}.tmp-*   in-flight builds (never read)
//
// Trust (issue 12): a cache folder must be owned by the current user (or root)
// and not writable by group/others; so must every artefact, sidecar and lock
// in it. Anything else is refused (InvalidArgument naming the path and its
// owner) before a byte of it is read. Folders are created 0700.
//
// Validity: an artefact is used only when its sidecar parses, names the same
// variant/precision/backend, records the same source-model SHA-256, build
// options, backend version and (for GPU artefacts) GPU UUID and compute
// capability as the caller's key/environment, and the artefact's size and
// SHA-256 equal those in the sidecar. Anything else is Stale (with a reason)
// and gets rebuilt. Publishing renames the artefact first and the sidecar last;
// since the sidecar carries the artefact's checksum, a half-published pair (new
// artefact + old sidecar, or the reverse) never validates.
//
// Thread/process safety: all methods may be called concurrently from several
// threads and processes on the same directory.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"

namespace aegisrt {

/// Default cache folder for a backend.
///  * "tensorrt": the seed's /tmp/trt_engines when it is missing or ours
///    (owned by us, not writable by group/others); when it is a shared
///    sticky folder owned by root or us, /tmp/trt_engines/<uid>; otherwise
///    (another user's folder) /tmp/trt_engines-<uid>.
///  * anything else ("tvm", "openvino", ...): the per-user
///    $XDG_CACHE_HOME/aegisrt/<backend> (XDG_CACHE_HOME unset or relative:
///    $HOME/.cache; no HOME: the passwd entry's home).
/// Pure path computation (plus a stat of /tmp/trt_engines); nothing is created.
std::filesystem::path default_cache_dir(std::string_view backend);

/// The TensorRT rule above for any seed folder: `seed` when missing or ours,
/// seed/<uid> when it is a sticky folder of root's or ours, else seed-<uid>.
std::filesystem::path shared_tmp_cache_dir(const std::filesystem::path& seed);

/// The per-user cache root: $XDG_CACHE_HOME/aegisrt or ~/.cache/aegisrt.
std::filesystem::path user_cache_root();

/// Sidecars larger than this are refused unread (a sidecar is a few KiB).
inline constexpr std::uint64_t kMaxSidecarBytes = 1ull << 20;

/// Trust checks (see the header comment). `dir` must be an existing folder
/// owned by the effective user or root; `allow_sticky`: group/other write is
/// tolerated when the sticky bit is set (others cannot replace our files
/// there, e.g. /tmp); the cache folder itself is checked without it.
/// InvalidArgument naming the folder, its owner (uid and name) and mode.
Result<void> check_trusted_dir(const std::filesystem::path& dir, bool allow_sticky = false);
/// A file (symlinks followed) owned by the effective user or root and not
/// writable by group/others. `what` ("TVM library") prefixes the message.
Result<void> check_trusted_file(const std::filesystem::path& file, std::string_view what);
/// An artefact about to be loaded from anywhere (a cache or a path the user
/// gave): the file, its sidecar "{artifact}.json" when present, and its
/// folder (sticky shared folders allowed) pass the checks above.
Result<void> check_trusted_artifact(const std::filesystem::path& artifact, std::string_view what);
/// Creates `dir` (and missing parents) with mode 0700, then check_trusted_dir().
Result<void> ensure_private_dir(const std::filesystem::path& dir);

/// How long to wait for another process's build lock: $AEGISRT_LOCK_TIMEOUT
/// (seconds, > 0; fractions allowed) or 30 minutes. A malformed value is
/// logged and ignored.
Duration default_lock_timeout();

/// What makes a GPU artefact (TensorRT engine, TVM CUDA library) fit the
/// running GPU. Uuid (default): the very GPU it was built on. Model: any GPU
/// of the same model name and compute capability (a fleet of identical
/// cards sharing one prebuilt cache; TensorRT engines are specific to the GPU
/// model and TensorRT version, not to one card). Backend version, source
/// model, build options and integrity are checked either way.
enum class GpuMatch : std::uint8_t { Uuid, Model };

/// $AEGISRT_CACHE_GPU_MATCH: `uuid` (default) or `model`; any other value is
/// logged and ignored (uuid, the strict rule).
GpuMatch default_gpu_match();
/// "uuid" / "model".
std::string_view to_string(GpuMatch m) noexcept;

/// The SHA-256 that identifies a model made of several files: the main
/// model's own hash when `extra` is empty (so single-file keys are unchanged),
/// else SHA-256 over "model:<sha>\n" and "<file name>:<sha>\n" per extra
/// file in order. NotFound/IoError naming a missing or unreadable file.
Result<std::string> combined_source_hash(const std::filesystem::path& model, std::string_view model_sha,
                                         const std::vector<std::filesystem::path>& extra);

/// Default artefact extension: "tensorrt" -> ".engine", "tvm" -> ".so",
/// anything else -> ".bin".
std::string_view default_artifact_extension(std::string_view backend);

/// What an artefact is built from and how. Together with the cache directory
/// it names one cache entry; the remaining fields must match the sidecar.
struct ArtifactKey {
  std::string backend;    // "tensorrt", "tvm" (recorded, and must match on lookup)
  std::string variant;    // "yolov8n"; must be a plain file-name component
  std::string precision;  // "fp16"; must be a plain file-name component
  std::string extension;  // ".engine", ".so"; empty = default_artifact_extension(backend)
  /// The source model (ONNX). Hashed on every lookup unless source_sha256 is set.
  std::filesystem::path source_model;
  /// Files the model reads besides source_model (ONNX external data): hashed
  /// together with it (see combined_source_hash), so a changed weights file
  /// makes the entry stale.
  std::vector<std::filesystem::path> extra_sources;
  /// Precomputed combined SHA-256 of source_model + extra_sources (optional shortcut).
  std::string source_sha256;
  /// Appended to "{variant}_{precision}" in the file name ("_cpu",
  /// "_cuda-sm_90"); empty for the seed rule. A plain file-name part.
  std::string name_suffix;
  /// Everything else that changes the artefact: target ("llvm", "cuda"),
  /// shapes/profiles ("x:1x3x640x640"), workspace, ... Compared exactly.
  std::map<std::string, std::string> build_options;

  /// "{variant}_{precision}{name_suffix}{extension}".
  [[nodiscard]] std::string file_name() const;
};

/// The running side of the comparison, supplied by the caller (the backend)
/// so tests can simulate another version or GPU.
struct BuildEnvironment {
  std::string backend_display_name;  // "TensorRT", "TVM" (used in messages)
  std::string backend_version;       // full version, "10.16.0.72"
  /// For GPU artefacts: both non-empty. Empty = a CPU artefact (not compared).
  std::string gpu_uuid;              // "GPU-1a2b..."
  std::string compute_capability;    // "9.0"
  std::string gpu_name;              // informational only
};

/// The sidecar's content.
struct ArtifactMetadata {
  static constexpr int kFormatVersion = 1;
  int format_version = kFormatVersion;
  std::string backend;
  std::string backend_display_name;
  std::string backend_version;
  std::string variant;
  std::string precision;
  std::string source_model;   // path at build time (re-hashed by verify())
  std::vector<std::string> extra_sources;  // absolute paths of the other files hashed
  std::string source_sha256;  // combined_source_hash(source_model, extra_sources)
  std::map<std::string, std::string> build_options;
  std::string gpu_uuid;
  std::string compute_capability;
  std::string gpu_name;
  std::uint64_t artifact_size = 0;
  std::string artifact_sha256;
  /// The artefact's file name in its folder (ArtifactKey::file_name()); empty
  /// in sidecars written before it was recorded.
  std::string artifact_file;
  std::string created_utc;    // ISO 8601
  double build_seconds = 0.0;
  /// Facts the builder wants kept with the artefact (e.g. TVM's I/O specs as
  /// JSON text). Not compared on lookup.
  std::map<std::string, std::string> extra;

  /// JSON text of the sidecar (pretty-printed).
  [[nodiscard]] std::string to_json() const;
  /// Corrupt naming `what` (normally the sidecar path) for unparsable text or
  /// missing/mistyped fields.
  static Result<ArtifactMetadata> from_json(std::string_view text, std::string_view what);
  /// Reads (at most kMaxSidecarBytes, regular files only) and parses.
  static Result<ArtifactMetadata> read(const std::filesystem::path& sidecar);
  /// The artefact file name this sidecar describes: artifact_file, or for
  /// older sidecars "{variant}_{precision}" + `extension`.
  [[nodiscard]] std::string expected_file_name(std::string_view extension) const;
};

enum class LookupStatus : std::uint8_t { Hit, Miss, Stale };
std::string_view to_string(LookupStatus s) noexcept;

struct LookupResult {
  LookupStatus status = LookupStatus::Miss;
  /// Why not a hit: "no cached artefact at ...", "built for TensorRT 10.16,
  /// running 11.1", "source model changed ...", "GPU mismatch: ...",
  /// "artefact corrupt: size mismatch ...", "artefact corrupt: checksum
  /// mismatch ...". Empty on Hit.
  std::string reason;
  std::filesystem::path artifact_path;
  std::optional<ArtifactMetadata> metadata;  // the sidecar, when it parsed
};

/// Stage reports from a builder: stage name and fraction done in [0, 1]
/// (negative = unknown). May be called from any thread.
using ProgressFn = std::function<void(std::string_view stage, double fraction)>;

/// What get_or_build() hands the builder.
struct BuildRequest {
  ArtifactKey key;
  /// Write the artefact here (a temporary file in the cache directory, or in
  /// a temporary directory when caching is off). The cache fsyncs and publishes it.
  std::filesystem::path output_path;
  /// Source model SHA-256 (already computed).
  std::string source_sha256;
  /// Never null; forwards to the caller's ProgressFn, if any.
  ProgressFn progress;
};

/// What a builder may return besides the file.
struct BuildOutput {
  std::map<std::string, std::string> extra;  // stored in ArtifactMetadata::extra
};

/// Builds the artefact into request.output_path. Must not throw (exceptions
/// are caught and returned as Internal anyway).
using BuilderFn = std::function<Result<BuildOutput>(const BuildRequest& request)>;

enum class CacheOutcome : std::uint8_t {
  Hit,            // valid entry found, nothing built
  Built,          // we built and published it
  BuiltByOther,   // another process/thread built it while we waited on the lock
  BuiltUncached,  // cache directory unusable: built into a temporary location
};
std::string_view to_string(CacheOutcome o) noexcept;

struct CacheResult {
  std::filesystem::path artifact_path;  // ready to load
  ArtifactMetadata metadata;
  CacheOutcome outcome = CacheOutcome::Hit;
  /// Why a build happened (the Miss/Stale reason); empty on Hit.
  std::string build_reason;
  /// False when the cache directory was unusable; `warning` then says why and
  /// artifact_path lies in a temporary directory owned by the caller.
  bool caching_enabled = true;
  std::string warning;
  Duration build_time{};  // our own build, 0 otherwise
  Duration wait_time{};   // time spent waiting for the lock
};

/// One artefact found in a cache directory (for list/verify/clean).
struct CacheEntry {
  std::filesystem::path artifact_path;
  std::filesystem::path sidecar_path;
  bool artifact_exists = false;
  bool sidecar_exists = false;
  std::uint64_t artifact_size = 0;
  std::optional<ArtifactMetadata> metadata;
  /// The sidecar parses as ours and names this artefact file: clean() may
  /// remove the pair. False for stray files that merely look like entries.
  bool ours = false;
  /// Set by verify(): empty = valid; otherwise why not.
  std::string problem;
  /// verify() could not compare this entry with a running environment (no
  /// environment supplied for its backend, or its source model is gone).
  std::vector<std::string> notes;
};

struct CleanReport {
  std::vector<std::filesystem::path> removed;
  std::vector<std::string> failures;  // "path: reason"
};

/// For verify()/clean(): the running environment for a backend, if known.
using EnvironmentLookup =
    std::function<std::optional<BuildEnvironment>(const ArtifactMetadata& metadata)>;

/// Backend-specific validity of a sidecar, applied by lookup() and verify()
/// alike (TVM: extra.io parses, the file name matches the target): nullopt =
/// fine, else why the entry is unusable (it is then Stale and rebuilt).
using EntryValidator = std::function<std::optional<std::string>(const ArtifactMetadata& metadata,
                                                                const std::string& file_name)>;

struct CacheOptions {
  /// How long get_or_build() waits for another builder's lock
  /// (default_lock_timeout(): $AEGISRT_LOCK_TIMEOUT or 30 minutes).
  Duration lock_timeout = default_lock_timeout();
  /// How often a waiter reports whom it waits for (log + progress).
  Duration lock_report_interval = std::chrono::seconds(5);
  /// See EntryValidator; empty = none.
  EntryValidator validate;
  /// Check the artefact's SHA-256 on every lookup (size is always checked).
  bool verify_checksum = true;
  /// Where to build when the cache directory is unusable; empty = the
  /// system temporary directory.
  std::filesystem::path fallback_temp_dir;
  /// How GPU artefacts are matched to the running GPU (see GpuMatch).
  GpuMatch gpu_match = default_gpu_match();
};

class ArtifactCache {
 public:
  explicit ArtifactCache(std::filesystem::path dir, CacheOptions options = {});

  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] const CacheOptions& options() const noexcept { return options_; }

  [[nodiscard]] std::filesystem::path artifact_path(const ArtifactKey& key) const;
  [[nodiscard]] std::filesystem::path sidecar_path(const ArtifactKey& key) const;
  [[nodiscard]] std::filesystem::path lock_path(const ArtifactKey& key) const;

  /// Hit / Miss / Stale(reason). Errors for a bad key (InvalidArgument:
  /// empty or path-like variant/precision), an unreadable source model
  /// (NotFound/IoError naming it) and an untrusted folder or entry
  /// (InvalidArgument naming it and its owner; nothing of it is read).
  [[nodiscard]] Result<LookupResult> lookup(const ArtifactKey& key,
                                            const BuildEnvironment& env) const;

  /// Returns a valid artefact, building it at most once across processes:
  /// lookup; on Miss/Stale take flock({artefact}.lock) (Timeout after
  /// options().lock_timeout), look up again (another builder may have
  /// finished), build into a temp file in the same directory, fsync, write the
  /// sidecar, rename both into place. The build reason is logged. An unusable
  /// directory degrades to an uncached build with a "caching is off" warning.
  /// Builder errors are returned unchanged (with context).
  [[nodiscard]] Result<CacheResult> get_or_build(const ArtifactKey& key,
                                                 const BuildEnvironment& env,
                                                 const BuilderFn& builder,
                                                 const ProgressFn& progress = {});

  /// Entries in dir(): every sidecar and every file with a known artefact
  /// extension (.engine, .so, .bin, .plan), sorted by name. `ours` tells
  /// which are provably cache entries (see clean()). A missing directory is
  /// an empty list.
  [[nodiscard]] Result<std::vector<CacheEntry>> list() const;

  /// list() plus validity, with the checks lookup() applies: trust (owner,
  /// mode), sidecar present and parsable, the file name it describes, the
  /// options' validator, artefact size and SHA-256, source model hash (model +
  /// extra sources, if the files still exist) and, when `env` yields an
  /// environment for the entry, backend version and GPU.
  [[nodiscard]] Result<std::vector<CacheEntry>> verify(const EnvironmentLookup& env = {}) const;

  /// Removes invalid entries (per verify) and leftover temporary files of
  /// crashed builds; `all` removes every entry. Only files provably ours are
  /// ever removed: an artefact/sidecar pair whose sidecar parses as our schema
  /// and names that artefact file (or such a sidecar alone), and our
  /// temporaries (".<name>.tmp-<pid>-<tid>-<n>[.build.so|.io.json]"). Anything
  /// else (an artefact without sidecar, package.json, notes.txt) is left
  /// alone, with or without `all`. An untrusted folder is refused.
  /// `dry_run` only reports.
  [[nodiscard]] Result<CleanReport> clean(const EnvironmentLookup& env = {}, bool all = false,
                                          bool dry_run = false) const;

 private:
  std::filesystem::path dir_;
  CacheOptions options_;
};

}  // namespace aegisrt
