#include "backend_pick.h"

#include <algorithm>

#if AEGISRT_CLI_HAVE_CUDA
#include "aegisrt/cuda/device_info.h"
#endif
#if AEGISRT_CLI_HAVE_ONNXRUNTIME
#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"
#endif
#if AEGISRT_CLI_HAVE_OPENVINO
#include "aegisrt/backends/openvino/openvino_backend.h"
#endif

namespace aegisrt::cli {

std::string why_not_runnable(const models::BackendBinding& binding) {
  if (binding.device.kind == DeviceKind::CUDA) {
#if AEGISRT_CLI_HAVE_CUDA
    auto n = cuda::device_count();
    if (!n.ok()) return "no CUDA device (" + n.error().message() + ")";
    if (*n == 0) return "no CUDA device on this machine";
#else
    return "this build has no CUDA layer (AEGISRT_WITH_CUDA=OFF)";
#endif
  }
  const auto provider = binding.backend_options.find("provider");
  if (binding.registry_name == "onnx" && provider != binding.backend_options.end() && provider->second != "cpu") {
#if AEGISRT_CLI_HAVE_ONNXRUNTIME
    const auto providers = onnxruntime_available_providers();
    if (std::find(providers.begin(), providers.end(), provider->second) == providers.end()) {
      return "ONNX Runtime " + onnxruntime_version() + " has no " + provider->second + " execution provider";
    }
#endif
  }
  if (binding.registry_name == "openvino") {
#if AEGISRT_CLI_HAVE_OPENVINO
    auto devices = openvino_devices();
    if (!devices.ok()) return devices.error().message();
    const bool cpu = std::any_of(devices->begin(), devices->end(),
                                 [](const std::string& d) { return d.rfind("CPU", 0) == 0; });
    if (!cpu) return "OpenVINO sees no CPU device here";
#endif
  }
  return {};
}

Result<models::BackendPick> pick_backend_for(const models::ModelManifest& manifest) {
  return models::pick_backend(manifest.backends, why_not_runnable).or_else([&](Error e) -> Result<models::BackendPick> {
    return e.with_context(manifest.name + ": choosing a backend (pass --backend to name one)");
  });
}

std::string describe_pick(const models::ModelManifest& manifest, const models::BackendPick& pick) {
  std::string list;
  for (const auto& b : manifest.backends) list += (list.empty() ? "" : ", ") + b;
  std::string out = pick.backend + " (the first of " + list + " that can run here";
  if (!pick.skipped.empty()) {
    out += "; passed over: ";
    for (std::size_t i = 0; i < pick.skipped.size(); ++i) out += (i ? "; " : "") + pick.skipped[i];
  }
  return out + ")";
}

}  // namespace aegisrt::cli
