// The subset of NVIDIA Triton Inference Server's C API that libtriton_aegisrt
// uses, declared here by AegisRT.
//
// Why declared by us: no package registry (Debian, PyPI) ships Triton's
// tritonserver.h / tritonbackend.h, and the project copies no third-party
// headers into the repository. These declarations were written from Triton's
// public API documentation (function names, parameter lists, enum values) for
// backend API 1.x as served by Triton 2.51 (the nvidia-pytriton 0.7.0 wheel);
// they are NOT a copy of NVIDIA's header text. Only what the backend calls or
// must export is here.
//
// How they are proven: the backend is loaded by the real tritonserver in the
// `serving` CTest label (tests/serving), which checks inference results,
// per-request errors and statistics end to end; TRITONBACKEND_Initialize
// refuses a server whose backend API major version differs from ours. A
// wrong signature or enum value would show up there as wrong results or a
// failed load. scripts/check_triton_headers.sh additionally compiles the
// backend against NVIDIA's official headers where they have been fetched
// (AEGISRT_TRITON_OFFICIAL_HEADERS): every enum value is static_assert-ed and
// every function declaration must match theirs.
#pragma once

#include <cstddef>
#include <cstdint>

// Each enum is one list of (name, documented value). Normally the list
// defines the enum; with AEGISRT_TRITON_OFFICIAL_HEADERS (scripts/check_triton_headers.sh)
// NVIDIA's header defines the types and every value here is static_assert-ed
// against it, while the function declarations below must match theirs exactly.
#define AEGISRT_TRITON_ERROR_CODES(X)                                                          \
  X(TRITONSERVER_ERROR_UNKNOWN, 0) X(TRITONSERVER_ERROR_INTERNAL, 1) X(TRITONSERVER_ERROR_NOT_FOUND, 2) \
  X(TRITONSERVER_ERROR_INVALID_ARG, 3) X(TRITONSERVER_ERROR_UNAVAILABLE, 4)                    \
  X(TRITONSERVER_ERROR_UNSUPPORTED, 5) X(TRITONSERVER_ERROR_ALREADY_EXISTS, 6)                 \
  X(TRITONSERVER_ERROR_CANCELLED, 7)
#define AEGISRT_TRITON_DATA_TYPES(X)                                                                     \
  X(TRITONSERVER_TYPE_INVALID, 0) X(TRITONSERVER_TYPE_BOOL, 1) X(TRITONSERVER_TYPE_UINT8, 2)             \
  X(TRITONSERVER_TYPE_UINT16, 3) X(TRITONSERVER_TYPE_UINT32, 4) X(TRITONSERVER_TYPE_UINT64, 5)           \
  X(TRITONSERVER_TYPE_INT8, 6) X(TRITONSERVER_TYPE_INT16, 7) X(TRITONSERVER_TYPE_INT32, 8)               \
  X(TRITONSERVER_TYPE_INT64, 9) X(TRITONSERVER_TYPE_FP16, 10) X(TRITONSERVER_TYPE_FP32, 11)              \
  X(TRITONSERVER_TYPE_FP64, 12) X(TRITONSERVER_TYPE_BYTES, 13) X(TRITONSERVER_TYPE_BF16, 14)
#define AEGISRT_TRITON_MEMORY_TYPES(X) \
  X(TRITONSERVER_MEMORY_CPU, 0) X(TRITONSERVER_MEMORY_CPU_PINNED, 1) X(TRITONSERVER_MEMORY_GPU, 2)
#define AEGISRT_TRITON_LOG_LEVELS(X)                                                          \
  X(TRITONSERVER_LOG_INFO, 0) X(TRITONSERVER_LOG_WARN, 1) X(TRITONSERVER_LOG_ERROR, 2)        \
  X(TRITONSERVER_LOG_VERBOSE, 3)
#define AEGISRT_TRITON_INSTANCE_KINDS(X)                                                            \
  X(TRITONSERVER_INSTANCEGROUPKIND_AUTO, 0) X(TRITONSERVER_INSTANCEGROUPKIND_CPU, 1)               \
  X(TRITONSERVER_INSTANCEGROUPKIND_GPU, 2) X(TRITONSERVER_INSTANCEGROUPKIND_MODEL, 3)
#define AEGISRT_TRITON_ARTIFACT_TYPES(X) \
  X(TRITONBACKEND_ARTIFACT_FILESYSTEM, 0)

