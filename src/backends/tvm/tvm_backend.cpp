// TVMBackend: a Relax VM library loaded through tvm-ffi, executed with DLPack
// tensors. Every TVM call sits inside try/catch: TVM reports errors by
// throwing tvm::ffi::Error (a std::exception), which never leaves this file.
#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <tvm/ffi/any.h>
#include <tvm/ffi/container/array.h>
#include <tvm/ffi/container/tensor.h>
#include <tvm/ffi/error.h>
#include <tvm/ffi/extra/module.h>
#include <tvm/ffi/function.h>

#if defined(AEGISRT_HAVE_CUDA)
#include "aegisrt/backend/backend_options.h"
#include "aegisrt/backend/memory_estimate.h"
#include "aegisrt/backend/registry.h"
#include "aegisrt/cuda/tensor_ops.h"
#endif
#include "aegisrt/onnx/onnx_summary.h"
#include "aegisrt/backends/tvm/tvm_backend.h"
#include "aegisrt/cache/sha256.h"
#include "aegisrt/core/file_util.h"

#ifndef AEGISRT_TVM_LIBRARY_DIR
#define AEGISRT_TVM_LIBRARY_DIR ""
#endif

// Nothing here calls libtvm_runtime directly (everything goes through
// tvm-ffi's registry), but it must be loaded: it registers the Relax VM and the
// module loaders. Referencing one of its C symbols keeps it DT_NEEDED under the
// linker's --as-needed (declared here: the wheel's runtime headers are incomplete).
extern "C" void* TVMBackendAllocWorkspace(int device_type, int device_id, std::uint64_t nbytes,
                                        int dtype_code_hint, int dtype_bits_hint);
[[gnu::used]] static auto* const kTvmRuntimeAnchor = &TVMBackendAllocWorkspace;

