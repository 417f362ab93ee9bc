// BackendRegistry and BackendFactory. Which backends exist and which are
// compiled in comes from the generated builtin_backends.cpp
// (cmake/AegisBackends.cmake): known_backends() and register_builtin_backends()
// are defined there, each backend's registration in its own folder. Nothing
// registers itself from a static initialiser.
#include "aegisrt/backend/registry.h"

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