#if defined(AEGISRT_TRITON_OFFICIAL_HEADERS)
#include "triton/core/tritonbackend.h"
#include "triton/core/tritonserver.h"
#define AEGISRT_TRITON_CHECK(name, value) static_assert(name == (value), #name " differs from Triton's header");
AEGISRT_TRITON_ERROR_CODES(AEGISRT_TRITON_CHECK)
AEGISRT_TRITON_DATA_TYPES(AEGISRT_TRITON_CHECK)
AEGISRT_TRITON_MEMORY_TYPES(AEGISRT_TRITON_CHECK)
AEGISRT_TRITON_LOG_LEVELS(AEGISRT_TRITON_CHECK)
AEGISRT_TRITON_INSTANCE_KINDS(AEGISRT_TRITON_CHECK)
AEGISRT_TRITON_ARTIFACT_TYPES(AEGISRT_TRITON_CHECK)
static_assert(TRITONSERVER_RESPONSE_COMPLETE_FINAL == 1, "TRITONSERVER_RESPONSE_COMPLETE_FINAL");
static_assert(TRITONSERVER_REQUEST_RELEASE_ALL == 1, "TRITONSERVER_REQUEST_RELEASE_ALL");
static_assert(TRITONBACKEND_API_VERSION_MAJOR == 1, "TRITONBACKEND_API_VERSION_MAJOR");
#undef AEGISRT_TRITON_CHECK
#else
// ---------------------------------------------------------------- opaque handles
struct TRITONSERVER_Error;
struct TRITONSERVER_Message;
struct TRITONBACKEND_Backend;
struct TRITONBACKEND_Model;
struct TRITONBACKEND_ModelInstance;
struct TRITONBACKEND_Request;
struct TRITONBACKEND_Response;
struct TRITONBACKEND_Input;
struct TRITONBACKEND_Output;

// ---------------------------------------------------------------- enums (documented values)
#define AEGISRT_TRITON_ENUMERATOR(name, value) name = (value),
enum TRITONSERVER_Error_Code { AEGISRT_TRITON_ERROR_CODES(AEGISRT_TRITON_ENUMERATOR) };
enum TRITONSERVER_DataType { AEGISRT_TRITON_DATA_TYPES(AEGISRT_TRITON_ENUMERATOR) };
enum TRITONSERVER_MemoryType { AEGISRT_TRITON_MEMORY_TYPES(AEGISRT_TRITON_ENUMERATOR) };
enum TRITONSERVER_LogLevel { AEGISRT_TRITON_LOG_LEVELS(AEGISRT_TRITON_ENUMERATOR) };
enum TRITONSERVER_InstanceGroupKind { AEGISRT_TRITON_INSTANCE_KINDS(AEGISRT_TRITON_ENUMERATOR) };
enum TRITONBACKEND_ArtifactType { AEGISRT_TRITON_ARTIFACT_TYPES(AEGISRT_TRITON_ENUMERATOR) };
#undef AEGISRT_TRITON_ENUMERATOR
#endif