namespace aegisrt {

namespace fs = std::filesystem;
namespace ffi = ::tvm::ffi;

namespace {

constexpr int kPooledAllocator = 2;  // tvm.runtime.vm.VirtualMachine.POOLED_ALLOCATOR
constexpr int kNaiveAllocator = 1;
constexpr std::uintptr_t kAlignment = 64;  // TVM kernels assume 64-byte aligned buffers

std::string describe(const std::exception& e) {
  if (const auto* fe = dynamic_cast<const ffi::Error*>(&e)) return fe->kind() + ": " + fe->message();
  return e.what();
}

std::optional<DLDataType> to_dl(DType t) {
  switch (t) {
    case DType::Float32: return DLDataType{kDLFloat, 32, 1};
    case DType::Float16: return DLDataType{kDLFloat, 16, 1};
    case DType::BFloat16: return DLDataType{kDLBfloat, 16, 1};
    case DType::Int8: return DLDataType{kDLInt, 8, 1};
    case DType::UInt8: return DLDataType{kDLUInt, 8, 1};
    case DType::Int32: return DLDataType{kDLInt, 32, 1};
    case DType::Int64: return DLDataType{kDLInt, 64, 1};
    case DType::Bool: return DLDataType{kDLBool, 8, 1};
    case DType::Float64: return DLDataType{kDLFloat, 64, 1};
    case DType::Int16: return DLDataType{kDLInt, 16, 1};
    case DType::UInt16: return DLDataType{kDLUInt, 16, 1};
    case DType::UInt32: return DLDataType{kDLUInt, 32, 1};
    case DType::UInt64: return DLDataType{kDLUInt, 64, 1};
    // Not passed to TVM (see kTvmDTypes): strings have no DLPack type; int4
    // is packed in TVM but one per byte in AegisRT; float8 is not verified
    // through TVM's ONNX import.
    case DType::String:
    case DType::Float8E4M3FN:
    case DType::Float8E4M3FNUZ:
    case DType::Float8E5M2:
    case DType::Float8E5M2FNUZ:
    case DType::Int4:
    case DType::UInt4: break;
  }
  return std::nullopt;
}

/// What the TVM backend binds: every DType with a DLPack type here (checked
/// end to end by the conformance suite on CPU).
std::vector<DType> tvm_dtypes() {
  std::vector<DType> out;
  for (DType d : kAllDTypes)
    if (to_dl(d)) out.push_back(d);
  return out;
}

/// Refuses, before any build, an ONNX model whose inputs/outputs TVM cannot
/// bind (element type or non-tensor value), naming the tensor and its type.
/// Models the summary cannot read fall through to the build, which reports.
std::optional<DType> from_dl(DLDataType t) {
  if (t.lanes != 1) return std::nullopt;
  for (DType d : kAllDTypes) {
    const auto dl = to_dl(d);
    if (dl && dl->code == t.code && dl->bits == t.bits) return d;
  }
  if (t.code == kDLUInt && t.bits == 1) return DType::Bool;
  return std::nullopt;
}

std::string dl_name(DLDataType t) {
  return "code " + std::to_string(t.code) + " bits " + std::to_string(t.bits) + " lanes " +
         std::to_string(t.lanes);
}

// Parses the I/O description written by aegisrt_tvm_build.py --io-json.
Result<std::pair<std::vector<TensorDesc>, std::vector<TensorDesc>>> parse_io(const std::string& text,
                                                                             const std::string& what) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("inputs") || !j.contains("outputs")) {
    return Error(ErrorCode::Corrupt, "I/O description in '" + what + "' is not valid JSON with inputs/outputs");
  }
  auto read = [&](const nlohmann::json& arr, const char* kind) -> Result<std::vector<TensorDesc>> {
    std::vector<TensorDesc> out;
    if (!arr.is_array()) return Error(ErrorCode::Corrupt, std::string(kind) + " in '" + what + "' is not a list");
    for (const auto& e : arr) {
      if (!e.is_object() || !e.contains("name") || !e.contains("dtype") || !e.contains("shape") ||
          !e["name"].is_string() || !e["dtype"].is_string() || !e["shape"].is_array()) {
        return Error(ErrorCode::Corrupt, std::string(kind) + " entry in '" + what + "' lacks name/dtype/shape");
      }
      TensorDesc d;
      d.name = e["name"].get<std::string>();
      const auto dt = parse_dtype(e["dtype"].get<std::string>());
      if (!dt) {
        return Error(ErrorCode::Unsupported, std::string(kind) + " '" + d.name + "' has dtype '" +
                                                 e["dtype"].get<std::string>() + "', which AegisRT does not handle");
      }
      d.dtype = *dt;
      for (const auto& dim : e["shape"]) {
        if (!dim.is_number_integer()) return Error(ErrorCode::Corrupt, "shape of '" + d.name + "' in '" + what + "'");
        const auto v = dim.get<std::int64_t>();
        d.shape.push_back(v < 0 ? kDynamicDim : v);
      }
      out.push_back(std::move(d));
    }
    return out;
  };
  AEGIS_ASSIGN_OR_RETURN(auto inputs, read(j["inputs"], "input"));
  AEGIS_ASSIGN_OR_RETURN(auto outputs, read(j["outputs"], "output"));
  if (outputs.empty()) return Error(ErrorCode::Corrupt, "I/O description in '" + what + "' declares no outputs");
  return std::make_pair(std::move(inputs), std::move(outputs));
}


// "x:1x3x224x224,y:1x4" -> {x: 1x3x224x224, y: 1x4}
Result<std::map<std::string, std::string>> parse_input_shapes(const std::string& spec) {
  std::map<std::string, std::string> out;
  std::istringstream in(spec);
  for (std::string item; std::getline(in, item, ',');) {
    const auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size() ||
        item.find_first_not_of("0123456789x", colon + 1) != std::string::npos) {
      return Error(ErrorCode::InvalidArgument,
                   "backend option input_shape item '" + item + "' must look like name:1x3x224x224");
    }
    out[item.substr(0, colon)] = item.substr(colon + 1);
  }
  return out;
}

