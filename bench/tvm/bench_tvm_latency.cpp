// Steady-state latency of the small benchmark CNN (tests/data: bench_cnn,
// float32 [1,3,112,112] -> [1,10]) on TVM CPU (llvm), TVM CUDA (when a GPU is
// present) and ONNX Runtime CPU (when compiled in). Libraries are built once
// into $AEGISRT_BENCH_CACHE (default /tmp/aegisrt_bench_tvm_libs).
//   bench_tvm_latency [--benchmark_* flags]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "aegisrt/backend/registry.h"
#include "aegisrt/backends/tvm/tvm_backend.h"
#include "aegisrt/io/npy.h"

namespace fs = std::filesystem;
using namespace aegisrt;

namespace {

fs::path models_dir() {
  if (const char* e = std::getenv("AEGISRT_BENCH_MODELS_DIR")) return e;
  return AEGISRT_BENCH_MODELS_DIR;
}
fs::path cache_dir() {
  if (const char* e = std::getenv("AEGISRT_BENCH_CACHE")) return e;
  return fs::temp_directory_path() / "aegisrt_bench_tvm_libs";
}

void run_backend(benchmark::State& state, const std::string& backend_name, Device device,
                 const std::string& model) {
  auto made = backend_name == "tvm" ? Result<std::unique_ptr<RuntimeBackend>>(make_tvm_backend())
                                    : BackendFactory::create(backend_name);
  if (!made.ok()) {
    state.SkipWithError(made.error().to_string().c_str());
    return;
  }
  auto backend = std::move(*made);
  LoadOptions o;
  o.artifact_path = models_dir() / (model + ".onnx");
  o.device = device;
  o.cache_dir = cache_dir();
  if (auto r = backend->load(o); !r.ok()) {
    state.SkipWithError(r.error().to_string().c_str());
    return;
  }
  auto x = io::read_npy(models_dir() / (model + ".input_0.npy"));
  if (!x.ok()) {
    state.SkipWithError(x.error().to_string().c_str());
    return;
  }
  ExecutionRequest req;
  req.inputs = {{"", x->view()}};
  for (auto _ : state) {
    auto r = backend->execute(req);
    if (!r.ok()) {
      state.SkipWithError(r.error().to_string().c_str());
      return;
    }
    benchmark::DoNotOptimize(r->outputs.data());
  }
}

void BM_TvmCpu(benchmark::State& s) { run_backend(s, "tvm", Device::cpu(), "bench_cnn"); }
void BM_TvmCuda(benchmark::State& s) { run_backend(s, "tvm", Device::cuda(0), "bench_cnn"); }
#if defined(AEGISRT_HAVE_ONNXRUNTIME)
void BM_OrtCpu(benchmark::State& s) { run_backend(s, "onnx", Device::cpu(), "bench_cnn"); }
BENCHMARK(BM_OrtCpu)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif
BENCHMARK(BM_TvmCpu)->Unit(benchmark::kMillisecond)->UseRealTime();
// Reports an error (skipped) where no CUDA device / TVM CUDA runtime is usable.
BENCHMARK(BM_TvmCuda)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
