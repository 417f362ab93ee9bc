// OpenVINO vs ONNX Runtime on the CPU, both through AegisRT's backends, in one
// process: the same models, the same inputs (seeded random, dynamic dims = 1)
// and the same thread count (ORT intra_op_threads = OpenVINO num_threads).
// Calls run in interleaved blocks, alternating which side goes first, so
// machine noise hits both alike. Reports p50/p99 per side and OpenVINO/ORT
// ratios, and checks the two agree on the outputs (max abs difference).
//
// --first-output measures OpenVINO's time to first output (load + first
// execute): cold (empty artefact cache: read ONNX, compile, export), warm
// (the exported blob imported, no compilation) and uncached (cache=off), each
// trial with a fresh cache folder. OpenVINO itself (ov::Core, plugins) is
// started once before the trials, so these times are the model's alone.
//
//   bench_openvino --model FILE.onnx [--model ...] [--threads 2] [--rounds 10]
//                  [--block 5] [--first-output] [--trials 5] [--json FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"
#include "aegisrt/backends/openvino/openvino_backend.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/tools/latency.h"

namespace {

namespace fs = std::filesystem;
using namespace aegisrt;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The p-th percentile of unsorted samples, by the one definition every AegisRT
// report uses (aegisrt::tools::percentile: numpy's linear interpolation).
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return aegisrt::tools::percentile(v, p);
}

template <typename T>
T check(Result<T> r, const std::string& what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what.c_str(), r.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(r).value();
}
void check(Result<void> r, const std::string& what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what.c_str(), r.error().to_string().c_str());
    std::exit(1);
  }
}

std::vector<Tensor> make_inputs(const std::vector<TensorDesc>& specs) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  std::vector<Tensor> out;
  for (const auto& s : specs) {
    Shape shape = s.shape;
    for (auto& d : shape) d = d < 0 ? 1 : d;
    auto t = check(Tensor::allocate_host(shape, s.dtype, s.name), "input " + s.name);
    if (s.dtype == DType::Float32) {
      for (auto& v : t.span<float>()) v = dist(rng);
    } else {
      std::memset(t.data(), 0, t.byte_size());
    }
    out.push_back(std::move(t));
  }
  return out;
}

ExecutionRequest request_of(const std::vector<Tensor>& inputs) {
  ExecutionRequest req;
  for (const auto& t : inputs) req.inputs.push_back({t.name(), t.view()});
  return req;
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != DType::Float32 || b.dtype() != DType::Float32) return NAN;
  double worst = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(a.element_count()); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(a.span<float>()[i] - b.span<float>()[i])));
  }
  return worst;
}

double max_abs(const Tensor& a) {
  double m = 0;
  if (a.dtype() != DType::Float32) return NAN;
  for (float v : a.span<float>()) m = std::max(m, static_cast<double>(std::fabs(v)));
  return m;
}

nlohmann::json latency(const fs::path& model, int threads, int rounds, int block) {
  LoadOptions ort_opts;
  ort_opts.artifact_path = model;
  ort_opts.backend_options = {{"intra_op_threads", std::to_string(threads)}, {"inter_op_threads", "1"}};
  LoadOptions ov_opts;
  ov_opts.artifact_path = model;
  ov_opts.cache_dir = fs::temp_directory_path() / ("aegisrt_bench_ov_" + std::to_string(::getpid()));
  ov_opts.backend_options = {{"num_threads", std::to_string(threads)}};

  auto ort = make_onnxruntime_backend();
  auto ov = make_openvino_backend();
  check(ort->load(ort_opts), "ONNX Runtime load " + model.string());
  check(ov->load(ov_opts), "OpenVINO load " + model.string());
  const auto inputs = make_inputs(ort->input_specs());
  const auto req = request_of(inputs);

  // Warm-up and agreement.
  auto a = check(ort->execute(req), "ONNX Runtime execute");
  auto b = check(ov->execute(req), "OpenVINO execute");
  for (int i = 0; i < 2; ++i) {
    (void)check(ort->execute(req), "ONNX Runtime execute");
    (void)check(ov->execute(req), "OpenVINO execute");
  }
  const double diff = max_abs_diff(a.outputs.at(0), b.outputs.at(0));

  std::vector<double> ort_ms, ov_ms;
  for (int r = 0; r < rounds; ++r) {
    for (int side = 0; side < 2; ++side) {
      const bool ov_turn = (side == 0) == (r % 2 == 0);
      auto& backend = ov_turn ? *ov : *ort;
      auto& samples = ov_turn ? ov_ms : ort_ms;
      for (int k = 0; k < block; ++k) {
        const auto t0 = Clock::now();
        (void)check(backend.execute(req), "execute");
        samples.push_back(ms_since(t0));
      }
    }
  }
  std::error_code ec;
  fs::remove_all(ov_opts.cache_dir, ec);
  nlohmann::json j;
  j["model"] = model.filename().string();
  j["threads"] = threads;
  j["calls_per_side"] = ort_ms.size();
  j["ort"] = {{"p50_ms", percentile(ort_ms, 50)}, {"p99_ms", percentile(ort_ms, 99)}};
  j["openvino"] = {{"p50_ms", percentile(ov_ms, 50)}, {"p99_ms", percentile(ov_ms, 99)}};
  j["ratio_p50"] = percentile(ov_ms, 50) / percentile(ort_ms, 50);
  j["ratio_p99"] = percentile(ov_ms, 99) / percentile(ort_ms, 99);
  j["max_abs_diff"] = diff;
  j["max_abs_output"] = max_abs(a.outputs.at(0));
  std::printf("%-16s threads %d, %zu calls/side: ORT p50 %8.2f p99 %8.2f ms | OpenVINO p50 %8.2f p99 %8.2f ms | "
              "OV/ORT p50 %.2f p99 %.2f | max|diff| %.2g (max|y| %.3g)\n",
              j["model"].get<std::string>().c_str(), threads, ort_ms.size(), percentile(ort_ms, 50),
              percentile(ort_ms, 99), percentile(ov_ms, 50), percentile(ov_ms, 99), j["ratio_p50"].get<double>(),
              j["ratio_p99"].get<double>(), diff, j["max_abs_output"].get<double>());
  return j;
}

