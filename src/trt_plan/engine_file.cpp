// Engine file pre-checks (size, foreign formats, sidecar versus runtime).
#include "aegisrt/trt_plan/engine_file.h"

#include <algorithm>

#include "aegisrt/onnx/onnx_summary.h"

namespace aegisrt::trt {

std::string_view to_string(ArtifactFormat f) noexcept {
  switch (f) {
    case ArtifactFormat::Onnx: return "an ONNX model";
    case ArtifactFormat::Elf: return "an ELF binary (shared library or executable)";
    case ArtifactFormat::Zip: return "a ZIP archive";
    case ArtifactFormat::Json: return "a JSON document";
    case ArtifactFormat::Text: return "a text file";
    case ArtifactFormat::Unknown: return "unknown";
  }
  return "unknown";
}

ArtifactFormat sniff_artifact(std::span<const std::byte> bytes) {
  auto starts = [&](std::string_view magic) {
    return bytes.size() >= magic.size() &&
           std::equal(magic.begin(), magic.end(), bytes.begin(),
                      [](char c, std::byte b) { return static_cast<std::byte>(c) == b; });
  };
  if (starts("\x7f" "ELF")) return ArtifactFormat::Elf;
  if (starts("PK\x03\x04")) return ArtifactFormat::Zip;
  std::size_t i = 0;
  while (i < bytes.size() && (bytes[i] == std::byte{' '} || bytes[i] == std::byte{'\n'} ||
                              bytes[i] == std::byte{'\r'} || bytes[i] == std::byte{'\t'})) {
    ++i;
  }
  if (i < bytes.size() && bytes[i] == std::byte{'{'}) return ArtifactFormat::Json;
  if (onnx::looks_like_onnx(bytes)) return ArtifactFormat::Onnx;
  // Printable ASCII throughout the first KiB: text, not a binary plan.
  const std::size_t n = std::min<std::size_t>(bytes.size(), 1024);
  bool text = n > 0;
  for (std::size_t k = 0; k < n && text; ++k) {
    const auto c = static_cast<unsigned char>(bytes[k]);
    text = (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t';
  }
  if (text) return ArtifactFormat::Text;
  return ArtifactFormat::Unknown;
}

Result<void> precheck_engine_bytes(std::span<const std::byte> bytes, std::string_view what) {
  const auto fmt = sniff_artifact(bytes);
  if (fmt == ArtifactFormat::Onnx) {
    return Error(ErrorCode::Corrupt, std::string(what) +
                                         " is an ONNX model, not a TensorRT engine; pass it as the "
                                         "model (artifact .onnx) so an engine is built from it");
  }
  if (fmt != ArtifactFormat::Unknown) {
    return Error(ErrorCode::Corrupt,
                 std::string(what) + " is " + std::string(to_string(fmt)) + ", not a TensorRT engine");
  }
  if (bytes.size() < kMinEngineBytes) {
    return Error(ErrorCode::Corrupt, std::string(what) + " has " + std::to_string(bytes.size()) +
                                         " bytes, too few for a TensorRT engine (truncated?)");
  }
  return {};
}

Result<void> check_engine_metadata(const ArtifactMetadata& md, const TrtVersion& runtime,
                                   const GpuIdentity& gpu, std::string_view what) {
  if (md.backend != "tensorrt") {
    return Error(ErrorCode::Corrupt, std::string(what) + " has a sidecar for backend '" + md.backend +
                                         "', not tensorrt");
  }
  auto built = parse_trt_version(md.backend_version);
  if (!built.ok()) {
    return Error(ErrorCode::Corrupt, std::string(what) + ": sidecar records TensorRT version '" +
                                         md.backend_version + "', which does not parse");
  }
  if (!engine_version_compatible(built.value(), runtime)) {
    return Error(ErrorCode::Stale, std::string(what) + " was built by TensorRT " +
                                       built.value().to_string() + ", this is TensorRT " +
                                       runtime.to_string() + "; rebuild the engine");
  }
  if (gpu.known()) {
    if (!md.compute_capability.empty() && md.compute_capability != gpu.compute_capability()) {
      return Error(ErrorCode::Stale, std::string(what) + " was built for compute capability " +
                                         md.compute_capability + " (" + md.gpu_name + "), this GPU is " +
                                         gpu.compute_capability() + " (" + gpu.name +
                                         "); rebuild the engine on this device");
    }
    if (!md.gpu_uuid.empty() && !gpu.uuid.empty() && md.gpu_uuid != gpu.uuid) {
      return Error(ErrorCode::Stale, std::string(what) + " was built on GPU " + md.gpu_uuid +
                                         ", this is GPU " + gpu.uuid +
                                         "; engines are tuned per device, rebuild it here");
    }
  }
  return {};
}

}  // namespace aegisrt::trt