// dlopen() of a truncated shared object maps segments past the end of the file
// and dies with SIGBUS when the loader touches them, so a library is checked
// first: a 64-bit ELF shared object for this machine whose program headers and
// loadable segments all lie inside the file.
Result<void> precheck_elf(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::IoError, "cannot read '" + path.string() + "'");
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  Elf64_Ehdr eh{};
  auto corrupt = [&path](const std::string& why) {
    return Error(ErrorCode::Corrupt, "'" + path.string() + "' is not a usable TVM library: " + why);
  };
  if (ec || size < sizeof eh || !in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return corrupt("too short for an ELF header");
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return corrupt("not an ELF file");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return corrupt("not a 64-bit ELF file");
  if (eh.e_type != ET_DYN) return corrupt("not a shared object");
#if defined(__x86_64__)
  constexpr std::uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
  constexpr std::uint16_t kMachine = EM_AARCH64;
#else
  constexpr std::uint16_t kMachine = 0;
#endif
  if (kMachine != 0 && eh.e_machine != kMachine) {
    return corrupt("built for another CPU architecture (ELF machine " + std::to_string(eh.e_machine) + ")");
  }
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
      eh.e_phoff + std::uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr) > size) {
    return corrupt("program headers lie outside the file (truncated?)");
  }
  if (eh.e_shoff != 0 && eh.e_shoff + std::uint64_t{eh.e_shnum} * eh.e_shentsize > size) {
    return corrupt("section headers lie outside the file (truncated: " + std::to_string(size) + " bytes)");
  }
  in.seekg(static_cast<std::streamoff>(eh.e_phoff));
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) return corrupt("unreadable program header");
    if (ph.p_type == PT_LOAD && ph.p_offset + ph.p_filesz > size) {
      return corrupt("segment " + std::to_string(i) + " ends at byte " + std::to_string(ph.p_offset + ph.p_filesz) +
                     ", the file has " + std::to_string(size) + " (truncated)");
    }
  }
  return {};
}

// The CUDA device API lives in its own library; load it once, globally.
Result<void> ensure_cuda_runtime() {
  static std::mutex mutex;
  static bool loaded = false;
  std::lock_guard lock(mutex);
  if (loaded) return {};
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("AEGISRT_TVM_LIB_DIR"); env != nullptr && *env != '\0') {
    candidates.push_back((fs::path(env) / "libtvm_runtime_cuda.so").string());
  }
  if (std::strlen(AEGISRT_TVM_LIBRARY_DIR) > 0) {
    candidates.push_back((fs::path(AEGISRT_TVM_LIBRARY_DIR) / "libtvm_runtime_cuda.so").string());
  }
  candidates.emplace_back("libtvm_runtime_cuda.so");
  std::string errors;
  for (const auto& c : candidates) {
    if (::dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL) != nullptr) {
      loaded = true;
      return {};
    }
    const char* e = ::dlerror();
    errors += (errors.empty() ? "" : "; ") + std::string(e ? e : c);
  }
  return Error(ErrorCode::Unsupported,
               "TVM's CUDA runtime (libtvm_runtime_cuda.so) could not be loaded: " + errors +
                   " (it needs libcudart.so.13 and a CUDA driver; set AEGISRT_TVM_LIB_DIR)");
}

// A DLManagedTensor over memory we do not own (valid for the call).
struct BorrowedDL {
  DLManagedTensor managed{};
  std::vector<std::int64_t> shape;
  static void deleter(DLManagedTensor* self) { delete static_cast<BorrowedDL*>(self->manager_ctx); }
};

ffi::Tensor borrow(const void* data, const Shape& shape, DLDataType dtype, DLDevice device) {
  auto* b = new BorrowedDL();
  b->shape = shape;
  b->managed.dl_tensor.data = const_cast<void*>(data);  // the VM reads inputs only
  b->managed.dl_tensor.device = device;
  b->managed.dl_tensor.ndim = static_cast<std::int32_t>(shape.size());
  b->managed.dl_tensor.dtype = dtype;
  b->managed.dl_tensor.shape = b->shape.data();
  b->managed.dl_tensor.strides = nullptr;
  b->managed.dl_tensor.byte_offset = 0;
  b->managed.manager_ctx = b;
  b->managed.deleter = &BorrowedDL::deleter;
  return ffi::Tensor::FromDLPack(&b->managed);
}

