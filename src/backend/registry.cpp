// Explicit backend registration. Each compiled-in backend is added under its
// own #if; nothing registers itself from a static initialiser.
#include "aegisrt/backend/registry.h"

#if defined(AEGISRT_HAVE_ONNXRUNTIME)
#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"
#endif
#if defined(AEGISRT_HAVE_TVM)
#include "aegisrt/backends/tvm/tvm_backend.h"
#endif
#if defined(AEGISRT_HAVE_TENSORRT)
#include "aegisrt/backends/tensorrt/tensorrt_backend.h"
#endif

// ---- OpenVINO: the whole registration in one block (issue 13's one-folder shape).
#if defined(AEGISRT_HAVE_OPENVINO)
#include "aegisrt/backends/openvino/openvino_backend.h"
namespace aegisrt {
namespace {
constexpr bool kOpenVinoCompiledIn = true;
void register_openvino(BackendRegistry& registry) {
  (void)registry.add({"openvino", "Intel OpenVINO (CPU; Intel GPU/NPU with backend option device=...)",
                      openvino_version()},
                     [] { return make_openvino_backend(); });
}
}  // namespace
}  // namespace aegisrt
#else
namespace aegisrt {
namespace {
constexpr bool kOpenVinoCompiledIn = false;
void register_openvino(BackendRegistry&) {}
}  // namespace
}  // namespace aegisrt
#endif
// ---- end OpenVINO

namespace aegisrt {

Result<void> BackendRegistry::add(BackendInfo info, BackendFactoryFn factory) {
  if (info.name.empty()) return Error(ErrorCode::InvalidArgument, "backend name is empty");
  if (!factory) {
    return Error(ErrorCode::InvalidArgument, "backend '" + info.name + "' has no factory");
  }
  if (entries_.contains(info.name)) {
    return Error(ErrorCode::InvalidArgument, "backend '" + info.name + "' registered twice");
  }
  auto key = info.name;
  entries_.emplace(std::move(key), Entry{std::move(info), std::move(factory)});
  return {};
}

bool BackendRegistry::contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }

Result<std::unique_ptr<RuntimeBackend>> BackendRegistry::create(std::string_view name) const {
  if (auto it = entries_.find(name); it != entries_.end()) {
    auto backend = it->second.factory();
    if (!backend) {
      return Error(ErrorCode::Internal, "factory for backend '" + std::string(name) +
                                            "' returned nothing");
    }
    return backend;
  }
  for (const auto& known : known_backends()) {
    if (known.name == name && !known.compiled_in) {
      return Error(ErrorCode::Unsupported,
                   "backend '" + std::string(name) + "' was not compiled into this build; "
                   "reconfigure with -D" + std::string(known.cmake_option) +
                   "=ON and its dependency installed");
    }
  }
  std::string available;
  for (const auto& [n, e] : entries_) available += (available.empty() ? "" : ", ") + n;
  return Error(ErrorCode::NotFound, "unknown backend '" + std::string(name) +
                                        "'; available: " + (available.empty() ? "none" : available));
}

std::vector<BackendInfo> BackendRegistry::list() const {
  std::vector<BackendInfo> out;
  for (const auto& [n, e] : entries_) out.push_back(e.info);
  return out;
}

std::vector<KnownBackend> known_backends() {
  return {
      {"onnx", "AEGISRT_WITH_ONNXRUNTIME",
#if defined(AEGISRT_HAVE_ONNXRUNTIME)
       true
#else
       false
#endif
      },
      {"tvm", "AEGISRT_WITH_TVM",
#if defined(AEGISRT_HAVE_TVM)
       true
#else
       false
#endif
      },
      {"tensorrt", "AEGISRT_WITH_TENSORRT",
#if defined(AEGISRT_HAVE_TENSORRT)
       true
#else
       false
#endif
      },
      {"openvino", "AEGISRT_WITH_OPENVINO", kOpenVinoCompiledIn},
  };
}

void register_builtin_backends([[maybe_unused]] BackendRegistry& registry) {
#if defined(AEGISRT_HAVE_ONNXRUNTIME)
  (void)registry.add({"onnx", "ONNX Runtime (CPU; CUDA/TensorRT/OpenVINO providers when present)",
                      onnxruntime_version()},
                     [] { return make_onnxruntime_backend(); });
#endif
#if defined(AEGISRT_HAVE_TVM)
  (void)registry.add({"tvm", "Apache TVM Relax VM (llvm CPU, cuda)", tvm_version()},
                     [] { return make_tvm_backend(); });
#endif
#if defined(AEGISRT_HAVE_TENSORRT)
  (void)registry.add({"tensorrt", "NVIDIA TensorRT (native engines)", tensorrt_version()},
                     [] { return make_tensorrt_backend(); });
#endif
  register_openvino(registry);
}

const BackendRegistry& BackendFactory::builtin() {
  // Function-local, filled explicitly on first use: not a self-registering static.
  static const BackendRegistry registry = [] {
    BackendRegistry r;
    register_builtin_backends(r);
    return r;
  }();
  return registry;
}

Result<std::unique_ptr<RuntimeBackend>> BackendFactory::create(std::string_view name) {
  return builtin().create(name);
}

}  // namespace aegisrt
