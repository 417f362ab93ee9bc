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
  fs::path out_video = args.output_dir / (stem + ".annotated" + args.input.extension().string());
  const fs::path out_jsonl = args.output_dir / (stem + ".jsonl");
  media::VideoWriterOptions wopt;
  wopt.fps = info.fps > 0.0 ? info.fps : 30.0;
  std::optional<media::VideoWriter> writer;

  const auto t0 = std::chrono::steady_clock::now();
  std::string jsonl;
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
    const vision::Image& image = **frame;
    auto r = p.run(image, args.input.filename().string() + "#" + std::to_string(n));
    if (!r.ok()) {
      exit_code = report_error(r.error());
      break;
    }
    auto annotated = p.annotate(image, *r);
    if (!annotated.ok()) {
      exit_code = report_error(annotated.error());
      break;
    }
    if (!writer) {
      auto w = media::VideoWriter::open(out_video, annotated->width(), annotated->height(), wopt);
      if (!w.ok() && w.error().code() != ErrorCode::IoError && out_video.extension() != ".mp4") {
        out_video.replace_extension(".mp4");  // container FFmpeg cannot write: fall back to mp4
        w = media::VideoWriter::open(out_video, annotated->width(), annotated->height(), wopt);
      }
      if (!w.ok()) {
        exit_code = report_error(w.error());
        break;
      }
      writer.emplace(std::move(w).value());
    }
    if (auto w = writer->write(*annotated); !w.ok()) {
      exit_code = report_error(w.error());
      break;
    }
    const std::string line = p.to_json(*r, -1);
    jsonl += line;
    jsonl += '\n';
    if (args.json) std::cout << line << "\n";
    ++n;
    if (n % 25 == 0) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cerr << fmt::format("{}: frame {}/{} ({:.1f} frames/s)\n", args.input.filename().string(), n, total,
                               s > 0 ? static_cast<double>(n) / s : 0.0);
    }
  }
  // Frames done before an error are kept: close the video and write the lines.
  if (writer) {
    if (auto c = writer->close(); !c.ok()) {
      const int rc = report_error(c.error());
      if (exit_code == kExitOk) exit_code = rc;
    }
  }
  if (auto w = write_file_atomic(out_jsonl, jsonl); !w.ok()) {
    const int rc = report_error(w.error());
    if (exit_code == kExitOk) exit_code = rc;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << fmt::format("{}: {} frames in {:.2f} s\n", args.input.filename().string(), n, s);
  if (!args.json) {
    std::cout << fmt::format("{}: {} frames ({:.3g} fps{}) -> {}, {}\n", args.input.string(), n, wopt.fps,
                             options.track ? ", tracked" : "", writer ? out_video.string() : "(no video)",
                             out_jsonl.string());
  }
  return exit_code;
}

}  // namespace aegisrt::cli
