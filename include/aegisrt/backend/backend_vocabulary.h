// The one backend vocabulary used by manifests and `aegisrt validate`
// (tensorrt, onnx, cuda, rocm, openvino, tvm, cpu) and how each name maps onto
// an AegisRT registry backend in this build. Mirrored in docs/MANIFEST.md.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/core/runtime_types.h"  // Device
#include "aegisrt/core/result.h"

namespace aegisrt::models {

enum class BackendAvailability : std::uint8_t {
  Available,       // compiled into this build and usable
  NeedsProvider,   // compiled in, but the runtime library must carry the provider
                   // (e.g. ONNX Runtime built with the CUDA or OpenVINO EP); checked at load
  NotInThisBuild,  // nothing in this build can serve it
};
std::string_view to_string(BackendAvailability a) noexcept;

struct BackendVocabularyEntry {
  std::string_view name;            // manifest / CLI name
  std::string_view implementation;  // what runs it, for people
  std::string_view registry_name;   // BackendFactory name; empty = built-in C++ (no inference backend)
  std::string_view provider;        // LoadOptions::backend_options["provider"]; empty = none
  DeviceKind device;                // where it runs
};

/// The table, in documentation order.
std::span<const BackendVocabularyEntry> backend_vocabulary() noexcept;
/// Null for a name outside the vocabulary.
const BackendVocabularyEntry* find_backend_entry(std::string_view name) noexcept;
std::vector<std::string> backend_vocabulary_names();

struct BackendStatus {
  BackendAvailability availability = BackendAvailability::NotInThisBuild;
  std::string detail;  // why, e.g. "reconfigure with -DAEGISRT_WITH_TENSORRT=ON"
};
/// What this build (aegisrt/build_config.h) can do with a vocabulary name.
/// NotInThisBuild with a "not part of the vocabulary" detail for unknown names.
BackendStatus backend_status(std::string_view name);

/// What to ask BackendFactory for, and with which LoadOptions fields.
struct BackendBinding {
  std::string vocabulary_name;
  std::string registry_name;                           // "onnx", "tvm", "tensorrt"; empty = built-in
  std::map<std::string, std::string> backend_options;  // e.g. {"provider", "cuda"}
  Device device = Device::cpu();
  BackendAvailability availability = BackendAvailability::Available;
};

/// cuda -> ("onnx", provider=cuda) when ONNX Runtime is compiled in, else
/// ("tvm", device cuda) when TVM and CUDA are. NotFound (with a suggestion) for
/// a name outside the vocabulary; Unsupported naming the missing CMake option or
/// runtime when nothing in this build serves the name.
Result<BackendBinding> bind_backend(std::string_view vocabulary_name);

/// Why a bound backend cannot run on this machine although the build has it
/// ("no CUDA device", "ONNX Runtime has no CUDA provider"); empty = it can.
/// Supplied by the caller, which may probe devices (the CLI does).
using RunnableProbe = std::function<std::string(const BackendBinding&)>;

struct BackendPick {
  std::string backend;               // the vocabulary name chosen
  std::vector<std::string> skipped;  // "name: why", for the candidates before it
};

/// The first of `candidates` (a manifest's `backends` list, in order) that this
/// build serves with an inference backend (`cpu`, built-in code, is passed
/// over) and that `probe` accepts; without a probe, the first `available` one.
/// Unsupported, listing why each candidate was passed over, when none can run.
Result<BackendPick> pick_backend(const std::vector<std::string>& candidates, const RunnableProbe& probe = {});

}  // namespace aegisrt::models
