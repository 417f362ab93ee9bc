// See run_video.h.
#include "run_video.h"

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "aegisrt/core/file_util.h"
#include "aegisrt/media/video.h"
#include "cli_common.h"

namespace aegisrt::cli {
namespace fs = std::filesystem;

namespace {

/// Where the annotated frames and their JSON lines go.
struct VideoOutput {
  fs::path video;  // becomes .mp4 when FFmpeg cannot write the input's container
  media::VideoWriterOptions options;
  std::optional<media::VideoWriter> writer;  // opened at the first frame (its size)
  std::string jsonl;
};

/// The writer for frames of `width` x `height`, falling back to mp4 for a
/// container FFmpeg cannot write.
Result<void> open_writer(VideoOutput& out, int width, int height) {
  auto w = media::VideoWriter::open(out.video, width, height, out.options);
  if (!w.ok() && w.error().code() != ErrorCode::IoError && out.video.extension() != ".mp4") {
    out.video.replace_extension(".mp4");  // container FFmpeg cannot write: fall back to mp4
    w = media::VideoWriter::open(out.video, width, height, out.options);
  }
  if (!w.ok()) return w.error();
  out.writer.emplace(std::move(w).value());
  return {};
}

/// One frame through the pipeline: annotated into the video, its JSON line
/// kept (and printed with --json).
Result<void> process_frame(pipeline::Pipeline& p, const vision::Image& image, const std::string& label,
                           VideoOutput& out, bool json) {
  AEGIS_ASSIGN_OR_RETURN(auto r, p.run(image, label));
  AEGIS_ASSIGN_OR_RETURN(auto annotated, p.annotate(image, r));
  if (!out.writer) AEGIS_TRY(open_writer(out, annotated.width(), annotated.height()));
  AEGIS_TRY(out.writer->write(annotated));
  const std::string line = p.to_json(r, -1);
  out.jsonl += line;
  out.jsonl += '\n';
  if (json) std::cout << line << "\n";
  return {};
}

}  // namespace

int run_video(const models::ModelCatalog& catalog, const pipeline::PipelineOptions& options,
              const VideoRunArgs& args) {
  auto reader = media::VideoReader::open(args.input);
  if (!reader.ok()) return report_error(reader.error().with_context("--input"));
  const media::VideoInfo info = reader->info();
  auto created = pipeline::Pipeline::create(catalog, options);
  if (!created.ok()) return report_error(created.error());
  auto& p = **created;
  std::error_code ec;
  fs::create_directories(args.output_dir, ec);
  if (ec) return report_error(Error(ErrorCode::IoError, "cannot create output folder " + quote_path(args.output_dir) + ": " + ec.message()));

  const std::string stem = args.input.stem().string();
  VideoOutput out;
  out.video = args.output_dir / (stem + ".annotated" + args.input.extension().string());
  const fs::path out_jsonl = args.output_dir / (stem + ".jsonl");
  out.options.fps = info.fps > 0.0 ? info.fps : 30.0;

  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t n = 0;
  int exit_code = kExitOk;
  const std::string total = info.frame_count > 0 ? std::to_string(info.frame_count) : "?";
  for (;;) {
    auto frame = reader->next();
    if (!frame.ok()) {
      exit_code = report_error(frame.error());
      break;
    }
    if (!frame->has_value()) break;
    const std::string label = args.input.filename().string() + "#" + std::to_string(n);
    if (auto done = process_frame(p, **frame, label, out, args.json); !done.ok()) {
      exit_code = report_error(done.error());
      break;
    }
    ++n;
    if (n % 25 == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cerr << fmt::format("{}: frame {}/{} ({:.1f} frames/s)\n", args.input.filename().string(), n, total,
                               s > 0 ? static_cast<double>(n) / s : 0.0);
    }
  }
  // Frames done before an error are kept: close the video and write the lines.
  if (out.writer) {
    if (auto c = out.writer->close(); !c.ok()) {
      const int rc = report_error(c.error());
      if (exit_code == kExitOk) exit_code = rc;
    }
  }
  if (auto w = write_file_atomic(out_jsonl, out.jsonl); !w.ok()) {
    const int rc = report_error(w.error());
    if (exit_code == kExitOk) exit_code = rc;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << fmt::format("{}: {} frames in {:.2f} s\n", args.input.filename().string(), n, s);
  if (!args.json) {
    std::cout << fmt::format("{}: {} frames ({:.3g} fps{}) -> {}, {}\n", args.input.string(), n, out.options.fps,
                             options.track ? ", tracked" : "", out.writer ? out.video.string() : "(no video)",
                             out_jsonl.string());
  }
  return exit_code;
}

}  // namespace aegisrt::cli