class TVMBackend final : public RuntimeBackend {
 public:
  TVMBackend() = default;
  ~TVMBackend() override { do_unload(); }

  [[nodiscard]] std::string_view name() const noexcept override { return "tvm"; }

  [[nodiscard]] BackendCapabilities capabilities() const override {
    BackendCapabilities c;
    c.dtypes = tvm_dtypes();
    c.devices = {DeviceKind::CPU, DeviceKind::CUDA};
    c.host_inputs = true;
    const bool on_cuda = model_ && model_->device.device_type == kDLCUDA;
    c.device_inputs = on_cuda;
    c.device_outputs = on_cuda;
    c.async = false;
    c.dynamic_shapes = true;
    c.thread_safe_execute = false;
    return c;
  }

 protected:
  Result<void> do_load(const LoadOptions& options) override;
  Result<ExecutionResult> do_execute(const ExecutionRequest& request) override;
  void do_unload() noexcept override {
    try {
      model_.reset();  // releases main, the VM, then the library
    } catch (...) {  // NOLINT(bugprone-empty-catch): unload never fails
    }
  }
  std::vector<TensorDesc> do_input_specs() const override { return model_ ? model_->inputs : std::vector<TensorDesc>{}; }
  std::vector<TensorDesc> do_output_specs() const override { return model_ ? model_->outputs : std::vector<TensorDesc>{}; }
  Result<std::size_t> do_estimate_memory() const override {
    if (!model_) return Error(ErrorCode::FailedPrecondition, "nothing loaded");
    return estimate_io_bytes(model_->library_bytes, model_->inputs, model_->outputs);
  }

 private:
  struct Model {
    // Declaration order = reverse destruction order: main, then vm, then lib.
    // (tvm-ffi handles have no empty state: optional until open_library fills them.)
    std::optional<ffi::Module> lib;
    std::optional<ffi::Module> vm;
    std::optional<ffi::Function> main;
    std::optional<ffi::Function> copy_to_bytes;
    std::vector<TensorDesc> inputs;
    std::vector<TensorDesc> outputs;
    DLDevice device{kDLCPU, 0};
    std::size_t library_bytes = 0;
  };

  Result<void> open_library(const fs::path& path, const Device& device, int allocator);
  Result<Tensor> fetch_output(const ffi::Tensor& t, const TensorDesc& spec, OutputPlacement placement) const;

  std::unique_ptr<Model> model_;
};

namespace {

/// A built library's I/O description (JSON) and where it was read from.
struct LibraryIo {
  std::string text;
  std::string where;
};

/// The I/O description of a library given as such, from the sidecar beside
/// it: a cache sidecar (whose checksum the library must match) or the raw
/// --io-json format. NotFound without a sidecar.
Result<LibraryIo> read_library_io(const fs::path& library) {
  LibraryIo io;
  const fs::path sidecar = library.string() + ".json";
  std::error_code ec;
  if (!fs::is_regular_file(sidecar, ec)) {
    AEGIS_TRY(precheck_elf(library));  // truncated or foreign files: Corrupt, without opening them
    return Error(ErrorCode::NotFound, "no I/O description for TVM library '" + library.string() + "': '" +
                                          sidecar.string() +
                                          "' is missing (build with `aegisrt build --backend tvm` or "
                                          "aegisrt_tvm_build.py --io-json " + sidecar.string() +
                                          "); the library is not opened without it");
  }
  AEGIS_TRY(check_trusted_file(sidecar, "TVM library sidecar"));
  AEGIS_ASSIGN_OR_RETURN(const std::string text, read_file(sidecar, "TVM library sidecar", kMaxSidecarBytes));
  io.where = sidecar.string();
  auto md = ArtifactMetadata::from_json(text, sidecar.string());
  if (md.ok()) {
    // A cache sidecar: the library must be the one it describes.
    AEGIS_TRY(check_trusted_file(library, "TVM library"));
    AEGIS_ASSIGN_OR_RETURN(const std::string sha, sha256_file(library));
    if (sha != md->artifact_sha256) {
      return Error(ErrorCode::Corrupt, "TVM library '" + library.string() +
                                           "' does not match its sidecar's checksum (corrupt or replaced)");
    }
    io.text = md->extra.count("io") ? md->extra.at("io") : std::string();
  } else {
    io.text = text;  // the raw --io-json format
  }
  return io;
}

}  // namespace

