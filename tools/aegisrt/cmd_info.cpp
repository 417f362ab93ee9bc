// aegisrt info: what this build can run and where.
#include <nlohmann/json.hpp>

#include <iostream>

#include "aegisrt/backend/registry.h"
#include "aegisrt/build_config.h"
#include "aegisrt/pipeline/gpu_decode.h"
#include "cli_common.h"
#if AEGISRT_CLI_HAVE_CUDA
#include "aegisrt/cuda/device_info.h"
#endif
#if AEGISRT_CLI_HAVE_OPENVINO
#include "aegisrt/backends/openvino/openvino_backend.h"
#endif

namespace aegisrt::cli {

namespace {

/// What `aegisrt info --json` prints: version, backends (compiled in, version,
/// OpenVINO's devices), CUDA and nvJPEG GPU JPEG decoding (compiled in) and
/// the devices found.
nlohmann::json info_json() {
  nlohmann::json out;
  out["version"] = build::kVersion;
  for (const auto& k : known_backends()) {
    nlohmann::json b;
    b["name"] = k.name;
    b["compiled_in"] = k.compiled_in;
    b["cmake_option"] = k.cmake_option;
    for (const auto& info : BackendFactory::builtin().list()) {
      if (info.name == k.name) {
        b["version"] = info.version;
        b["description"] = info.description;
      }
    }
#if AEGISRT_CLI_HAVE_OPENVINO
    if (k.name == "openvino") {  // the devices OpenVINO's plugins see here
      auto ov_devices = openvino_devices();
      if (ov_devices.ok()) {
        b["devices"] = *ov_devices;
      } else {
        b["devices_error"] = ov_devices.error().message();
      }
    }
#endif
    out["backends"].push_back(b);
  }
  out["cuda"]["compiled_in"] = build::kHaveCuda;
  out["cuda"]["toolkit"] = build::kCudaVersion;
  out["nvjpeg"]["compiled_in"] = pipeline::gpu_jpeg_decode_compiled();  // the library's own answer
  out["nvjpeg"]["cmake_option"] = "AEGISRT_WITH_NVJPEG";
  out["devices"] = nlohmann::json::array();
  out["devices"].push_back({{"name", "cpu"}, {"kind", "cpu"}});
#if AEGISRT_CLI_HAVE_CUDA
  auto devices = cuda::list_devices();
  if (devices.ok()) {
    for (const auto& d : *devices) {
      out["devices"].push_back({{"name", d.name},
                                {"kind", "cuda"},
                                {"index", d.index},
                                {"uuid", d.uuid},
                                {"compute_capability", d.compute_capability()},
                                {"sm_count", d.sm_count},
                                {"total_memory_bytes", d.total_memory},
                                {"free_memory_bytes", d.free_memory}});
    }
  } else {
    out["cuda"]["note"] = devices.error().message();
  }
#endif
  return out;
}

/// The text form of info_json().
void print_info(nlohmann::json& out) {  // non-const: operator[] as before
  std::cout << "aegisrt " << build::kVersion << "\n\nbackends:\n";
  for (const auto& b : out["backends"]) {
    std::cout << "  " << b["name"].get<std::string>() << ": "
              << (b["compiled_in"].get<bool>()
                      ? "compiled in" + (b.contains("version") ? ", version " + b["version"].get<std::string>() : std::string())
                      : "not compiled in (" + b["cmake_option"].get<std::string>() + ")")
              << "\n";
    if (b.contains("devices")) {
      for (const auto& d : b["devices"]) std::cout << "    device " << d.get<std::string>() << "\n";
    }
    if (b.contains("devices_error")) std::cout << "    devices: " << b["devices_error"].get<std::string>() << "\n";
  }
  std::cout << "\nfeatures:\n  nvjpeg (GPU JPEG decode): "
            << (out["nvjpeg"]["compiled_in"].get<bool>()
                    ? std::string("compiled in")
                    : "not compiled in (" + out["nvjpeg"]["cmake_option"].get<std::string>() + ")")
            << "\n";
  std::cout << "\ndevices:\n";
  for (const auto& d : out["devices"]) {
    std::cout << "  " << d["name"].get<std::string>();
    if (d["kind"] == "cuda") {
      std::cout << " (cuda:" << d["index"].get<int>() << ", sm_" << d["compute_capability"].get<std::string>()
                << ", " << d["sm_count"].get<int>() << " SMs, "
                << d["total_memory_bytes"].get<std::size_t>() / (1024 * 1024) << " MiB)";
    }
    std::cout << "\n";
  }
  if (out["cuda"].contains("note")) std::cout << "  (no CUDA device: " << out["cuda"]["note"].get<std::string>() << ")\n";
}

}  // namespace

void add_info_command(CLI::App& app, CliContext& ctx) {
  auto* cmd = app.add_subcommand("info", "Show compiled-in backends with versions and devices found");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Machine-readable output");
  cmd->callback([&ctx, json] {
    nlohmann::json out = info_json();
    if (*json) {
      std::cout << out.dump(2) << "\n";
      return;
    }
    print_info(out);
    (void)ctx;
  });
}

}  // namespace aegisrt::cli
