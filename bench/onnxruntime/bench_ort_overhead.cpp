// AegisRT's ONNX Runtime backend against the raw ORT C++ API: the same model,
// inputs and thread settings, run in interleaved blocks (alternating which
// goes first) so machine noise hits both sides alike, over several trials
// with fresh sessions created in alternating order. Reports p50/p99 per side
// and the AegisRT/raw ratios, pooled over all calls, as the median of the
// per-trial ratios and as the median (and quartiles) of the per-round p50
// ratios (each round: one block per side, back to back), plus minor page
// faults per call on each side and the cost of one steady_clock read.
//
//   bench_ort_overhead [--model cnn|micro|all] [--trials N] [--rounds N] [--block K]
//                      [--threads T] [--models-dir DIR] [--json FILE]
//                      [--profile-calls N]
//
// --profile-calls N: load once, warm up, then make N calls on each side inside
// bench_profile_ours() / bench_profile_raw() and exit without timing. Run it
// under callgrind to count instructions per call, which the load on a shared
// machine does not move (docs/PERFORMANCE.md):
//   valgrind --tool=callgrind --toggle-collect='*bench_profile_ours*'
//     --toggle-collect='*bench_profile_raw*' bench_ort_overhead --model micro --profile-calls 2000
//   (one command line)
//   callgrind_annotate --inclusive=yes callgrind.out.<pid> | grep bench_profile
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sys/resource.h>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aegisrt/backends/onnxruntime/onnxruntime_backend.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/tools/latency.h"

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

// The p-th percentile of unsorted samples, by the one definition every AegisRT
// report uses (aegisrt::tools::percentile: numpy's linear interpolation).
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return aegisrt::tools::percentile(v, p);
}

double median(std::vector<double> v) { return percentile(std::move(v), 50.0); }

// Kept out of line (and out of the anonymous namespace) so callgrind's
// --toggle-collect can name them: all work done inside is one side's calls.
}  // namespace
__attribute__((noinline)) void bench_profile_ours(const std::function<void()>& call, int n);
__attribute__((noinline)) void bench_profile_raw(const std::function<void()>& call, int n);
void bench_profile_ours(const std::function<void()>& call, int n) {
  for (int i = 0; i < n; ++i) call();
}
void bench_profile_raw(const std::function<void()>& call, int n) {
  for (int i = 0; i < n; ++i) call();
}
namespace {

struct Side {
  std::vector<double> all_us;  // every timed call
  long minor_faults = 0;       // over the timed blocks (getrusage, this thread)
};

long thread_minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_minflt;
}

// Nanoseconds per steady_clock::now() on this machine (AegisRT's execute()
// makes two per call for ExecutionResult::latency; raw ORT makes none).
double clock_read_ns() {
  constexpr int kReads = 1000000;
  std::int64_t acc = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < kReads; ++i) acc += Clock::now().time_since_epoch().count() & 1;
  const auto t1 = Clock::now();
  volatile std::int64_t keep = acc;
  (void)keep;
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / kReads;
}

// One side of the comparison: load + a call that reads the first output value.
struct Sides {
  std::unique_ptr<aegisrt::OnnxRuntimeBackend> ours;
  std::unique_ptr<Ort::Session> raw;
};