Result<void> TVMBackend::do_load(const LoadOptions& options) {
  int allocator = kPooledAllocator;
  TvmBuildOptions build;
  build.prefer_tuned = true;  // tune=auto
  const BackendOptionReader reader("tvm", "arch, input_shape, memory, python, tune");
  for (const auto& [k, v] : options.backend_options) {
    if (k == "arch") {
      build.arch = v;
    } else if (k == "input_shape") {
      AEGIS_ASSIGN_OR_RETURN(build.input_shapes, parse_input_shapes(v));
    } else if (k == "memory") {
      AEGIS_ASSIGN_OR_RETURN(const std::string memory, reader.one_of(k, v, {"pooled", "naive"}));
      allocator = memory == "naive" ? kNaiveAllocator : kPooledAllocator;
    } else if (k == "python") {
      build.python = v;
    } else if (k == "tune") {
      // auto: a cached tuned library when there is one; off: the untuned one;
      // N: a library tuned for N seconds (tuned on a miss: minutes).
      if (v == "auto" || v == "off") {
        build.prefer_tuned = v == "auto";
      } else {
        AEGIS_ASSIGN_OR_RETURN(build.tune_seconds,
                               reader.integer(k, v, 1, 7 * 24 * 3600, "auto, off or a budget in seconds (1-604800)"));
      }
    } else {
      return reader.unknown(k);
    }
  }
  if (options.device.kind == DeviceKind::CUDA) AEGIS_TRY(ensure_cuda_runtime());

  fs::path library = options.artifact_path;
  std::string io_text;
  std::string io_where;
  std::optional<ArtifactMetadata> metadata;
  if (options.artifact_path.extension() == ".onnx") {
    AEGIS_TRY(onnx::check_onnx_value_types(options.artifact_path, "TVM", tvm_dtypes()));  // before a build of seconds
    build.model = options.artifact_path;
    build.cache_dir = options.cache_dir;
    build.variant = options.variant;
    build.precision = options.precision;
    build.device = options.device;
    AEGIS_ASSIGN_OR_RETURN(CacheResult built, build_tvm_library(build));
    if (!built.warning.empty()) spdlog::warn("tvm: {}", built.warning);
    library = built.artifact_path;
    metadata = built.metadata;
  } else {
    if (!build.input_shapes.empty() || !build.arch.empty() || build.tune_seconds > 0) {
      return Error(ErrorCode::InvalidArgument,
                   "backend options arch/input_shape/tune apply to building from .onnx, not to a built library");
    }
  }

  // Specs: from the build just done, else from the sidecar beside the library.
  // Nothing is dlopen()ed before its sidecar, owner and mode are checked: a
  // library's constructors run on dlopen, as the caller.
  if (metadata) {
    io_text = metadata->extra.count("io") ? metadata->extra.at("io") : std::string();
    io_where = library.string() + ".json";
  } else {
    AEGIS_ASSIGN_OR_RETURN(LibraryIo io, read_library_io(library));
    io_text = std::move(io.text);
    io_where = std::move(io.where);
  }
  // Owner/mode of the library and its folder (sticky shared folders such as
  // /tmp are fine: others cannot replace our files there).
  AEGIS_TRY(check_trusted_file(library, "TVM library"));
  AEGIS_TRY(check_trusted_dir(library.has_parent_path() ? library.parent_path() : fs::path("."),
                              /*allow_sticky=*/true));
  AEGIS_TRY(open_library(library, options.device, allocator));
  AEGIS_ASSIGN_OR_RETURN(auto io, parse_io(io_text, io_where));
  model_->inputs = std::move(io.first);
  model_->outputs = std::move(io.second);
  std::error_code ec;
  model_->library_bytes = static_cast<std::size_t>(fs::file_size(library, ec));
  spdlog::info("tvm: loaded '{}' on {} ({} inputs, {} outputs)", library.string(), to_string(options.device),
               model_->inputs.size(), model_->outputs.size());
  return {};
}

