// build_tensorrt_engine() for builds without TensorRT: callers need no #if and
// get an Unsupported error that says how to enable the backend.
#include "aegisrt/trt_plan/engine_builder.h"

namespace aegisrt::trt {

bool tensorrt_compiled_in() noexcept { return false; }

Result<EngineBuildResult> build_tensorrt_engine(const EngineBuildOptions& options,
                                                const ProgressFn& /*progress*/) {
  return Error(ErrorCode::Unsupported,
               "cannot build a TensorRT engine from " + options.onnx_model.string() +
                   ": this AegisRT was built without TensorRT; install TensorRT (>= 8.6) and "
                   "reconfigure with -DAEGISRT_WITH_TENSORRT=ON -DTensorRT_ROOT=<dir>");
}

}  // namespace aegisrt::trt
