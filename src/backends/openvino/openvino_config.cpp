#include "backends/openvino/openvino_config.h"

#include <limits>

#include "aegisrt/backend/backend_options.h"

namespace aegisrt::ov_detail {
namespace {

constexpr const char* kKnownKeys =
    "device, inference_precision, num_threads, intra_op_threads, performance_hint, cache";

// The shared reader (aegisrt/backend/backend_options.h): one message shape.
const BackendOptionReader& reader() {
  static const BackendOptionReader r("openvino", kKnownKeys);
  return r;
}

Error bad_value(const std::string& key, const std::string& value, const std::string& allowed) {
  return reader().bad_value(key, value, allowed);
}

}  // namespace

Result<LoadConfig> parse_load_config(const LoadOptions& options) {
  LoadConfig c;
  c.precision = options.precision;
  if (options.device.kind == DeviceKind::CUDA) {
    return Error(ErrorCode::Unsupported,
                 "OpenVINO does not run on CUDA devices (asked for " + to_string(options.device) +
                     "); use device cpu, or the backend option device=GPU for an Intel GPU");
  }
  switch (options.precision) {
    case Precision::FP32: c.inference_precision = "f32"; break;
    case Precision::FP16: c.inference_precision = "f16"; break;
    case Precision::INT8: c.inference_precision.clear(); break;  // the model's Q/DQ ops decide
  }
  for (const auto& [key, value] : options.backend_options) {
    if (key == "device") {
      if (value.empty()) return bad_value(key, value, "an OpenVINO device name (CPU, GPU, NPU, AUTO, GPU.1, ...)");
      c.device = value;
    } else if (key == "inference_precision") {
      if (value != "f32" && value != "f16" && value != "bf16") return bad_value(key, value, "f32, f16, bf16");
      if (options.precision == Precision::INT8) {
        return Error(ErrorCode::InvalidArgument,
                     "backend option 'inference_precision' cannot be combined with precision int8 (the "
                     "model's quantized operations set the precision)");
      }
      c.inference_precision = value;
    } else if (key == "num_threads" || key == "intra_op_threads") {
      AEGIS_ASSIGN_OR_RETURN(c.num_threads,
                             reader().integer(key, value, 0, std::numeric_limits<int>::max(), "an integer >= 0"));
    } else if (key == "performance_hint") {
      if (value != "latency" && value != "throughput") return bad_value(key, value, "latency, throughput");
      c.performance_hint = value;
    } else if (key == "cache") {
      if (value != "on" && value != "off") return bad_value(key, value, "on, off");
      c.cache = value == "on";
    } else {
      return reader().unknown(key);
    }
  }
  return c;
}

}  // namespace aegisrt::ov_detail