nlohmann::json first_output(const fs::path& model, int threads, int trials) {
  const auto run_once = [&](const fs::path& cache, bool cached, std::string& outcome) {
    LoadOptions o;
    o.artifact_path = model;
    o.cache_dir = cache;
    o.backend_options = {{"num_threads", std::to_string(threads)}};
    if (!cached) o.backend_options["cache"] = "off";
    const auto t0 = Clock::now();
    OpenVinoBackend b;
    check(b.load(o), "OpenVINO load " + model.string());
    const auto inputs = make_inputs(b.input_specs());
    (void)check(b.execute(request_of(inputs)), "OpenVINO execute");
    outcome = b.cache_outcome();
    return ms_since(t0);
  };
  std::vector<double> cold, warm, uncached;
  for (int t = 0; t < trials; ++t) {
    const fs::path cache = fs::temp_directory_path() /
                           ("aegisrt_bench_ov_first_" + std::to_string(::getpid()) + "_" + std::to_string(t));
    std::error_code ec;
    fs::remove_all(cache, ec);
    std::string oc, ow, ou;
    cold.push_back(run_once(cache, true, oc));
    warm.push_back(run_once(cache, true, ow));
    uncached.push_back(run_once(cache, false, ou));
    if (oc != "built" || ow != "hit") {
      std::fprintf(stderr, "unexpected cache outcomes: cold %s, warm %s\n", oc.c_str(), ow.c_str());
      std::exit(1);
    }
    fs::remove_all(cache, ec);
  }
  nlohmann::json j;
  j["model"] = model.filename().string();
  j["trials"] = trials;
  j["cold_ms_median"] = percentile(cold, 50);
  j["warm_ms_median"] = percentile(warm, 50);
  j["uncached_ms_median"] = percentile(uncached, 50);
  std::printf("%-16s first output (median of %d): cold (compile + export) %8.1f ms | warm (import) %8.1f ms | "
              "no cache %8.1f ms | warm/cold %.2f\n",
              j["model"].get<std::string>().c_str(), trials, percentile(cold, 50), percentile(warm, 50),
              percentile(uncached, 50), percentile(warm, 50) / percentile(cold, 50));
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"OpenVINO vs ONNX Runtime through AegisRT (CPU)"};
  std::vector<std::string> models;
  int threads = 2, rounds = 10, block = 5, trials = 5;
  bool first = false;
  std::string json_path;
  app.add_option("--model", models, "ONNX model (repeatable)")->required();
  app.add_option("--threads", threads, "Threads for both runtimes")->capture_default_str();
  app.add_option("--rounds", rounds, "Interleaved rounds")->capture_default_str();
  app.add_option("--block", block, "Calls per side per round")->capture_default_str();
  app.add_flag("--first-output", first, "Measure OpenVINO's cold vs warm time to first output instead");
  app.add_option("--trials", trials, "Trials for --first-output")->capture_default_str();
  app.add_option("--json", json_path, "Write the results as JSON");
  CLI11_PARSE(app, argc, argv);

  std::printf("OpenVINO %s, ONNX Runtime %s\n", openvino_version().c_str(), onnxruntime_version().c_str());
  {
    // Start OpenVINO (ov::Core, CPU plugin) outside every measurement.
    const auto t0 = Clock::now();
    auto devices = check(openvino_devices(), "OpenVINO devices");
    std::printf("OpenVINO start-up (ov::Core + device query) %.1f ms; devices:", ms_since(t0));
    for (const auto& d : devices) std::printf(" %s;", d.c_str());
    std::printf("\n");
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : models) {
    out.push_back(first ? first_output(m, threads, trials) : latency(m, threads, rounds, block));
  }
  if (!json_path.empty()) {
    if (auto w = write_file_atomic(json_path, out.dump(2) + "\n"); !w.ok()) {
      std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
      return 1;
    }
  }
  return 0;
}