Result<void> TVMBackend::open_library(const fs::path& path, const Device& device, int allocator) {
  AEGIS_TRY(precheck_elf(path));
  auto m = std::make_unique<Model>();
  m->device = device.kind == DeviceKind::CUDA ? DLDevice{kDLCUDA, device.index} : DLDevice{kDLCPU, 0};
  try {
    m->lib = ffi::Module::LoadFromFile(path.string());
  } catch (const std::exception& e) {
    return Error(ErrorCode::Corrupt, "'" + path.string() + "' is not a loadable TVM library: " + describe(e));
  }
  try {
    auto load_exec = (*m->lib)->GetFunction("vm_load_executable", true);
    if (!load_exec) {
      return Error(ErrorCode::Corrupt, "'" + path.string() +
                                           "' is not a Relax VM library (no vm_load_executable); "
                                           "graph-executor libraries are not supported");
    }
    m->vm = (*load_exec)().cast<ffi::Module>();
    auto init = (*m->vm)->GetFunction("vm_initialization", false);
    if (!init) return Error(ErrorCode::BackendError, "Relax VM in '" + path.string() + "' has no vm_initialization");
    if (m->device.device_type == kDLCPU) {
      (*init)(static_cast<int>(kDLCPU), 0, allocator);
    } else {
      // The host device comes last: the VM runs shape functions there.
      (*init)(static_cast<int>(m->device.device_type), m->device.device_id, allocator, static_cast<int>(kDLCPU), 0,
              allocator);
    }
    auto main = (*m->vm)->GetFunction("main", false);
    if (!main) return Error(ErrorCode::Corrupt, "Relax VM in '" + path.string() + "' has no 'main' function");
    m->main = *main;
    auto copy = ffi::Function::GetGlobal("runtime.TVMTensorCopyToBytes");
    if (!copy) return Error(ErrorCode::BackendError, "libtvm_runtime lacks runtime.TVMTensorCopyToBytes");
    m->copy_to_bytes = *copy;
  } catch (const std::exception& e) {
    return Error(ErrorCode::BackendError,
                 "initialising the Relax VM from '" + path.string() + "' on " + to_string(device) + " failed: " +
                     describe(e));
  }
  model_ = std::move(m);
  return {};
}

Result<Tensor> TVMBackend::fetch_output(const ffi::Tensor& t, const TensorDesc& spec, OutputPlacement placement) const {
  const auto dtype = from_dl(t.dtype());
  if (!dtype) return Error(ErrorCode::BackendError, "output '" + spec.name + "' has unsupported dtype " + dl_name(t.dtype()));
  if (*dtype != spec.dtype) {
    return Error(ErrorCode::BackendError, "output '" + spec.name + "' came back as " +
                                              std::string(dtype_name(*dtype)) + ", declared " +
                                              std::string(dtype_name(spec.dtype)));
  }
  Shape shape(t.shape().begin(), t.shape().end());
  if (placement == OutputPlacement::Device && t.device().device_type == kDLCUDA) {
    // Zero copy: our Tensor keeps TVM's tensor alive.
    auto* keep = new ffi::Tensor(t);
    void* data = static_cast<char*>(t.data_ptr()) + t.byte_offset();
    return Tensor::adopt(data, std::move(shape), *dtype, Location::device(t.device().device_id),
                         [keep](void*) { delete keep; }, spec.name);
  }
  AEGIS_ASSIGN_OR_RETURN(Tensor host, Tensor::allocate_host(shape, *dtype, spec.name));
  if (host.byte_size() > 0) {
    (*model_->copy_to_bytes)(t, host.data(), host.byte_size());
  }
  return host;
}

