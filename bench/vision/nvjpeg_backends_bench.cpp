// nvJPEG's decode paths side by side, one image at a time, on the JPEGs given
// on the command line: what a single-image pipeline waits for per frame
// (decode queued on a stream, then that stream synchronised). It exists to
// choose the GPU decode path of the device pipeline (issue 16: the nvJPEG
// decode, ~0.5 ms at 640x480 on the H200, is most of the gap between
// end-to-end and execute latency):
//
//   simple       nvjpegCreateSimple + nvjpegDecode: what cuda::NvJpegDecoder uses
//   hybrid       decoupled API (nvjpegDecodeJpegHost / TransferToDevice /
//                Device), NVJPEG_BACKEND_HYBRID: Huffman decode on the CPU
//   gpu_hybrid   decoupled API, NVJPEG_BACKEND_GPU_HYBRID: Huffman on the GPU
//   hw_batched   nvjpegCreateEx(NVJPEG_BACKEND_HARDWARE) + nvjpegDecodeBatched,
//                batch 1: the A100/H100 hardware JPEG decoder (absent on
//                other cards: reported as unavailable, not as a failure)
//   def_batched  nvjpegDecodeBatched on the default backend, batch 1
//
// Each path decodes every image to interleaved RGB; its output for every
// image is compared with the simple path's (max abs difference per byte: the
// paths may round their IDCT differently). Output: one JSON object on stdout.
//
//   bench_nvjpeg_backends [--passes N] a.jpg b.jpg ...
#include <cuda_runtime_api.h>
#include <nvjpeg.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Jpeg {
  std::string path;
  std::vector<unsigned char> bytes;
  int w = 0, h = 0;
};

struct Outcome {
  std::string name;
  std::string status = "ok";
  double p50_us = 0, p99_us = 0, mean_us = 0;
  int max_abs_diff = -1;
  std::size_t samples = 0;
};

std::string nv_err(nvjpegStatus_t s, const char* call) { return std::string(call) + " -> nvjpeg status " + std::to_string(s); }
std::string cu_err(cudaError_t e, const char* call) { return std::string(call) + " -> " + cudaGetErrorName(e); }

