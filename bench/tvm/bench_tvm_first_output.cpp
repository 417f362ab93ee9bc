// Time to first output through the TVM backend, cold cache (compile + load +
// execute) vs warm cache (load + execute), in one run. Usage:
//   bench_tvm_first_output [--models-dir D] [--device cpu|cuda] [--warm-runs N] [model ...]
// Default models: affine bench_cnn. Each cold run uses a fresh cache folder.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "aegisrt/backends/tvm/tvm_backend.h"
#include "aegisrt/io/npy.h"
#include "aegisrt/tools/latency.h"

namespace fs = std::filesystem;
using namespace aegisrt;

namespace {

Result<double> first_output_ms(const LoadOptions& opts, const std::vector<Tensor>& inputs) {
  const auto t0 = Clock::now();
  auto backend = make_tvm_backend();
  AEGIS_TRY(backend->load(opts));
  ExecutionRequest req;
  for (const auto& t : inputs) req.inputs.push_back({"", t.view()});
  AEGIS_ASSIGN_OR_RETURN(auto r, backend->execute(req));
  (void)r;
  return to_ms(Clock::now() - t0);
}

Result<std::vector<Tensor>> inputs_for(const fs::path& dir, const std::string& model) {
  std::vector<Tensor> v;
  const auto npy = dir / (model + ".input_0.npy");
  if (fs::exists(npy)) {
    AEGIS_ASSIGN_OR_RETURN(auto t, io::read_npy(npy));
    v.push_back(std::move(t));
    return v;
  }
  AEGIS_ASSIGN_OR_RETURN(auto t, Tensor::allocate_host({2, 4}, DType::Float32, "x"));  // affine
  v.push_back(std::move(t));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path models_dir = AEGISRT_BENCH_MODELS_DIR;
  Device device = Device::cpu();
  int warm_runs = 5;
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--models-dir" && i + 1 < argc) models_dir = argv[++i];
    else if (a == "--device" && i + 1 < argc) device = parse_device(argv[++i]).value_or(Device::cpu());
    else if (a == "--warm-runs" && i + 1 < argc) warm_runs = std::max(1, std::atoi(argv[++i]));
    else models.push_back(a);
  }
  if (models.empty()) models = {"affine", "bench_cnn"};
  std::cout << "TVM " << tvm_version() << ", device " << to_string(device) << "\n";
  std::cout << fmt::format("{:<12} {:>12} {:>14} {:>8}\n", "model", "cold_ms", "warm_ms(med)", "ratio");
  int rc = 0;
  for (const auto& m : models) {
    const fs::path cache = fs::temp_directory_path() / fmt::format("aegisrt_bench_tvm_{}_{}", ::getpid(), m);
    fs::remove_all(cache);
    LoadOptions o;
    o.artifact_path = models_dir / (m + ".onnx");
    o.cache_dir = cache;
    o.device = device;
    auto inputs = inputs_for(models_dir, m);
    if (!inputs.ok()) {
      std::cerr << m << ": " << inputs.error() << "\n";
      rc = 1;
      continue;
    }
    auto cold = first_output_ms(o, *inputs);
    if (!cold.ok()) {
      std::cerr << m << ": " << cold.error() << "\n";
      rc = 1;
      continue;
    }
    std::vector<double> warm;
    for (int i = 0; i < warm_runs; ++i) {
      auto w = first_output_ms(o, *inputs);
      if (!w.ok()) {
        std::cerr << m << ": " << w.error() << "\n";
        rc = 1;
        break;
      }
      warm.push_back(*w);
    }
    if (warm.empty()) continue;
    const double med = aegisrt::tools::summarize_latencies(warm).p50_ms;
    std::cout << fmt::format("{:<12} {:>12.1f} {:>14.2f} {:>7.0f}x\n", m, *cold, med, *cold / med);
    fs::remove_all(cache);
  }
  return rc;
}
