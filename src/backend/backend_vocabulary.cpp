// The backend vocabulary table and what this build can serve of it.
#include "aegisrt/backend/backend_vocabulary.h"

#include <algorithm>
#include <array>

#include "aegisrt/build_config.h"
#include "aegisrt/models/catalog.h"

namespace aegisrt::models {
namespace {

// Keep in step with docs/MANIFEST.md "Backend vocabulary".
constexpr std::array<BackendVocabularyEntry, 7> kVocabulary = {{
    {"tensorrt", "TensorRTBackend: native TensorRT engines built from ONNX and cached", "tensorrt", "",
     DeviceKind::CUDA},
    {"onnx", "OnnxRuntimeBackend with the CPU execution provider", "onnx", "", DeviceKind::CPU},
    {"cuda",
     "a CUDA-capable backend: OnnxRuntimeBackend with the CUDA execution provider, or TVMBackend with the "
     "cuda target when ONNX Runtime is not compiled in",
     "onnx", "cuda", DeviceKind::CUDA},
    {"rocm", "AMD ROCm: no implementation in AegisRT (kept so manifests using the default list parse)", "", "rocm",
     DeviceKind::CUDA},
    {"openvino", "OpenVinoBackend: Intel OpenVINO, CPU device by default (--device / backend option device=GPU, NPU)",
     "openvino", "", DeviceKind::CPU},
    {"tvm", "TVMBackend: Relax VM, llvm target on CPU (cuda target when run on a GPU device)", "tvm", "",
     DeviceKind::CPU},
    {"cpu", "built-in C++ code, no inference backend (e.g. ByteTrack's Kalman filter and matching)", "", "",
     DeviceKind::CPU},
}};

}  // namespace

std::string_view to_string(BackendAvailability a) noexcept {
  switch (a) {
    case BackendAvailability::Available: return "available";
    case BackendAvailability::NeedsProvider: return "needs_provider";
    case BackendAvailability::NotInThisBuild: return "not_in_this_build";
  }
  return "unknown";
}

std::span<const BackendVocabularyEntry> backend_vocabulary() noexcept { return kVocabulary; }

const BackendVocabularyEntry* find_backend_entry(std::string_view name) noexcept {
  for (const auto& e : kVocabulary) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

std::vector<std::string> backend_vocabulary_names() {
  std::vector<std::string> out;
  for (const auto& e : kVocabulary) out.emplace_back(e.name);
  return out;
}

BackendStatus backend_status(std::string_view name) {
  using build::kHaveCuda;
  using build::kHaveOnnxRuntime;
  using build::kHaveTensorRT;
  using build::kHaveTvm;
  if (name == "tensorrt") {
    if (kHaveTensorRT) return {BackendAvailability::Available, std::string("TensorRT ") + build::kTensorRTVersion};
    return {BackendAvailability::NotInThisBuild,
            "TensorRT was not compiled in; reconfigure with -DAEGISRT_WITH_TENSORRT=ON and TensorRT installed"};
  }
  if (name == "onnx") {
    if (kHaveOnnxRuntime) {
      return {BackendAvailability::Available, std::string("ONNX Runtime ") + build::kOnnxRuntimeVersion + " (CPU EP)"};
    }
    return {BackendAvailability::NotInThisBuild,
            "ONNX Runtime was not compiled in; reconfigure with -DAEGISRT_WITH_ONNXRUNTIME=ON"};
  }
  if (name == "cuda") {
    if (kHaveOnnxRuntime) {
      return {BackendAvailability::NeedsProvider,
              "via ONNX Runtime's CUDA execution provider: needs a CUDA-enabled ONNX Runtime and a GPU at run time"};
    }
    if (kHaveTvm && kHaveCuda) {
      return {BackendAvailability::Available, "via TVM's cuda target (needs a GPU at run time)"};
    }
    return {BackendAvailability::NotInThisBuild,
            "no CUDA-capable backend compiled in; reconfigure with -DAEGISRT_WITH_ONNXRUNTIME=ON "
            "(CUDA-enabled ONNX Runtime) or -DAEGISRT_WITH_TVM=ON -DAEGISRT_WITH_CUDA=ON"};
  }
  if (name == "rocm") {
    return {BackendAvailability::NotInThisBuild,
            "needs a ROCm (AMD GPU) backend, which AegisRT does not have; on a CPU use openvino or onnx"};
  }
  if (name == "openvino") {
    if (build::kHaveOpenVINO) {
      return {BackendAvailability::Available, std::string("OpenVINO ") + build::kOpenVINOVersion +
                                                  " (CPU device; --device for GPU/NPU)"};
    }
    return {BackendAvailability::NotInThisBuild,
            "needs OpenVINO: run scripts/deps/35-openvino.sh and reconfigure with -DAEGISRT_WITH_OPENVINO=ON"};
  }
  if (name == "tvm") {
    if (kHaveTvm) return {BackendAvailability::Available, std::string("TVM ") + build::kTvmVersion};
    return {BackendAvailability::NotInThisBuild, "TVM was not compiled in; reconfigure with -DAEGISRT_WITH_TVM=ON"};
  }
  if (name == "cpu") return {BackendAvailability::Available, "built-in C++ (always available)"};
  return {BackendAvailability::NotInThisBuild, "'" + std::string(name) + "' is not part of the backend vocabulary"};
}

Result<BackendBinding> bind_backend(std::string_view vocabulary_name) {
  const BackendVocabularyEntry* entry = find_backend_entry(vocabulary_name);
  if (entry == nullptr) {
    const auto names = backend_vocabulary_names();
    std::string msg = "unknown backend '" + std::string(vocabulary_name) + "'; the vocabulary is: ";
    for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", " : "") + names[i];
    if (auto near = nearest_name(vocabulary_name, names); !near.empty()) msg += " (did you mean '" + near + "'?)";
    return Error(ErrorCode::NotFound, std::move(msg));
  }
  const BackendStatus status = backend_status(vocabulary_name);
  if (status.availability == BackendAvailability::NotInThisBuild) {
    return Error(ErrorCode::Unsupported,
                 "backend '" + std::string(vocabulary_name) + "' is not available in this build: " + status.detail);
  }
  BackendBinding b;
  b.vocabulary_name = std::string(vocabulary_name);
  b.availability = status.availability;
  b.device = entry->device == DeviceKind::CUDA ? Device::cuda(0) : Device::cpu();
  if (vocabulary_name == "cuda" && !build::kHaveOnnxRuntime) {
    b.registry_name = "tvm";  // TVM + CUDA, see backend_status()
    return b;
  }
  b.registry_name = std::string(entry->registry_name);
  if (!entry->provider.empty()) b.backend_options.emplace("provider", std::string(entry->provider));
  return b;
}

Result<BackendPick> pick_backend(const std::vector<std::string>& candidates, const RunnableProbe& probe) {
  BackendPick pick;
  for (const auto& name : candidates) {
    auto binding = bind_backend(name);
    if (!binding.ok()) {
      pick.skipped.push_back(name + ": " + binding.error().message());
      continue;
    }
    if (binding->registry_name.empty()) {
      pick.skipped.push_back(name + ": built-in C++ code, not an inference backend");
      continue;
    }
    if (probe) {
      if (std::string why = probe(*binding); !why.empty()) {
        pick.skipped.push_back(name + ": " + why);
        continue;
      }
    } else if (binding->availability != BackendAvailability::Available) {
      pick.skipped.push_back(name + ": " + backend_status(name).detail);
      continue;
    }
    pick.backend = name;
    return pick;
  }
  std::string msg = "no backend of [";
  for (std::size_t i = 0; i < candidates.size(); ++i) msg += (i ? ", " : "") + candidates[i];
  msg += "] can run here";
  for (const auto& s : pick.skipped) msg += "; " + s;
  return Error(ErrorCode::Unsupported, std::move(msg));
}

}  // namespace aegisrt::models
