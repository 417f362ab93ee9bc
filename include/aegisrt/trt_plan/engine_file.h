// Checks on an engine file made before TensorRT sees it, so a foreign,
// truncated or mismatched file is a typed error (Corrupt / Stale) rather than
// whatever the deserialiser does with it. Needs no TensorRT; always compiled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "aegisrt/trt_plan/build_plan.h"
#include "aegisrt/trt_plan/trt_version.h"
#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/core/result.h"

namespace aegisrt::trt {

/// Smaller than any serialised TensorRT engine (even an identity network's
/// plan carries kilobytes of metadata).
inline constexpr std::size_t kMinEngineBytes = 256;

enum class ArtifactFormat : std::uint8_t { Onnx, Elf, Zip, Json, Text, Unknown };
std::string_view to_string(ArtifactFormat f) noexcept;

/// Recognises formats that are certainly not engines. Unknown = possibly an
/// engine (TensorRT's plan layout is not public, so it is not checked here).
ArtifactFormat sniff_artifact(std::span<const std::byte> bytes);

/// Corrupt naming `what` when the bytes are shorter than kMinEngineBytes or a
/// recognised non-engine format (an ONNX model is reported as such, with the
/// hint to load it as a model instead).
Result<void> precheck_engine_bytes(std::span<const std::byte> bytes, std::string_view what);

/// Stale naming `what` when a sidecar says the engine was built by another
/// TensorRT version or for another GPU (UUID or compute capability) than
/// `runtime` / `gpu`; Corrupt when the sidecar is not a TensorRT one.
Result<void> check_engine_metadata(const ArtifactMetadata& metadata, const TrtVersion& runtime,
                                   const GpuIdentity& gpu, std::string_view what);

}  // namespace aegisrt::trt
