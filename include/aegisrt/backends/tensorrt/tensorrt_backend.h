// The native TensorRT backend (compiled only with AEGISRT_HAVE_TENSORRT).
// load() takes a serialised engine (.engine/.plan) or an ONNX model, which is
// built into an engine through the artefact cache first (see engine_builder.h).
// No TensorRT type appears here: the implementation lives in src/backends/tensorrt.
#pragma once

#include <memory>
#include <string>

#include "aegisrt/backend/runtime_backend.h"

namespace aegisrt {

/// A fresh, unloaded TensorRT backend (name "tensorrt").
std::unique_ptr<RuntimeBackend> make_tensorrt_backend();

/// Version of the TensorRT library linked at run time ("10.16.0.72"); the
/// compile-time header version if the library cannot be queried.
std::string tensorrt_version();

}  // namespace aegisrt