extern "C" {

/// TRITONBACKEND_ResponseSend flag: this is the request's last response.
constexpr std::uint32_t kTritonResponseCompleteFinal = 1;  // TRITONSERVER_RESPONSE_COMPLETE_FINAL
/// TRITONBACKEND_RequestRelease flag: the backend is done with the request.
constexpr std::uint32_t kTritonRequestReleaseAll = 1;  // TRITONSERVER_REQUEST_RELEASE_ALL

/// The backend API major version this backend was written for; the server's
/// must match (minor versions are backward compatible).
constexpr std::uint32_t kTritonBackendApiMajor = 1;

// ---------------------------------------------------------------- server-provided functions
TRITONSERVER_Error* TRITONSERVER_ErrorNew(TRITONSERVER_Error_Code code, const char* msg);
void TRITONSERVER_ErrorDelete(TRITONSERVER_Error* error);
const char* TRITONSERVER_ErrorMessage(TRITONSERVER_Error* error);

TRITONSERVER_Error* TRITONSERVER_MessageSerializeToJson(TRITONSERVER_Message* message, const char** base,
                                                        std::size_t* byte_size);
TRITONSERVER_Error* TRITONSERVER_MessageDelete(TRITONSERVER_Message* message);

TRITONSERVER_Error* TRITONSERVER_LogMessage(TRITONSERVER_LogLevel level, const char* filename, int line,
                                            const char* msg);

TRITONSERVER_Error* TRITONBACKEND_ApiVersion(std::uint32_t* major, std::uint32_t* minor);

TRITONSERVER_Error* TRITONBACKEND_ModelName(TRITONBACKEND_Model* model, const char** name);
TRITONSERVER_Error* TRITONBACKEND_ModelVersion(TRITONBACKEND_Model* model, std::uint64_t* version);
TRITONSERVER_Error* TRITONBACKEND_ModelRepository(TRITONBACKEND_Model* model,
                                                  TRITONBACKEND_ArtifactType* artifact_type,
                                                  const char** location);
TRITONSERVER_Error* TRITONBACKEND_ModelConfig(TRITONBACKEND_Model* model, std::uint32_t config_version,
                                              TRITONSERVER_Message** model_config);
TRITONSERVER_Error* TRITONBACKEND_ModelState(TRITONBACKEND_Model* model, void** state);
TRITONSERVER_Error* TRITONBACKEND_ModelSetState(TRITONBACKEND_Model* model, void* state);

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceName(TRITONBACKEND_ModelInstance* instance, const char** name);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceKind(TRITONBACKEND_ModelInstance* instance,
                                                    TRITONSERVER_InstanceGroupKind* kind);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceDeviceId(TRITONBACKEND_ModelInstance* instance,
                                                        std::int32_t* device_id);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceModel(TRITONBACKEND_ModelInstance* instance,
                                                     TRITONBACKEND_Model** model);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceState(TRITONBACKEND_ModelInstance* instance, void** state);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceSetState(TRITONBACKEND_ModelInstance* instance, void* state);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceReportStatistics(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request, bool success,
    std::uint64_t exec_start_ns, std::uint64_t compute_start_ns, std::uint64_t compute_end_ns,
    std::uint64_t exec_end_ns);
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceReportBatchStatistics(
    TRITONBACKEND_ModelInstance* instance, std::uint64_t batch_size, std::uint64_t exec_start_ns,
    std::uint64_t compute_start_ns, std::uint64_t compute_end_ns, std::uint64_t exec_end_ns);

TRITONSERVER_Error* TRITONBACKEND_RequestId(TRITONBACKEND_Request* request, const char** id);
TRITONSERVER_Error* TRITONBACKEND_RequestInputCount(TRITONBACKEND_Request* request, std::uint32_t* count);
TRITONSERVER_Error* TRITONBACKEND_RequestInput(TRITONBACKEND_Request* request, const char* name,
                                               TRITONBACKEND_Input** input);
TRITONSERVER_Error* TRITONBACKEND_RequestOutputCount(TRITONBACKEND_Request* request, std::uint32_t* count);
TRITONSERVER_Error* TRITONBACKEND_RequestOutputName(TRITONBACKEND_Request* request, std::uint32_t index,
                                                    const char** output_name);
TRITONSERVER_Error* TRITONBACKEND_RequestRelease(TRITONBACKEND_Request* request, std::uint32_t release_flags);

TRITONSERVER_Error* TRITONBACKEND_InputProperties(TRITONBACKEND_Input* input, const char** name,
                                                  TRITONSERVER_DataType* datatype, const std::int64_t** shape,
                                                  std::uint32_t* dims_count, std::uint64_t* byte_size,
                                                  std::uint32_t* buffer_count);
TRITONSERVER_Error* TRITONBACKEND_InputBuffer(TRITONBACKEND_Input* input, std::uint32_t index, const void** buffer,
                                              std::uint64_t* buffer_byte_size, TRITONSERVER_MemoryType* memory_type,
                                              std::int64_t* memory_type_id);

TRITONSERVER_Error* TRITONBACKEND_ResponseNew(TRITONBACKEND_Response** response, TRITONBACKEND_Request* request);
TRITONSERVER_Error* TRITONBACKEND_ResponseDelete(TRITONBACKEND_Response* response);
TRITONSERVER_Error* TRITONBACKEND_ResponseOutput(TRITONBACKEND_Response* response, TRITONBACKEND_Output** output,
                                                 const char* name, TRITONSERVER_DataType datatype,
                                                 const std::int64_t* shape, std::uint32_t dims_count);
TRITONSERVER_Error* TRITONBACKEND_ResponseSend(TRITONBACKEND_Response* response, std::uint32_t send_flags,
                                               TRITONSERVER_Error* error);
TRITONSERVER_Error* TRITONBACKEND_OutputBuffer(TRITONBACKEND_Output* output, void** buffer,
                                               std::uint64_t buffer_byte_size,
                                               TRITONSERVER_MemoryType* memory_type,
                                               std::int64_t* memory_type_id);

// ---------------------------------------------------------------- backend-implemented entry points
#define AEGISRT_TRITON_EXPORT __attribute__((visibility("default")))
AEGISRT_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_Initialize(TRITONBACKEND_Backend* backend);
AEGISRT_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInitialize(TRITONBACKEND_Model* model);
AEGISRT_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelFinalize(TRITONBACKEND_Model* model);
AEGISRT_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceInitialize(
    TRITONBACKEND_ModelInstance* instance);
AEGISRT_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(
    TRITONBACKEND_ModelInstance* instance);
AEGISRT_TRITON_EXPORT TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request** requests, std::uint32_t request_count);

}  // extern "C"
