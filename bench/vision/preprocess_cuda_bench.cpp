// The fused CUDA pre-processing kernel (640x480 RGB -> 1x3x640x640 float32,
// device to device) against the GPU's own copy bandwidth: cudaMemcpy
// device-to-device of the kernel's output bytes.
//
// One benchmark iteration is one sample: kInner asynchronous launches on one
// stream, then a sync, timed on the host (manual time). Google Benchmark's
// "Time" column is therefore per sample of kInner launches; counter
// `us_per_launch` is the per-launch time. The iteration time reported must be
// the whole sample's: reporting sample/kInner made Google Benchmark believe
// each iteration was kInner times shorter than it was, so it ran kInner (50)
// times more iterations than its --benchmark_min_time asked for.
#include <benchmark/benchmark.h>

#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "aegisrt/vision/preprocess_cuda.h"

namespace {

using aegisrt::DType;
using aegisrt::Location;
using aegisrt::Tensor;
using aegisrt::TensorView;
using aegisrt::vision::CudaPreprocessor;
using aegisrt::vision::PreprocessConfig;

constexpr int kInner = 50;  // launches per timed sample (one benchmark iteration)

void BM_CudaPreprocess(benchmark::State& state) {
  const int w = static_cast<int>(state.range(0)), h = static_cast<int>(state.range(1));
  auto pre = CudaPreprocessor::create(0);
  if (!pre.ok()) {
    state.SkipWithError(pre.error().to_string().c_str());
    return;
  }
  PreprocessConfig cfg;
  std::vector<std::uint8_t> host(static_cast<std::size_t>(w) * h * 3);
  for (std::size_t i = 0; i < host.size(); ++i) host[i] = static_cast<std::uint8_t>(i * 31);
  void* src = nullptr;
  void* dst = nullptr;
  const std::size_t out_bytes = cfg.elements_per_image() * sizeof(float);
  if (cudaMalloc(&src, host.size()) != cudaSuccess ||
      cudaMemcpy(src, host.data(), host.size(), cudaMemcpyHostToDevice) != cudaSuccess ||
      cudaMalloc(&dst, out_bytes) != cudaSuccess) {
    cudaFree(src);
    state.SkipWithError("cannot allocate or fill device memory");
    return;
  }
  Tensor out = Tensor::adopt(dst, cfg.tensor_shape(1), DType::Float32, Location::device(0),
                             [](void* p) { cudaFree(p); });
  const TensorView src_view(src, {h, w, 3}, DType::UInt8, Location::device(0));
  // Warm-up.
  if (auto r = pre->run_into(src_view, cfg, out, 0, true); !r.ok()) {
    state.SkipWithError(r.error().to_string().c_str());
    cudaFree(src);
    return;
  }
  double total_s = 0.0;
  std::int64_t launches = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kInner; ++i) (void)pre->run_into(src_view, cfg, out, 0, false);
    (void)pre->synchronize();
    const auto t1 = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(t1 - t0).count();
    total_s += s;
    launches += kInner;
    state.SetIterationTime(s);  // the whole sample: kInner launches
  }
  // Rates from the manual (wall) time, not the host CPU time Google Benchmark would use.
  const double moved = static_cast<double>(host.size() + out_bytes);
  if (total_s > 0.0 && launches > 0) {
    state.counters["GB/s_effective"] = moved * static_cast<double>(launches) / total_s / 1e9;
    state.counters["us_per_launch"] = total_s / static_cast<double>(launches) * 1e6;
  }
  state.counters["bytes_read"] = static_cast<double>(host.size());
  state.counters["bytes_written"] = static_cast<double>(out_bytes);
  cudaFree(src);
}
BENCHMARK(BM_CudaPreprocess)
    ->ArgNames({"w", "h"})
    ->Args({640, 480})
    ->Args({1920, 1080})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// Baseline: a device-to-device copy of the output's bytes (reads and writes
// out_bytes each), the best a memory-bound kernel writing this tensor can do.
void BM_CudaMemcpyD2D(benchmark::State& state) {
  PreprocessConfig cfg;
  const std::size_t bytes = cfg.elements_per_image() * sizeof(float);
  void* a = nullptr;
  void* b = nullptr;
  if (cudaMalloc(&a, bytes) != cudaSuccess || cudaMalloc(&b, bytes) != cudaSuccess) {
    cudaFree(a);
    state.SkipWithError("no usable CUDA device");
    return;
  }
  cudaStream_t s;
  cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
  cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s);
  cudaStreamSynchronize(s);
  double total_s = 0.0;
  std::int64_t copies = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kInner; ++i) cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s);
    cudaStreamSynchronize(s);
    const auto t1 = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(t1 - t0).count();
    total_s += secs;
    copies += kInner;
    state.SetIterationTime(secs);  // the whole sample: kInner copies
  }
  if (total_s > 0.0 && copies > 0) {
    state.counters["GB/s_effective"] = 2.0 * static_cast<double>(bytes) * static_cast<double>(copies) / total_s / 1e9;
    state.counters["us_per_launch"] = total_s / static_cast<double>(copies) * 1e6;
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  cudaStreamDestroy(s);
  cudaFree(a);
  cudaFree(b);
}
BENCHMARK(BM_CudaMemcpyD2D)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
