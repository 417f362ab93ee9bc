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
//
// The host wall clock above includes the host's launch cost (run_into's
// validation + cudaLaunchKernel, or cudaMemcpyAsync), which at ~5 us per
// launch can exceed the GPU time itself. So each benchmark also reports
// times taken by CUDA events on the stream (GpuTimes below):
//   us_gpu_b2b     kInner launches queued while the stream is held by a host
//                  function, then released: events around the batch / kInner
//                  (back-to-back GPU time per launch, no host gaps);
//   us_gpu_single  one launch queued the same way, events around it (the GPU
//                  time of a single launch including its start-up);
//   us_wall_single one call then a synchronize, host wall clock (what a caller
//                  doing one image at a time waits for).
// Each is the median of kEventReps samples.
#include <benchmark/benchmark.h>

#include <cuda_runtime_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/vision/preprocess_cuda.h"

namespace {

using aegisrt::DType;
using aegisrt::Location;
using aegisrt::Tensor;
using aegisrt::TensorView;
using aegisrt::vision::CudaPreprocessor;
using aegisrt::vision::PreprocessConfig;

constexpr int kInner = 50;  // launches per timed sample (one benchmark iteration)
constexpr int kEventReps = 21;  // samples per event-timed figure (median)

// Host function that holds the stream until `released` is set (bounded at
// 2 s so a bug cannot hang the benchmark): work queued behind it starts
// back-to-back when it returns.
void CUDART_CB hold_stream(void* flag) {
  auto* released = static_cast<std::atomic<bool>*>(flag);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!released->load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct GpuTimes {
  double us_b2b = 0.0;          // per launch, kInner queued back to back
  double us_single = 0.0;       // one queued launch
  double us_wall_single = 0.0;  // one call + synchronize, host wall clock
  bool ok = false;
};

// `enqueue` queues one launch (kernel or copy) on `s`.
GpuTimes gpu_times(cudaStream_t s, const std::function<void()>& enqueue) {
  GpuTimes t;
  cudaEvent_t e0 = nullptr, e1 = nullptr;
  if (cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess) {
    cudaEventDestroy(e0);
    return t;
  }
  auto timed = [&](int launches) -> double {
    std::atomic<bool> released{false};
    cudaLaunchHostFunc(s, hold_stream, &released);
    cudaEventRecord(e0, s);
    for (int i = 0; i < launches; ++i) enqueue();
    cudaEventRecord(e1, s);
    released.store(true, std::memory_order_release);
    cudaStreamSynchronize(s);
    float ms = 0.0f;
    if (cudaEventElapsedTime(&ms, e0, e1) != cudaSuccess) return -1.0;
    return static_cast<double>(ms) * 1e3 / launches;
  };
  std::vector<double> b2b, single, wall;
  for (int r = 0; r < kEventReps; ++r) {
    b2b.push_back(timed(kInner));
    single.push_back(timed(1));
    const auto t0 = std::chrono::steady_clock::now();
    enqueue();
    cudaStreamSynchronize(s);
    wall.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  t.ok = std::all_of(b2b.begin(), b2b.end(), [](double x) { return x >= 0.0; }) &&
         std::all_of(single.begin(), single.end(), [](double x) { return x >= 0.0; }) &&
         cudaGetLastError() == cudaSuccess;
  t.us_b2b = median(b2b);
  t.us_single = median(single);
  t.us_wall_single = median(wall);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return t;
}

void set_gpu_counters(benchmark::State& state, const GpuTimes& t, double bytes_moved) {
  if (!t.ok) {
    state.SkipWithError("CUDA event timing failed");
    return;
  }
  state.counters["us_gpu_b2b"] = t.us_b2b;
  state.counters["us_gpu_single"] = t.us_single;
  state.counters["us_wall_single"] = t.us_wall_single;
  if (t.us_b2b > 0.0) state.counters["GB/s_gpu_b2b"] = bytes_moved / (t.us_b2b * 1e-6) / 1e9;
  if (t.us_single > 0.0) state.counters["GB/s_gpu_single"] = bytes_moved / (t.us_single * 1e-6) / 1e9;
}

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
  // 1: the source already had the resized size (640x480 into 640x640), the
  // identity kernel ran (no resampling, no tap tables); 0: resampled.
  state.counters["identity"] = pre->last_run_was_identity() ? 1.0 : 0.0;
  bool launched = true;
  const GpuTimes gt = gpu_times(pre->stream()->native(), [&] {
    launched = pre->run_into(src_view, cfg, out, 0, false).ok() && launched;
  });
  if (!launched) state.SkipWithError("run_into failed during the event-timed launches");
  else set_gpu_counters(state, gt, moved);
  cudaFree(src);
}
BENCHMARK(BM_CudaPreprocess)
    ->ArgNames({"w", "h"})
    ->Args({640, 480})
    ->Args({800, 600})  // resampled to 640x480 content: the same output bytes as 640x480
    ->Args({1920, 1080})
    ->Args({1280, 720})
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
  set_gpu_counters(state, gpu_times(s, [&] { cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, s); }),
                   2.0 * static_cast<double>(bytes));
  cudaStreamDestroy(s);
  cudaFree(a);
  cudaFree(b);
}
BENCHMARK(BM_CudaMemcpyD2D)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
