// CudaPreprocessor when AegisRT is built without the CUDA toolkit: every
// entry point reports Unsupported.
#include "aegisrt/vision/preprocess_cuda.h"

namespace aegisrt::vision {

struct CudaPreprocessor::Impl {};

namespace {
Error unsupported() {
  return Error(ErrorCode::Unsupported,
               "CUDA pre-processing is not available: AegisRT was built without the CUDA toolkit");
}
}  // namespace

bool cuda_preprocess_compiled() noexcept { return false; }

Result<CudaPreprocessor> CudaPreprocessor::create(int /*device*/) { return unsupported(); }
CudaPreprocessor::CudaPreprocessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CudaPreprocessor::CudaPreprocessor(CudaPreprocessor&&) noexcept = default;
CudaPreprocessor& CudaPreprocessor::operator=(CudaPreprocessor&&) noexcept = default;
CudaPreprocessor::~CudaPreprocessor() = default;
int CudaPreprocessor::device() const noexcept { return -1; }
cuda::CudaStream* CudaPreprocessor::stream() const noexcept { return nullptr; }
bool CudaPreprocessor::last_run_was_identity() const noexcept { return false; }
Result<PreprocessResult> CudaPreprocessor::run(const Image&, const PreprocessConfig&) {
  return unsupported();
}
Result<LetterboxTransform> CudaPreprocessor::run_into(const TensorView&, const PreprocessConfig&,
                                                      Tensor&, std::int64_t, bool) {
  return unsupported();
}
Result<void> CudaPreprocessor::synchronize() { return unsupported(); }

}  // namespace aegisrt::vision
