// LoadedModel: the model state of a model, as Triton backends split it. One
// loaded RuntimeBackend (ONNX Runtime session, OpenVINO compiled model, TVM
// module, TensorRT engine) shared by any number of ExecutionContexts, each of
// which is an execution instance: its own budget, in-flight count, fault
// boundary, metrics, and the CUDA stream its caller passes in
// ExecutionRequest::stream. N concurrent streams therefore hold one copy of
// the weights, not N.
//
//   auto model = LoadedModel::load(ModelId("yolo"), BackendFactory::create("onnxruntime"), opts);
//   auto a = ExecutionContext::create_instance(*model, budget);  // Ready at once
//   auto b = ExecutionContext::create_instance(*model, budget);
//
// Concurrency: instances call RuntimeBackend::execute() on the shared backend
// from their own threads. Backends whose capabilities().thread_safe_execute is
// true (ONNX Runtime, OpenVINO's request pool, the mock) run those calls in
// parallel; the others are serialised by RuntimeBackend's mutex, so sharing
// is still correct, only not parallel (shared_execution_is_parallel()).
//
// Lifetime: the backend is unloaded when the last holder (this object's
// shared_ptr, held by every instance) lets go. A shared model is never
// reloaded behind the instances' backs: if a fault leaves it unloaded, every
// instance's reset() refuses with FailedPrecondition and the owner loads a new
// LoadedModel. Thread safety: all const methods may be called concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"

namespace aegisrt {

class LoadedModel {
 public:
  /// Loads `backend` with `options` once. Errors: InvalidArgument for an empty
  /// model id or a null backend; the backend's load error (with the model named).
  static Result<std::shared_ptr<LoadedModel>> load(ModelId model, std::unique_ptr<RuntimeBackend> backend,
                                                   const LoadOptions& options);

  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;
  LoadedModel(LoadedModel&&) = delete;
  LoadedModel& operator=(LoadedModel&&) = delete;
  /// Unloads the backend (the last instance holding it has gone).
  ~LoadedModel();

  [[nodiscard]] const ModelId& model() const noexcept { return model_; }
  [[nodiscard]] const LoadOptions& options() const noexcept { return options_; }
  [[nodiscard]] RuntimeBackend& backend() const noexcept { return *backend_; }
  /// True when instances' execute() calls on this model can overlap (the
  /// backend is thread-safe); false when the backend serialises them.
  [[nodiscard]] bool shared_execution_is_parallel() const noexcept { return parallel_; }

 private:
  LoadedModel(ModelId model, std::unique_ptr<RuntimeBackend> backend, LoadOptions options, bool parallel);

  const ModelId model_;
  const std::unique_ptr<RuntimeBackend> backend_;
  const LoadOptions options_;
  const bool parallel_;
};

}  // namespace aegisrt
