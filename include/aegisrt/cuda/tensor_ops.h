// Device tensors: allocation and copies between host and device, including
// strided (non-contiguous) device views (gathered on the device by a kernel).
//
// Every function here is synchronous with respect to the host: with a
// stream, the work is queued after what the stream already holds and the
// stream is synchronised before returning, so the returned tensor is ready.
// Views are validated first (InvalidArgument naming the tensor); a view that
// claims to be on a device but whose pointer is not device memory of that
// device is InvalidArgument too. Views of rank > 8 after merging contiguous
// dimensions are Unsupported for device gathers.
#pragma once

#include <string>

#include "aegisrt/core/tensor.h"

namespace aegisrt::cuda {

class CudaStream;

/// Zero-initialised device tensor; the Tensor's deleter frees it.
Result<Tensor> allocate_device_tensor(Shape shape, DType dtype, int device, std::string name = {});
/// Copies any valid view (host or device, any strides) to a contiguous tensor on `device`.
Result<Tensor> copy_to_device(const TensorView& view, int device, std::string name = {},
                              CudaStream* stream = nullptr);
/// Copies any valid view (host or device) to a contiguous host tensor.
Result<Tensor> copy_to_host(const TensorView& view, std::string name = {}, CudaStream* stream = nullptr);
/// Contiguous copy of a device view on the same device (used by RuntimeBackend::execute).
/// A host view gives a contiguous host copy.
Result<Tensor> make_contiguous(const TensorView& view, std::string name = {},
                               CudaStream* stream = nullptr);

}  // namespace aegisrt::cuda