Result<ExecutionResult> TVMBackend::do_execute(const ExecutionRequest& request) {
  if (!model_) return Error(ErrorCode::FailedPrecondition, "TVM backend has nothing loaded");
  const auto& specs = model_->inputs;
  std::vector<Tensor> scratch;
  std::vector<ffi::Tensor> args;
  args.reserve(specs.size());
  try {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      const TensorView& v = request.inputs[i].view;
      const auto dl = to_dl(v.dtype());
      if (!dl) return Error(ErrorCode::InvalidArgument, "input '" + specs[i].name + "' has an unsupported dtype");
      const void* data = v.data();
      DLDevice dev{kDLCPU, 0};
      if (v.location().is_device()) {
        dev = DLDevice{kDLCUDA, v.location().device_id};
      } else if (model_->device.device_type == kDLCUDA) {
        // A CUDA-compiled library takes device tensors only: stage host inputs.
#if defined(AEGISRT_HAVE_CUDA)
        AEGIS_ASSIGN_OR_RETURN(Tensor staged,
                               cuda::copy_to_device(v, model_->device.device_id, specs[i].name));
        data = staged.data();
        dev = DLDevice{kDLCUDA, model_->device.device_id};
        scratch.push_back(std::move(staged));
#else
        return Error(ErrorCode::Unsupported,
                     "a CUDA TVM library needs the CUDA layer (AEGISRT_WITH_CUDA) to stage host input '" +
                         specs[i].name + "'");
#endif
      } else if (reinterpret_cast<std::uintptr_t>(data) % kAlignment != 0) {
        AEGIS_ASSIGN_OR_RETURN(Tensor copy, copy_to_contiguous(v, specs[i].name));
        data = copy.data();
        scratch.push_back(std::move(copy));
      }
      args.push_back(borrow(data, v.shape(), *dl, dev));
    }
    std::vector<ffi::AnyView> packed(args.begin(), args.end());
    ffi::Any ret;
    model_->main->CallPacked(packed.data(), static_cast<std::int32_t>(packed.size()), &ret);

    std::vector<ffi::Tensor> outs;
    if (auto t = ret.as<ffi::Tensor>()) {
      outs.push_back(*t);
    } else if (auto arr = ret.as<ffi::Array<ffi::Any>>()) {
      for (const auto& item : *arr) {
        auto ti = item.as<ffi::Tensor>();
        if (!ti) return Error(ErrorCode::BackendError, "Relax main returned a tuple holding a non-tensor");
        outs.push_back(*ti);
      }
    } else {
      return Error(ErrorCode::BackendError, "Relax main returned neither a tensor nor a tuple (" +
                                                std::string(ret.GetTypeKey()) + ")");
    }
    if (outs.size() != model_->outputs.size()) {
      return Error(ErrorCode::BackendError, "Relax main returned " + std::to_string(outs.size()) +
                                                " outputs, the model declares " +
                                                std::to_string(model_->outputs.size()));
    }
    ExecutionResult result;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      AEGIS_ASSIGN_OR_RETURN(Tensor t, fetch_output(outs[i], model_->outputs[i], request.output_placement));
      result.outputs.push_back(std::move(t));
    }
    return result;
  } catch (const std::exception& e) {
    return Error(ErrorCode::BackendError, "TVM execution failed: " + describe(e));
  }
}

}  // namespace

std::unique_ptr<RuntimeBackend> make_tvm_backend() { return std::make_unique<TVMBackend>(); }

Result<void> tvm_check_io_description(std::string_view text, std::string_view where) {
  AEGIS_ASSIGN_OR_RETURN(auto io, parse_io(std::string(text), std::string(where)));
  (void)io;
  return {};
}

// Called by the generated register_builtin_backends() (cmake/AegisBackends.cmake).
void register_tvm_backend(BackendRegistry& registry);
void register_tvm_backend(BackendRegistry& registry) {
  (void)registry.add({"tvm", "Apache TVM Relax VM (llvm CPU, cuda)", tvm_version()},
                     [] { return make_tvm_backend(); });
}

}  // namespace aegisrt
