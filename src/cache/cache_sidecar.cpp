// Artefact cache sidecars: ArtifactMetadata as JSON ({artefact}.json), and
// the checks of an entry against its sidecar shared by lookup() and verify()
// (file name, validator, backend version and GPU, size and checksum).
#include <cstdint>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"
#include "cache_internal.h"

namespace aegisrt {

namespace fs = std::filesystem;

std::string ArtifactMetadata::to_json() const {
  nlohmann::ordered_json j;
  j["format_version"] = format_version;
  j["backend"] = backend;
  j["backend_display_name"] = backend_display_name;
  j["backend_version"] = backend_version;
  j["variant"] = variant;
  j["precision"] = precision;
  j["source_model"] = source_model;
  if (!extra_sources.empty()) j["extra_sources"] = extra_sources;
  j["source_sha256"] = source_sha256;
  j["build_options"] = build_options;
  j["gpu"] = {{"uuid", gpu_uuid}, {"compute_capability", compute_capability}, {"name", gpu_name}};
  j["artifact"] = {{"size", artifact_size}, {"sha256", artifact_sha256}};
  if (!artifact_file.empty()) j["artifact"]["file"] = artifact_file;
  j["created_utc"] = created_utc;
  j["build_seconds"] = build_seconds;
  j["extra"] = extra;
  return j.dump(2) + "\n";
}

namespace {
// nlohmann's get<int>() / get<std::uint64_t>() convert a floating-point JSON
// number with a C++ cast (undefined behaviour out of range: a sidecar with
// "format_version": 1e128 was found by fuzz/sidecar_fuzzer); read integers
// only from integer JSON numbers, range-checked.
std::int64_t integer_field(const nlohmann::json& v, const char* name) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw std::out_of_range(std::string("'") + name + "' is out of range");
    }
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  throw std::invalid_argument(std::string("'") + name + "' is not an integer");
}
}  // namespace

Result<ArtifactMetadata> ArtifactMetadata::from_json(std::string_view text, std::string_view what) {
  const std::string where(what);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(ErrorCode::Corrupt, "sidecar '" + where + "' is not a JSON object");
  }
  ArtifactMetadata m;
  try {
    const std::int64_t version = integer_field(j.at("format_version"), "format_version");
    if (version != kFormatVersion) {
      return Error(ErrorCode::Corrupt, "sidecar '" + where + "' has format_version " +
                                           std::to_string(version) + ", expected " +
                                           std::to_string(kFormatVersion));
    }
    m.format_version = static_cast<int>(version);
    m.backend = j.at("backend").get<std::string>();
    m.backend_display_name = j.value("backend_display_name", m.backend);
    m.backend_version = j.at("backend_version").get<std::string>();
    m.variant = j.at("variant").get<std::string>();
    m.precision = j.at("precision").get<std::string>();
    m.source_model = j.value("source_model", std::string());
    if (j.contains("extra_sources")) m.extra_sources = j.at("extra_sources").get<std::vector<std::string>>();
    m.source_sha256 = j.at("source_sha256").get<std::string>();
    m.build_options = j.at("build_options").get<std::map<std::string, std::string>>();
    const auto& gpu = j.at("gpu");
    m.gpu_uuid = gpu.at("uuid").get<std::string>();
    m.compute_capability = gpu.at("compute_capability").get<std::string>();
    m.gpu_name = gpu.value("name", std::string());
    const auto& art = j.at("artifact");
    const std::int64_t size = integer_field(art.at("size"), "artifact.size");
    if (size < 0) throw std::out_of_range("'artifact.size' is negative");
    m.artifact_size = static_cast<std::uint64_t>(size);
    m.artifact_sha256 = art.at("sha256").get<std::string>();
    m.artifact_file = art.value("file", std::string());
    m.created_utc = j.value("created_utc", std::string());
    if (j.contains("build_seconds")) {
      const auto& b = j.at("build_seconds");
      if (!b.is_number()) throw std::invalid_argument("'build_seconds' is not a number");
      m.build_seconds = b.get<double>();
    }
    if (j.contains("extra")) m.extra = j.at("extra").get<std::map<std::string, std::string>>();
  } catch (const std::exception& e) {
    return Error(ErrorCode::Corrupt,
                 "sidecar '" + where + "' has a missing or mistyped field: " + e.what());
  }
  return m;
}

Result<ArtifactMetadata> ArtifactMetadata::read(const std::filesystem::path& sidecar) {
  AEGIS_ASSIGN_OR_RETURN(const std::string text, read_file(sidecar, "sidecar", kMaxSidecarBytes));
  return from_json(text, sidecar.string());
}

std::string ArtifactMetadata::expected_file_name(std::string_view extension) const {
  if (!artifact_file.empty()) return artifact_file;
  return variant + "_" + precision + std::string(extension);
}

