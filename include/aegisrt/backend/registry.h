// BackendRegistry: name -> factory, filled explicitly (no static
// self-registration). BackendFactory::create() is the one way production code
// makes a backend.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt {

using BackendFactoryFn = std::function<std::unique_ptr<RuntimeBackend>()>;

struct BackendInfo {
  std::string name;
  std::string description;  // e.g. "ONNX Runtime 1.31.1 (CPU, CUDA EP if present)"
  std::string version;      // runtime library version, empty if unknown
};

class BackendRegistry {
 public:
  /// InvalidArgument if the name is empty or already registered.
  Result<void> add(BackendInfo info, BackendFactoryFn factory);
  [[nodiscard]] bool contains(std::string_view name) const;
  /// NotFound for an unknown name; Unsupported (naming the CMake option) for a
  /// known backend that was not compiled into this build.
  [[nodiscard]] Result<std::unique_ptr<RuntimeBackend>> create(std::string_view name) const;
  [[nodiscard]] std::vector<BackendInfo> list() const;

 private:
  struct Entry {
    BackendInfo info;
    BackendFactoryFn factory;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

/// Registers every backend compiled into this build. Defined in the generated
/// builtin_backends.cpp (cmake/AegisBackends.cmake), which calls
/// `void register_<folder>_backend(BackendRegistry&)` (namespace aegisrt) of
/// each compiled-in src/backends/<folder>; that function lives in the folder.
void register_builtin_backends(BackendRegistry& registry);

/// Backends AegisRT knows about (AEGISRT_BACKENDS, in that order), compiled in
/// or not, with their CMake option. Generated with register_builtin_backends().
struct KnownBackend {
  std::string_view name;
  std::string_view cmake_option;
  bool compiled_in;
};
std::vector<KnownBackend> known_backends();

class BackendFactory {
 public:
  /// Uses a registry filled by register_builtin_backends() on first use.
  static Result<std::unique_ptr<RuntimeBackend>> create(std::string_view name);
  static const BackendRegistry& builtin();
};

}  // namespace aegisrt
