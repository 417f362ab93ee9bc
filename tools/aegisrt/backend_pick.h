// Picking a backend when the user names none: the first of the model's
// manifest `backends` list that this build serves and this machine can run
// (a CUDA device for the GPU names, the execution provider the ONNX Runtime
// library must carry, the OpenVINO device). Used by run/bench, validate and models.
#pragma once

#include <string>

#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/models/manifest.h"

namespace aegisrt::cli {

/// Why `binding` cannot run on this machine; empty = it can.
std::string why_not_runnable(const models::BackendBinding& binding);

/// models::pick_backend over the manifest's list with why_not_runnable().
Result<models::BackendPick> pick_backend_for(const models::ModelManifest& manifest);

/// "openvino (the first of cuda, rocm, openvino that can run here; passed over: cuda: ..., rocm: ...)".
std::string describe_pick(const models::ModelManifest& manifest, const models::BackendPick& pick);

}  // namespace aegisrt::cli
