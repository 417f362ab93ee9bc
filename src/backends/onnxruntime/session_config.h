// LoadOptions -> ORT session configuration: parses and checks
// LoadOptions::backend_options, and appends the chosen execution provider to
// Ort::SessionOptions. Private to src/backends/onnxruntime.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt::ort {

enum class Provider { Cpu, Cuda, TensorRT, OpenVINO };
std::string_view to_string(Provider p) noexcept;

struct SessionConfig {
  Provider provider = Provider::Cpu;
  int device_id = 0;
  int intra_op_threads = -1;  // -1: not set (ORT default)
  int inter_op_threads = -1;
  // Unset: ORT's own default (all optimisations), exactly as a raw ORT user gets it.
  std::optional<GraphOptimizationLevel> optimization;
  std::string optimization_name = "default";
  std::filesystem::path optimized_model_path;  // empty: no optimised-model cache
  std::string calibration_table;
  std::string openvino_device_type = "CPU";
  std::vector<std::pair<std::string, std::string>> trt_options;   // key as ORT names it
  std::vector<std::pair<std::string, std::string>> cuda_options;  // key without "cuda_"
  // Backend option tf32=1: let the CUDA provider use TF32 tensor cores for
  // float32 convolutions and GEMMs (10-bit mantissa products). Off by default,
  // so that a float32 selection computes in float32 (ORT's own default is on).
  bool tf32 = false;
  // Backend option cuda_graph=1 (provider cuda only): the CUDA provider's
  // enable_cuda_graph, and execute() runs through fixed-address IoBinding
  // slots so the captured graph is replayed (onnxruntime_backend.cpp).
  bool cuda_graph = false;

  [[nodiscard]] bool uses_cuda() const noexcept {
    return provider == Provider::Cuda || provider == Provider::TensorRT;
  }
};

/// InvalidArgument naming the key (and the accepted values) for an unknown
/// key or a bad value; nothing here touches ORT.
Result<SessionConfig> parse_session_config(const LoadOptions& options);

/// The CUDA execution provider's options (ORT's key names, in the order they
/// are applied; a later key wins): device_id, use_tf32 ("0" unless tf32=1),
/// enable_cuda_graph ("1", only with cuda_graph=1), then the cuda_<option>
/// backend options. Pure: nothing here touches ORT.
std::vector<std::pair<std::string, std::string>> cuda_provider_options(const SessionConfig& config);

/// Session options for `config`: threads, optimisation level and the
/// execution provider. Unsupported (naming the provider and what to install)
/// when the installed ORT lacks it or the provider fails to initialise.
Result<Ort::SessionOptions> make_session_options(const SessionConfig& config,
                                                 const LoadOptions& options);

/// True if the loaded ORT library offers `provider`.
bool provider_available(Provider provider);

}  // namespace aegisrt::ort