int run_case(const ModelCase& c, const std::filesystem::path& models_dir, Ort::Env& env, int trials,
             int rounds, int block, int threads, int profile_calls, nlohmann::json& report) {
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
  aegisrt::ExecutionRequest req;
  req.inputs = {{"x", aegisrt::TensorView(input.data(), c.shape, aegisrt::DType::Float32)}};
  const Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const char* in_names[] = {"x"};
  const char* out_names[] = {"y"};

  auto load_ours = [&](Sides& s) {
    s.ours = std::make_unique<aegisrt::OnnxRuntimeBackend>();
    aegisrt::LoadOptions lo;
    lo.artifact_path = path;
    lo.backend_options = {{"provider", "cpu"}, {"intra_op_threads", std::to_string(threads)}};
    if (auto r = s.ours->load(lo); !r.ok()) {
      std::fprintf(stderr, "aegisrt load failed: %s\n", r.error().to_string().c_str());
      std::exit(1);
    }
  };
  auto load_raw = [&](Sides& s) {  // same settings: only intra-op threads set on both sides
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(threads);
    s.raw = std::make_unique<Ort::Session>(env, path.c_str(), so);
  };

  volatile float sink = 0;
  Sides sides;
  auto call_ours = [&] {
    auto r = sides.ours->execute(req);
    if (!r.ok()) {
      std::fprintf(stderr, "aegisrt execute failed: %s\n", r.error().to_string().c_str());
      std::exit(1);
    }
    sink = sink + r->outputs[0].data_as<float>()[0];
  };
  auto call_raw = [&] {
    Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), c.shape.data(),
                                                    c.shape.size());
    auto outs = sides.raw->Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 1);
    sink = sink + outs[0].GetTensorData<float>()[0];
  };

  if (profile_calls > 0) {  // instruction counting (callgrind), no timing
    load_ours(sides);
    load_raw(sides);
    for (int i = 0; i < 100; ++i) {
      call_ours();
      call_raw();
    }
    bench_profile_ours(call_ours, profile_calls);
    bench_profile_raw(call_raw, profile_calls);
    sides = {};
    std::printf("%s: %d calls per side made for profiling (no timing)\n", c.key.c_str(), profile_calls);
    return 0;
  }

  Side s_ours, s_raw;
  std::vector<double> trial_ratio_p50, trial_ratio_p99, round_ratio_p50;
  std::vector<double> buf(static_cast<std::size_t>(block));
  // Times one block of calls into `dst`; returns the block's p50.
  auto time_block = [&](auto&& fn, std::vector<double>& dst, Side& side) {
    const long faults0 = thread_minor_faults();
    for (int i = 0; i < block; ++i) {
      const auto t0 = Clock::now();
      fn();
      const auto t1 = Clock::now();
      buf[static_cast<std::size_t>(i)] = std::chrono::duration<double, std::micro>(t1 - t0).count();
    }
    side.minor_faults += thread_minor_faults() - faults0;
    dst.insert(dst.end(), buf.begin(), buf.end());
    return percentile(buf, 50);
  };
  for (int t = 0; t < trials; ++t) {
    // Fresh sessions per trial, created in alternating order: where a
    // session's buffers land in memory shifts its latency by a few percent for
    // a tiny model, and this must not count for or against either side.
    sides = {};
    if (t % 2 == 0) {
      load_ours(sides);
      load_raw(sides);
    } else {
      load_raw(sides);
      load_ours(sides);
    }
    if (t == 0) {  // same answer on both sides, bit for bit (same library, same graph)
      auto r = sides.ours->execute(req);
      Ort::Value in = Ort::Value::CreateTensor<float>(mem, input.data(), input.size(), c.shape.data(),
                                                      c.shape.size());
      auto outs = sides.raw->Run(Ort::RunOptions{nullptr}, in_names, &in, 1, out_names, 1);
      if (!r.ok() || std::memcmp(r->outputs[0].data(), outs[0].GetTensorData<float>(),
                                 r->outputs[0].byte_size()) != 0) {
        std::fprintf(stderr, "outputs differ between AegisRT and raw ORT\n");
        return 1;
      }
    }
    for (int i = 0; i < 3 * block; ++i) {  // warm-up: arenas, caches, thread pools
      call_ours();
      call_raw();
    }
    std::vector<double> t_ours, t_raw;
    for (int r = 0; r < rounds; ++r) {  // interleaved blocks, alternating who goes first
      double p_ours = 0, p_raw = 0;
      if (r % 2 == 0) {
        p_ours = time_block(call_ours, t_ours, s_ours);
        p_raw = time_block(call_raw, t_raw, s_raw);
      } else {
        p_raw = time_block(call_raw, t_raw, s_raw);
        p_ours = time_block(call_ours, t_ours, s_ours);
      }
      round_ratio_p50.push_back(p_ours / p_raw);
    }
    trial_ratio_p50.push_back(percentile(t_ours, 50) / percentile(t_raw, 50));
    trial_ratio_p99.push_back(percentile(t_ours, 99) / percentile(t_raw, 99));
    s_ours.all_us.insert(s_ours.all_us.end(), t_ours.begin(), t_ours.end());
    s_raw.all_us.insert(s_raw.all_us.end(), t_raw.begin(), t_raw.end());
  }
  sides = {};

  const double o50 = percentile(s_ours.all_us, 50), o99 = percentile(s_ours.all_us, 99);
  const double r50 = percentile(s_raw.all_us, 50), r99 = percentile(s_raw.all_us, 99);
  const double mr50 = median(trial_ratio_p50), mr99 = median(trial_ratio_p99);
  const double rr25 = percentile(round_ratio_p50, 25), rr50 = percentile(round_ratio_p50, 50),
               rr75 = percentile(round_ratio_p50, 75);
  const double calls = static_cast<double>(s_ours.all_us.size());
  const double faults_ours = static_cast<double>(s_ours.minor_faults) / calls;
  const double faults_raw = static_cast<double>(s_raw.minor_faults) / calls;
  std::printf("%-6s %-12s %d trials x %d rounds x %d calls/side\n"
              "       raw     p50 %9.2f us  p99 %9.2f us\n"
              "       aegisrt p50 %9.2f us  p99 %9.2f us\n"
              "       ratio (all calls pooled)      p50 %.4f  p99 %.4f\n"
              "       ratio (median of trials)      p50 %.4f  p99 %.4f\n"
              "       p50 ratio per round           median %.4f  quartiles %.4f .. %.4f  (%zu rounds)\n"
              "       minor page faults per call    raw %.4f  aegisrt %.4f\n",
              c.key.c_str(), c.file.c_str(), trials, rounds, block, r50, r99, o50, o99, o50 / r50,
              o99 / r99, mr50, mr99, rr50, rr25, rr75, round_ratio_p50.size(), faults_raw, faults_ours);
  std::fflush(stdout);
  report[c.key] = {{"model", c.file},
                   {"trials", trials},
                   {"rounds", rounds},
                   {"block", block},
                   {"calls_per_side", s_ours.all_us.size()},
                   {"raw_p50_us", r50},
                   {"raw_p99_us", r99},
                   {"aegisrt_p50_us", o50},
                   {"aegisrt_p99_us", o99},
                   {"ratio_p50", o50 / r50},
                   {"ratio_p99", o99 / r99},
                   {"median_trial_ratio_p50", mr50},
                   {"median_trial_ratio_p99", mr99},
                   {"round_ratio_p50_median", rr50},
                   {"round_ratio_p50_q25", rr25},
                   {"round_ratio_p50_q75", rr75},
                   {"round_ratio_p50", round_ratio_p50},
                   {"minor_faults_per_call_raw", faults_raw},
                   {"minor_faults_per_call_aegisrt", faults_ours},
                   {"trial_ratio_p50", trial_ratio_p50},
                   {"trial_ratio_p99", trial_ratio_p99}};
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"AegisRT ONNX Runtime backend overhead vs raw ONNX Runtime"};
  std::string model = "all";
  int trials = 8;
  int rounds = 25;
  int block = 0;
  int threads = 1;
  std::string models_dir = AEGISRT_BENCH_MODELS_DIR;
  std::string json_path;
  int profile_calls = 0;
  app.add_option("--model", model, "cnn, micro or all")->check(CLI::IsMember({"cnn", "micro", "all"}));
  app.add_option("--trials", trials, "fresh session pairs, created in alternating order")
      ->check(CLI::Range(1, 10000));
  app.add_option("--rounds", rounds, "interleaved rounds per trial")->check(CLI::Range(1, 100000));
  app.add_option("--block", block, "calls per side per round (0 = model default)")->check(CLI::Range(0, 1000000));
  app.add_option("--threads", threads, "intra-op threads on both sides")->check(CLI::Range(0, 256));
  app.add_option("--models-dir", models_dir, "where bench_cnn.onnx / bench_micro.onnx are");
  app.add_option("--json", json_path, "also write the results as JSON here");
  app.add_option("--profile-calls", profile_calls,
                 "only make N calls per side in bench_profile_ours/raw (for callgrind), no timing")
      ->check(CLI::Range(0, 100000000));
  CLI11_PARSE(app, argc, argv);

  const double clock_ns = clock_read_ns();
  std::printf("ONNX Runtime %s, intra-op threads %d, hardware threads %u, steady_clock::now() %.1f ns\n",
              aegisrt::onnxruntime_version().c_str(), threads, std::thread::hardware_concurrency(), clock_ns);
  nlohmann::json report = {{"ort_version", aegisrt::onnxruntime_version()},
                           {"threads", threads},
                           {"clock_read_ns", clock_ns}};
  int rc = 0;
  try {
    Ort::Env env(ORT_LOGGING_LEVEL_WARNING, "bench_raw");
    for (const auto& c : kCases) {
      if (model != "all" && model != c.key) continue;
      rc |= run_case(c, models_dir, env, trials, rounds, block > 0 ? block : c.default_block, threads,
                     profile_calls, report);
    }
  } catch (const Ort::Exception& e) {
    std::fprintf(stderr, "raw ORT failed: %s\n", e.what());
    return 1;
  }
  if (!json_path.empty()) {
    if (auto w = aegisrt::write_file_atomic(json_path, report.dump(2) + "\n"); !w.ok()) {
      std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
      return 1;
    }
  }
  return rc;
}
