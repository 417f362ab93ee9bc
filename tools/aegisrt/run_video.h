// `aegisrt run --input clip.mp4`: the per-frame video loop (decode with
// media::VideoReader, run the Pipeline frame by frame, annotate, encode with
// media::VideoWriter, one JSON line per frame). Hooked from cmd_pipeline.cpp.
#pragma once

#include <filesystem>

#include "aegisrt/models/catalog.h"
#include "aegisrt/pipeline/pipeline.h"

namespace aegisrt::cli {

struct VideoRunArgs {
  std::filesystem::path input;
  std::filesystem::path output_dir;
  bool json = false;  // print each frame's JSON line on stdout too
};

/// Writes <output_dir>/<stem>.annotated.<ext> (same container as the input
/// where FFmpeg can write it, else .mp4) and <output_dir>/<stem>.jsonl, one
/// JSON object per frame; progress on stderr. A decode error part-way keeps
/// (and writes) the frames before it and returns the runtime exit code.
int run_video(const models::ModelCatalog& catalog, const pipeline::PipelineOptions& options,
              const VideoRunArgs& args);

}  // namespace aegisrt::cli
