// What an OpenVINO load is asked to do: LoadOptions (device, precision,
// backend_options) parsed and checked once, before OpenVINO is touched.
#pragma once

#include <map>
#include <string>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/core/result.h"

namespace aegisrt::ov_detail {

struct LoadConfig {
  std::string device = "CPU";           // OpenVINO device name
  Precision precision = Precision::FP32;
  std::string inference_precision;      // "f32" | "f16" | "bf16"; empty = the device's default (int8)
  int num_threads = 0;                  // 0 = OpenVINO's default
  std::string performance_hint = "latency";  // latency | throughput
  bool cache = true;
};

/// InvalidArgument naming the option for an unknown key or a bad value;
/// Unsupported for a CUDA LoadOptions::device.
Result<LoadConfig> parse_load_config(const LoadOptions& options);

}  // namespace aegisrt::ov_detail