#define NV(call)                                                    \
  do {                                                              \
    if (const nvjpegStatus_t s_ = (call); s_ != NVJPEG_STATUS_SUCCESS) return nv_err(s_, #call); \
  } while (0)
#define CU(call)                                             \
  do {                                                       \
    if (const cudaError_t e_ = (call); e_ != cudaSuccess) return cu_err(e_, #call); \
  } while (0)

/// One decode path: setup() once, decode(i) queues image i into out[i] on the
/// stream, teardown() releases. Each returns "" or the error.
struct Path {
  std::string name;
  std::function<std::string()> setup;
  std::function<std::string(std::size_t)> decode;
  std::function<void()> teardown;
};

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto k = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(k, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int passes = 100;
  std::vector<Jpeg> images;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--passes" && i + 1 < argc) {
      passes = std::max(1, std::atoi(argv[++i]));
      continue;
    }
    std::ifstream f(a, std::ios::binary);
    Jpeg j;
    j.path = a;
    std::ostringstream slurp;  // rdbuf, not istreambuf_iterator: g++ 13 -Wnull-dereference false positive
    slurp << f.rdbuf();
    const std::string bytes = slurp.str();
    j.bytes.assign(bytes.begin(), bytes.end());
    if (!f.good() && !f.eof()) {
      std::fprintf(stderr, "cannot read %s\n", a.c_str());
      return 2;
    }
    images.push_back(std::move(j));
  }
  if (images.empty()) {
    std::fprintf(stderr, "usage: bench_nvjpeg_backends [--passes N] a.jpg ...\n");
    return 2;
  }
  cudaStream_t stream = nullptr;
  if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess) {
    std::printf("{\"error\": \"no CUDA device\"}\n");
    return 1;
  }
  cudaDeviceProp prop{};
  (void)cudaGetDeviceProperties(&prop, 0);

  // Image sizes (any handle will do).
  {
    nvjpegHandle_t h = nullptr;
    if (nvjpegCreateSimple(&h) != NVJPEG_STATUS_SUCCESS) {
      std::printf("{\"error\": \"nvjpegCreateSimple failed\"}\n");
      return 1;
    }
    for (auto& j : images) {
      int n = 0;
      nvjpegChromaSubsampling_t ss{};
      int ws[NVJPEG_MAX_COMPONENT] = {}, hs[NVJPEG_MAX_COMPONENT] = {};
      if (nvjpegGetImageInfo(h, j.bytes.data(), j.bytes.size(), &n, &ss, ws, hs) != NVJPEG_STATUS_SUCCESS) {
        std::printf("{\"error\": \"nvjpegGetImageInfo failed on %s\"}\n", j.path.c_str());
        return 1;
      }
      j.w = ws[0];
      j.h = hs[0];
    }
    nvjpegDestroy(h);
  }
  // Device outputs, one per image, interleaved RGB.
  std::vector<void*> out(images.size(), nullptr);
  std::vector<nvjpegImage_t> dst(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    const std::size_t pitch = static_cast<std::size_t>(images[i].w) * 3;
    if (cudaMalloc(&out[i], pitch * static_cast<std::size_t>(images[i].h)) != cudaSuccess) return 1;
    dst[i] = nvjpegImage_t{};
    dst[i].channel[0] = static_cast<unsigned char*>(out[i]);
    dst[i].pitch[0] = pitch;
  }
  auto download = [&](std::size_t i) {
    std::vector<unsigned char> host(static_cast<std::size_t>(images[i].w) * 3 * static_cast<std::size_t>(images[i].h));
    (void)cudaMemcpy(host.data(), out[i], host.size(), cudaMemcpyDeviceToHost);
    return host;
  };

  std::vector<Path> paths;
  // --- simple
  {
    auto h = std::make_shared<nvjpegHandle_t>(nullptr);
    auto st = std::make_shared<nvjpegJpegState_t>(nullptr);
    paths.push_back({"simple",
                     [=]() -> std::string {
                       NV(nvjpegCreateSimple(h.get()));
                       NV(nvjpegJpegStateCreate(*h, st.get()));
                       return "";
                     },
                     [=, &images, &dst](std::size_t i) -> std::string {
                       NV(nvjpegDecode(*h, *st, images[i].bytes.data(), images[i].bytes.size(), NVJPEG_OUTPUT_RGBI,
                                       &dst[i], stream));
                       return "";
                     },
                     [=]() {
                       if (*st) nvjpegJpegStateDestroy(*st);
                       if (*h) nvjpegDestroy(*h);
                     }});
  }
  // --- decoupled hybrid / gpu_hybrid
  for (const auto& [label, backend] : {std::pair{"hybrid", NVJPEG_BACKEND_HYBRID},
                                       std::pair{"gpu_hybrid", NVJPEG_BACKEND_GPU_HYBRID}}) {
    struct D {
      nvjpegHandle_t h = nullptr;
      nvjpegJpegDecoder_t dec = nullptr;
      nvjpegJpegState_t st = nullptr;
      nvjpegBufferPinned_t pin = nullptr;
      nvjpegBufferDevice_t dev = nullptr;
      nvjpegJpegStream_t js = nullptr;
      nvjpegDecodeParams_t params = nullptr;
    };
    auto d = std::make_shared<D>();
    const nvjpegBackend_t b = backend;
    paths.push_back({label,
                     [=]() -> std::string {
                       NV(nvjpegCreateSimple(&d->h));
                       NV(nvjpegDecoderCreate(d->h, b, &d->dec));
                       NV(nvjpegDecoderStateCreate(d->h, d->dec, &d->st));
                       NV(nvjpegBufferPinnedCreate(d->h, nullptr, &d->pin));
                       NV(nvjpegBufferDeviceCreate(d->h, nullptr, &d->dev));
                       NV(nvjpegStateAttachPinnedBuffer(d->st, d->pin));
                       NV(nvjpegStateAttachDeviceBuffer(d->st, d->dev));
                       NV(nvjpegJpegStreamCreate(d->h, &d->js));
                       NV(nvjpegDecodeParamsCreate(d->h, &d->params));
                       NV(nvjpegDecodeParamsSetOutputFormat(d->params, NVJPEG_OUTPUT_RGBI));
                       return "";
                     },
                     [=, &images, &dst](std::size_t i) -> std::string {
                       NV(nvjpegJpegStreamParse(d->h, images[i].bytes.data(), images[i].bytes.size(), 0, 0, d->js));
                       NV(nvjpegDecodeJpegHost(d->h, d->dec, d->st, d->params, d->js));
                       NV(nvjpegDecodeJpegTransferToDevice(d->h, d->dec, d->st, d->js, stream));
                       NV(nvjpegDecodeJpegDevice(d->h, d->dec, d->st, &dst[i], stream));
                       return "";
                     },
                     [=]() {
                       if (d->params) nvjpegDecodeParamsDestroy(d->params);
                       if (d->js) nvjpegJpegStreamDestroy(d->js);
                       if (d->st) nvjpegJpegStateDestroy(d->st);
                       if (d->pin) nvjpegBufferPinnedDestroy(d->pin);
                       if (d->dev) nvjpegBufferDeviceDestroy(d->dev);
                       if (d->dec) nvjpegDecoderDestroy(d->dec);
                       if (d->h) nvjpegDestroy(d->h);
                     }});
  }
  // --- batched (batch 1): hardware and default
  for (const auto& [label, backend] : {std::pair{"hw_batched", NVJPEG_BACKEND_HARDWARE},
                                       std::pair{"def_batched", NVJPEG_BACKEND_DEFAULT}}) {
    struct B {
      nvjpegHandle_t h = nullptr;
      nvjpegJpegState_t st = nullptr;
    };
    auto d = std::make_shared<B>();
    const nvjpegBackend_t b = backend;
    paths.push_back({label,
                     [=]() -> std::string {
                       NV(nvjpegCreateEx(b, nullptr, nullptr, 0, &d->h));
                       NV(nvjpegJpegStateCreate(d->h, &d->st));
                       NV(nvjpegDecodeBatchedInitialize(d->h, d->st, 1, 1, NVJPEG_OUTPUT_RGBI));
                       return "";
                     },
                     [=, &images, &dst](std::size_t i) -> std::string {
                       const unsigned char* data = images[i].bytes.data();
                       const std::size_t len = images[i].bytes.size();
                       NV(nvjpegDecodeBatched(d->h, d->st, &data, &len, &dst[i], stream));
                       return "";
                     },
                     [=]() {
                       if (d->st) nvjpegJpegStateDestroy(d->st);
                       if (d->h) nvjpegDestroy(d->h);
                     }});
  }

  std::vector<std::vector<unsigned char>> reference;
  std::vector<Outcome> outcomes;
  for (auto& p : paths) {
    Outcome o;
    o.name = p.name;
    auto run = [&]() -> std::string {
      if (std::string e = p.setup(); !e.empty()) return "unavailable: " + e;
      for (std::size_t i = 0; i < images.size(); ++i) {
        CU(cudaMemsetAsync(out[i], 0, static_cast<std::size_t>(images[i].w) * 3 * static_cast<std::size_t>(images[i].h),
                           stream));
      }
      // Warm-up (buffers grow on the first images), then the check.
      for (int w = 0; w < 3; ++w) {
        for (std::size_t i = 0; i < images.size(); ++i) {
          if (std::string e = p.decode(i); !e.empty()) return "decode of " + images[i].path + ": " + e;
          CU(cudaStreamSynchronize(stream));
        }
      }
      int worst = 0;
      for (std::size_t i = 0; i < images.size(); ++i) {
        const auto got = download(i);
        if (reference.size() < images.size()) {
          reference.push_back(got);
          continue;
        }
        for (std::size_t k = 0; k < got.size(); ++k) {
          worst = std::max(worst, std::abs(static_cast<int>(got[k]) - static_cast<int>(reference[i][k])));
        }
      }
      o.max_abs_diff = worst;
      std::vector<double> us;
      for (int pass = 0; pass < passes; ++pass) {
        for (std::size_t i = 0; i < images.size(); ++i) {
          const auto t0 = std::chrono::steady_clock::now();
          if (std::string e = p.decode(i); !e.empty()) return "decode of " + images[i].path + ": " + e;
          CU(cudaStreamSynchronize(stream));
          us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        }
      }
      o.samples = us.size();
      o.p50_us = percentile(us, 0.5);
      o.p99_us = percentile(us, 0.99);
      double sum = 0;
      for (double v : us) sum += v;
      o.mean_us = sum / static_cast<double>(us.size());
      return "";
    };
    if (std::string e = run(); !e.empty()) o.status = e;
    (void)cudaStreamSynchronize(stream);
    (void)cudaGetLastError();
    p.teardown();
    outcomes.push_back(o);
  }

  std::printf("{\"device\": \"%s\", \"images\": %zu, \"passes\": %d, \"sizes\": [", prop.name, images.size(), passes);
  for (std::size_t i = 0; i < images.size(); ++i) std::printf("%s\"%dx%d\"", i ? ", " : "", images[i].w, images[i].h);
  std::printf("], \"paths\": [");
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Outcome& o = outcomes[i];
    std::string status = o.status;
    std::replace(status.begin(), status.end(), '"', '\'');
    std::printf("%s{\"name\": \"%s\", \"status\": \"%s\", \"samples\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f, "
                "\"mean_us\": %.1f, \"max_abs_diff_vs_simple\": %d}",
                i ? ", " : "", o.name.c_str(), status.c_str(), o.samples, o.p50_us, o.p99_us, o.mean_us,
                o.max_abs_diff);
  }
  std::printf("]}\n");
  for (void* p : out) cudaFree(p);
  cudaStreamDestroy(stream);
  return 0;
}
