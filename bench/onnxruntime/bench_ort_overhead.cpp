// AegisRT's ONNX Runtime backend against the raw ORT C++ API: the same model,
// inputs and thread settings, run in interleaved blocks (alternating which
// goes first) so machine noise hits both sides alike. Reports p50/p99 per
// side and the AegisRT/raw ratios, pooled over all calls and as the median of
// the per-round ratios.
//
//   bench_ort_overhead [--model cnn|micro|all] [--rounds N] [--block K]
//                      [--threads T] [--models-dir DIR] [--json FILE]
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"

namespace {

using Clock = std::chrono::steady_clock;

struct ModelCase {
  std::string key;    // cnn | micro
  std::string file;   // generated model name
  std::vector<std::int64_t> shape;
  int default_block;  // calls per side per round
};

const std::vector<ModelCase> kCases = {
    {"cnn", "bench_cnn", {1, 3, 112, 112}, 20},
    {"micro", "bench_micro", {1, 256}, 200},
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
}

double median(std::vector<double> v) { return percentile(std::move(v), 50.0); }

struct Side {
  std::vector<double> all_us;                   // every call
  std::vector<double> round_p50, round_p99;     // per round
};

void add_round(Side& s, const std::vector<double>& block) {
  s.all_us.insert(s.all_us.end(), block.begin(), block.end());
  s.round_p50.push_back(percentile(block, 50));
  s.round_p99.push_back(percentile(block, 99));
}

int run_case(const ModelCase& c, const std::filesystem::path& models_dir, int rounds, int block,
             int threads, nlohmann::json& report) {
  const auto path = models_dir / (c.file + ".onnx");
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "model %s not found (build target aegisrt_test_models or pass --models-dir)\n",
                 path.string().c_str());
    return 2;
  }
  std::int64_t count = 1;
  for (auto d : c.shape) count *= d;
  std::vector<float> input(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = std::sin(0.37f * static_cast<float>(i));

  // AegisRT.
  aegisrt::OnnxRuntimeBackend ours;
  aegisrt::LoadOptions lo;
  lo.artifact_path = path;
  lo.backend_options = {{"provider", "cpu"}, {"intra_op_threads", std::to_string(threads)}};
  if (auto r = ours.load(lo); !r.ok()) {
    std::fprintf(stderr, "aegisrt load failed: %s\n", r.error().to_string().c_str());
    return 1;
  }
  aegisrt::ExecutionRequest req;
  req.inputs = {{"x", aegisrt::TensorView(input.data(), c.shape, aegisrt::DType::Float32)}};

  // Raw ORT, same settings (only intra-op threads set on both sides).
  Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "bench_raw");
  Ort::SessionOptions so;
  so.SetIntraOpNumThreads(threads);
  Ort::Session session(env, path.c_str(), so);
  const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const char* in_names[] = {"x"};
  const char* out_names[] = {"y"};

  volatile float sink = 0;
  auto call_ours = [&] {
    auto r = ours.execute(req);
    if (!r.ok()) {
      std::fprintf(stderr, "aegisrt execute failed: %s\n", r.error().to_string().c_str());
      std::exit(1);
    }
    sink = sink + r->outputs[0].data_as<float>()[0];
  };
  auto call_raw = [&] {
    Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), c.shape.data(),
                                                    c.shape.size());
    auto outs = session.Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 1);
    sink = sink + outs[0].GetTensorData<float>()[0];
  };

  // Same answer on both sides, bit for bit (same library, same graph).
  {
    auto r = ours.execute(req);
    Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), c.shape.data(),
                                                    c.shape.size());
    auto outs = session.Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 1);
    const auto n = static_cast<std::size_t>(r->outputs[0].element_count());
    if (!r.ok() || std::memcmp(r->outputs[0].data(), outs[0].GetTensorData<float>(), n * 4) != 0) {
      std::fprintf(stderr, "outputs differ between AegisRT and raw ORT\n");
      return 1;
    }
  }

  // Warm-up: arenas, caches, thread pools.
  for (int i = 0; i < 3 * block; ++i) {
    call_ours();
    call_raw();
  }

  Side s_ours, s_raw;
  std::vector<double> ratio_p50, ratio_p99;
  std::vector<double> buf(static_cast<std::size_t>(block));
  auto time_block = [&](auto&& fn, Side& side) {
    for (int i = 0; i < block; ++i) {
      const auto t0 = Clock::now();
      fn();
      const auto t1 = Clock::now();
      buf[static_cast<std::size_t>(i)] = std::chrono::duration<double, std::micro>(t1 - t0).count();
    }
    add_round(side, buf);
  };
  for (int r = 0; r < rounds; ++r) {
    if (r % 2 == 0) {
      time_block(call_ours, s_ours);
      time_block(call_raw, s_raw);
    } else {
      time_block(call_raw, s_raw);
      time_block(call_ours, s_ours);
    }
    ratio_p50.push_back(s_ours.round_p50.back() / s_raw.round_p50.back());
    ratio_p99.push_back(s_ours.round_p99.back() / s_raw.round_p99.back());
  }

  const double o50 = percentile(s_ours.all_us, 50), o99 = percentile(s_ours.all_us, 99);
  const double r50 = percentile(s_raw.all_us, 50), r99 = percentile(s_raw.all_us, 99);
  const double mr50 = median(ratio_p50), mr99 = median(ratio_p99);
  std::printf("%-6s %-12s %5d x %-4d  raw p50 %9.2f us  p99 %9.2f us | aegisrt p50 %9.2f us  p99 %9.2f us"
              " | ratio p50 %.4f p99 %.4f | median-of-rounds ratio p50 %.4f p99 %.4f\n",
              c.key.c_str(), c.file.c_str(), rounds, block, r50, r99, o50, o99, o50 / r50, o99 / r99,
              mr50, mr99);
  std::fflush(stdout);
  report[c.key] = {{"model", c.file},
                   {"rounds", rounds},
                   {"block", block},
                   {"calls_per_side", s_ours.all_us.size()},
                   {"raw_p50_us", r50},
                   {"raw_p99_us", r99},
                   {"aegisrt_p50_us", o50},
                   {"aegisrt_p99_us", o99},
                   {"ratio_p50", o50 / r50},
                   {"ratio_p99", o99 / r99},
                   {"median_round_ratio_p50", mr50},
                   {"median_round_ratio_p99", mr99}};
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"AegisRT ONNX Runtime backend overhead vs raw ONNX Runtime"};
  std::string model = "all";
  int rounds = 41;
  int block = 0;
  int threads = 1;
  std::string models_dir = AEGISRT_BENCH_MODELS_DIR;
  std::string json_path;
  app.add_option("--model", model, "cnn, micro or all")->check(CLI::IsMember({"cnn", "micro", "all"}));
  app.add_option("--rounds", rounds, "interleaved rounds")->check(CLI::Range(1, 100000));
  app.add_option("--block", block, "calls per side per round (0 = model default)")->check(CLI::Range(0, 1000000));
  app.add_option("--threads", threads, "intra-op threads on both sides")->check(CLI::Range(0, 256));
  app.add_option("--models-dir", models_dir, "where bench_cnn.onnx / bench_micro.onnx are");
  app.add_option("--json", json_path, "also write the results as JSON here");
  CLI11_PARSE(app, argc, argv);

  std::printf("ONNX Runtime %s, intra-op threads %d, hardware threads %u\n",
              aegisrt::onnxruntime_version().c_str(), threads, std::thread::hardware_concurrency());
  nlohmann::json report = {{"ort_version", aegisrt::onnxruntime_version()}, {"threads", threads}};
  int rc = 0;
  try {
    for (const auto& c : kCases) {
      if (model != "all" && model != c.key) continue;
      rc |= run_case(c, models_dir, rounds, block > 0 ? block : c.default_block, threads, report);
    }
  } catch (const Ort::Exception& e) {
    std::fprintf(stderr, "raw ORT failed: %s\n", e.what());
    return 1;
  }
  if (!json_path.empty()) std::ofstream(json_path) << report.dump(2) << "\n";
  return rc;
}
