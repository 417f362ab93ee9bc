// What the cache adds to a load: hashing the source model and, on a hit,
// checking the artefact's size and SHA-256.
//   bench_cache [--benchmark_* flags]
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/cache/sha256.h"

namespace fs = std::filesystem;
using namespace aegisrt;

namespace {

void BM_Sha256(benchmark::State& state) {
  const std::string data(static_cast<std::size_t>(state.range(0)), 'a');
  for (auto _ : state) benchmark::DoNotOptimize(sha256_hex(data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

// A hit on an artefact of range(0) bytes; range(1) = verify checksum.
void BM_LookupHit(benchmark::State& state) {
  const fs::path root = fs::temp_directory_path() / ("aegisrt_bench_cache_" + std::to_string(::getpid()));
  fs::create_directories(root);
  const fs::path source = root / "model.onnx";
  std::ofstream(source, std::ios::binary) << std::string(1 << 20, 'm');  // a 1 MiB "model"
  CacheOptions opts;
  opts.verify_checksum = state.range(1) != 0;
  ArtifactCache cache(root / "cache", opts);
  ArtifactKey key;
  key.backend = "tensorrt";
  key.variant = "bench";
  key.precision = "fp16";
  key.source_model = source;
  BuildEnvironment env{"TensorRT", "10.16.0", "GPU-x", "9.0", ""};
  const auto size = static_cast<std::size_t>(state.range(0));
  auto built = cache.get_or_build(key, env, [size](const BuildRequest& r) -> Result<BuildOutput> {
    std::ofstream(r.output_path, std::ios::binary) << std::string(size, 'e');
    return BuildOutput{};
  });
  if (!built.ok()) {
    state.SkipWithError(built.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    auto l = cache.lookup(key, env);
    if (!l.ok() || l->status != LookupStatus::Hit) {
      state.SkipWithError("not a hit");
      break;
    }
  }
  fs::remove_all(root);
}
BENCHMARK(BM_LookupHit)
    ->Args({1 << 20, 0})->Args({1 << 20, 1})
    ->Args({64 << 20, 0})->Args({64 << 20, 1})
    ->ArgNames({"bytes", "checksum"})->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
