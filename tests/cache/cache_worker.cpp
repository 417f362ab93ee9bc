// A separate process for the cache tests: builds (or crashes while building)
// one entry through ArtifactCache and prints the outcome.
//   cache_worker build DIR SOURCE COUNT_FILE SLEEP_MS   -> prints outcome, exit 0
//   cache_worker crash DIR SOURCE COUNT_FILE            -> aborts mid-build
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cache/cache_test_util.h"

int main(int argc, char** argv) {
  using namespace aegisrt;
  using namespace aegisrt::testing;
  if (argc < 5) {
    std::cerr << "usage: cache_worker build|crash DIR SOURCE COUNT_FILE [SLEEP_MS]\n";
    return 2;
  }
  const std::string mode = argv[1];
  ArtifactCache cache(argv[2]);
  const auto key = trt_key(argv[3]);
  BuilderFn builder;
  if (mode == "crash") {
    builder = [count = std::string(argv[4])](const BuildRequest& req) -> Result<BuildOutput> {
      append_line(count, "crash");
      // Half an artefact, then die the hard way (no unwinding, no cleanup).
      spit(req.output_path, known_artifact("half").substr(0, 100));
      std::abort();
    };
  } else {
    const int sleep_ms = argc > 5 ? std::atoi(argv[5]) : 0;
    builder = counting_builder(argv[4], std::chrono::milliseconds(sleep_ms));
  }
  auto r = cache.get_or_build(key, trt_env(), builder);
  if (!r.ok()) {
    std::cout << "error " << r.error().to_string() << "\n";
    return 1;
  }
  std::cout << to_string(r->outcome) << "\n";
  return 0;
}