namespace cache_detail {

std::string short_hash(const std::string& h) { return h.size() > 12 ? h.substr(0, 12) : h; }

std::string describe_gpu(const std::string& uuid, const std::string& cc) {
  if (uuid.empty() && cc.empty()) return "no GPU (CPU artefact)";
  return uuid + " (compute capability " + cc + ")";
}

// Environment-dependent checks: backend version and GPU.
std::optional<std::string> compare_environment(const ArtifactMetadata& md, const BuildEnvironment& env,
                                               GpuMatch match) {
  if (md.backend_version != env.backend_version) {
    const std::string name = env.backend_display_name.empty()
                                 ? (md.backend_display_name.empty() ? md.backend : md.backend_display_name)
                                 : env.backend_display_name;
    return "built for " + name + " " + md.backend_version + ", running " + env.backend_version;
  }
  const bool gpu_artifact = !md.gpu_uuid.empty() || !md.compute_capability.empty();
  const bool gpu_env = !env.gpu_uuid.empty() || !env.compute_capability.empty();
  if ((gpu_artifact || gpu_env) && match == GpuMatch::Model) {
    // Same model name and compute capability; an artefact (or a GPU) without
    // a recorded name cannot be shown to be the same model.
    if (md.gpu_name.empty() || md.gpu_name != env.gpu_name || md.compute_capability != env.compute_capability) {
      const auto model = [](const std::string& name, const std::string& cc) {
        if (name.empty() && cc.empty()) return std::string("no GPU (CPU artefact)");
        return (name.empty() ? std::string("an unnamed GPU") : "'" + name + "'") + " (compute capability " + cc + ")";
      };
      return "GPU model mismatch (AEGISRT_CACHE_GPU_MATCH=model): built for " +
             model(md.gpu_name, md.compute_capability) + ", running on " + model(env.gpu_name, env.compute_capability);
    }
    return std::nullopt;
  }
  if (gpu_artifact || gpu_env) {
    if (md.gpu_uuid != env.gpu_uuid || md.compute_capability != env.compute_capability) {
      return "GPU mismatch: built for " + describe_gpu(md.gpu_uuid, md.compute_capability) +
             ", running on " + describe_gpu(env.gpu_uuid, env.compute_capability);
    }
  }
  return std::nullopt;
}

// Size and checksum of the artefact against the sidecar.
std::optional<std::string> check_integrity(const fs::path& artifact, const ArtifactMetadata& md,
                                           bool checksum) {
  std::error_code ec;
  const auto size = fs::file_size(artifact, ec);
  if (ec) return "artefact unreadable: " + ec.message();
  if (size != md.artifact_size) {
    return "artefact corrupt: size mismatch (sidecar says " + std::to_string(md.artifact_size) +
           " bytes, file has " + std::to_string(size) + ")";
  }
  if (checksum) {
    auto h = sha256_file(artifact);
    if (!h.ok()) return "artefact unreadable: " + h.error().message();
    if (*h != md.artifact_sha256) {
      return "artefact corrupt: checksum mismatch (sidecar sha256 " + short_hash(md.artifact_sha256) +
             "..., file " + short_hash(*h) + "...)";
    }
  }
  return std::nullopt;
}

std::string describe_option_change(const std::map<std::string, std::string>& was,
                                   const std::map<std::string, std::string>& now) {
  std::string out;
  auto add = [&out](const std::string& s) { out += (out.empty() ? "" : ", ") + s; };
  for (const auto& [k, v] : now) {
    auto it = was.find(k);
    if (it == was.end()) add(k + " added ('" + v + "')");
    else if (it->second != v) add(k + " '" + it->second + "' -> '" + v + "'");
  }
  for (const auto& [k, v] : was)
    if (!now.contains(k)) add(k + " removed (was '" + v + "')");
  return out;
}

// Checks shared by lookup() and verify(): the file name the sidecar
// describes, the backend validator, the environment and the artefact's
// integrity. nullopt = usable.
std::optional<std::string> check_entry(const fs::path& artifact, const ArtifactMetadata& md,
                                       const std::optional<BuildEnvironment>& env, const CacheOptions& options,
                                       bool checksum) {
  const std::string fname = artifact.filename().string();
  const std::string described = md.expected_file_name(fs::path(fname).extension().string());
  if (described != fname) {
    return "sidecar describes '" + described + "', not '" + fname + "' (renamed or copied entry)";
  }
  if (options.validate) {
    if (auto why = options.validate(md, fname)) return *why;
  }
  if (env) {
    if (auto why = compare_environment(md, *env, options.gpu_match)) return *why;
  }
  return check_integrity(artifact, md, checksum);
}

}  // namespace cache_detail
}  // namespace aegisrt
