// Shared by the cache tests and cache_worker: the known artefact a test
// builder writes and a builder that counts its runs in a file (one line per
// build, appended with O_APPEND so concurrent processes cannot lose a count).
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "aegisrt/cache/artifact_cache.h"

namespace aegisrt::testing {

/// The artefact content is a function of the source bytes, so a test can
/// tell which source an artefact was built from.
inline std::string known_artifact(const std::string& source_bytes) {
  return "ARTEFACT v1\n" + source_bytes + "\n" + std::string(1000, 'x');
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;
}

inline void append_line(const std::filesystem::path& p, const std::string& line) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  const std::string l = line + "\n";
  (void)!::write(fd, l.data(), l.size());
  ::close(fd);
}

inline int count_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  int n = 0;
  for (std::string l; std::getline(in, l);) ++n;
  return n;
}

/// A builder writing known_artifact(source) to the output path, logging each
/// run to `count_file`, optionally sleeping to widen race windows.
inline BuilderFn counting_builder(std::filesystem::path count_file,
                                  std::chrono::milliseconds sleep = std::chrono::milliseconds(0)) {
  return [count_file = std::move(count_file), sleep](const BuildRequest& req) -> Result<BuildOutput> {
    append_line(count_file, std::to_string(::getpid()));
    req.progress("convert", 0.0);
    if (sleep.count() > 0) std::this_thread::sleep_for(sleep);
    req.progress("write", 0.5);
    spit(req.output_path, known_artifact(slurp(req.key.source_model)));
    req.progress("done", 1.0);
    BuildOutput out;
    out.extra["builder"] = "counting";
    return out;
  };
}

inline BuildEnvironment trt_env(std::string version = "10.16.0", std::string uuid = "GPU-aaaa",
                                std::string cc = "8.7") {
  BuildEnvironment e;
  e.backend_display_name = "TensorRT";
  e.backend_version = std::move(version);
  e.gpu_uuid = std::move(uuid);
  e.compute_capability = std::move(cc);
  e.gpu_name = "Test GPU";
  return e;
}

inline ArtifactKey trt_key(const std::filesystem::path& source) {
  ArtifactKey k;
  k.backend = "tensorrt";
  k.variant = "yolov8n";
  k.precision = "fp16";
  k.source_model = source;
  k.build_options = {{"profile", "images:1x3x640x640"}, {"target", "sm_87"}};
  return k;
}

}  // namespace aegisrt::testing
