// LoadedModel: one loaded backend shared by several ExecutionContexts.
#include "aegisrt/context/loaded_model.h"

#include <utility>

namespace aegisrt {

Result<std::shared_ptr<LoadedModel>> LoadedModel::load(ModelId model, std::unique_ptr<RuntimeBackend> backend,
                                                       const LoadOptions& options) {
  const std::string where = "loading shared model '" + model.str() + "'";
  if (model.empty()) return Error(ErrorCode::InvalidArgument, "model id is empty", where);
  if (!backend) return Error(ErrorCode::InvalidArgument, "backend is null", where);
  if (auto r = backend->load(options); !r.ok()) return std::move(r).error().with_context(where);
  const bool parallel = backend->capabilities().thread_safe_execute;
  return std::shared_ptr<LoadedModel>(new LoadedModel(std::move(model), std::move(backend), options, parallel));
}

LoadedModel::LoadedModel(ModelId model, std::unique_ptr<RuntimeBackend> backend, LoadOptions options,
                         bool parallel)
    : model_(std::move(model)), backend_(std::move(backend)), options_(std::move(options)), parallel_(parallel) {}

LoadedModel::~LoadedModel() { backend_->unload(); }

}  // namespace aegisrt
