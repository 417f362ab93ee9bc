// aegisrt run / aegisrt bench: the vision pipeline from the command line.
//   run   : annotated PNG + JSON per input image, one summary line per image.
//   bench : latency percentiles, throughput, per-stage split, cold vs warm
//           start, --json for machines, --histogram PNG for people.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "aegisrt/core/file_util.h"
#include "aegisrt/media/frame_source.h"
#include "aegisrt/models/catalog.h"
#include "aegisrt/pipeline/pipeline.h"
#include "aegisrt/tools/bench.h"
#include "aegisrt/vision/image.h"
#include "backend_pick.h"
#include "cli_common.h"
#include "run_video.h"

namespace aegisrt::cli {
namespace {

namespace fs = std::filesystem;

/// Flags shared by run and bench.
struct SelectionFlags {
  std::string model;
  std::string backend;  // empty: the first of the manifest's list that can run here
  std::string device;   // OpenVINO device (backend openvino only)
  std::string variant;
  std::string precision;
  std::string onnx;
  std::vector<std::string> part_onnx;  // NAME=FILE
  std::vector<std::string> model_data;
  std::string cache_dir;
  std::vector<std::string> backend_options;
  int threads = 0;
  std::optional<float> conf;
  std::optional<float> iou;
  std::optional<int> max_det;
  std::string device_path = "auto";
  std::string decode = "auto";
  bool allow_unlisted_backend = false;
  std::vector<std::string> points;  // --point x,y[,label]
  std::string box;                  // --box x0,y0,x1,y1
  std::string prompt;  // text-prompted models (grounding_dino)
  std::string task;    // Florence-2 task prompt (<CAPTION>, <OD>, ...)
  std::string text;    // Florence-2 task text (<CAPTION_TO_PHRASE_GROUNDING>)
  std::optional<int> num_beams;  // Florence-2 beam count (--num-beams; 1 = greedy)
};

void add_selection_flags(CLI::App* cmd, SelectionFlags& f) {
  cmd->add_option("-m,--model", f.model, "Model name from the catalog (aegisrt models)")->required();
  cmd->add_option("-b,--backend", f.backend,
                  "Backend: onnx (ONNX Runtime CPU), cuda, tensorrt, tvm, openvino, ... (default: the first "
                  "of the model's manifest list that this build and machine can run; printed on stderr)");
  cmd->add_option("--device", f.device,
                  "OpenVINO device for backend openvino: CPU (default), GPU, NPU, AUTO, GPU.1, ...");
  cmd->add_option("--variant", f.variant, "Model variant (default: the manifest's default_variant)");
  cmd->add_option("--prompt", f.prompt, "Text prompt of text-prompted models: grounding_dino's phrases (\"person . car .\")");
  cmd->add_option("--task", f.task,
                  "Florence-2 task prompt: <CAPTION>, <DETAILED_CAPTION>, <MORE_DETAILED_CAPTION>, <OCR>, <OD>, "
                  "<DENSE_REGION_CAPTION>, <CAPTION_TO_PHRASE_GROUNDING> (with --text), "
                  "<OPEN_VOCABULARY_DETECTION> (with --text)");
  cmd->add_option("--text", f.text, "Florence-2 task text, e.g. the phrases of <CAPTION_TO_PHRASE_GROUNDING>");
  cmd->add_option("--num-beams", f.num_beams,
                  "Florence-2 beam search width, 1 (greedy) to 16 (default: the manifest's "
                  "output.generation.num_beams, 3 for Florence-2)");
  cmd->add_option("-p,--precision", f.precision, "fp32, fp16 or int8 (default: fp32 if allowed)");
  cmd->add_option("--onnx", f.onnx, "ONNX file to use instead of the variant's own");
  cmd->add_option("--part-onnx", f.part_onnx,
                  "PART=FILE: ONNX file to use instead of a part's own, for multi-part models (repeatable), "
                  "e.g. detector=people.onnx for rtmpose");
  cmd->add_option("--model-data", f.model_data,
                  "Extra folder searched for the variant's ONNX file (repeatable; "
                  "$AEGISRT_MODEL_DATA and the build's models/ folder are searched too)");
  cmd->add_option("--cache-dir", f.cache_dir, "Compiled-artefact cache (TensorRT engines, TVM libraries)");
  add_lock_timeout_option(cmd);
  cmd->add_option("--backend-option", f.backend_options,
                  "KEY=VALUE passed to the backend (repeatable), e.g. intra_op_threads=2");
  cmd->add_option("--threads", f.threads, "ONNX Runtime intra-op threads (0 = its default)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--conf", f.conf, "Confidence threshold (default: the manifest's)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--iou", f.iou, "NMS IoU threshold (default: the manifest's)")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-det", f.max_det, "Maximum detections per image (default: the manifest's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--device-path", f.device_path,
                  "auto: pre-process on the GPU into a device input when the backend reads device inputs "
                  "(cuda, tensorrt, tvm on CUDA); off: always on the CPU; require: fail unless on the GPU")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "off", "require"}));
  cmd->add_option("--decode", f.decode,
                  "Where JPEGs are decoded. auto: on the GPU with nvJPEG, straight into device memory, when "
                  "the device path is on and this build has nvJPEG (PNGs and JPEGs nvJPEG leaves out: on the "
                  "CPU); cpu: always libjpeg-turbo on the CPU; gpu: fail unless nvJPEG can be used; gpu-hw: as gpu, "
                  "with the GPU's hardware JPEG engine (A100/H100 class) for the colour JPEGs it takes")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "cpu", "gpu", "gpu-hw"}));
  cmd->add_flag("--allow-unlisted-backend", f.allow_unlisted_backend,
               "Run on --backend even when the model's manifest does not list it (e.g. segment_anything, "
               "listed for cuda only, on onnx/CPU); says so on stderr");
  cmd->add_option("--point", f.points,
                  "Segment Anything prompt point x,y[,label] in image pixels (label 1 = foreground, the "
                  "default, 0 = background; repeatable). Points and --box form one prompt");
  cmd->add_option("--box", f.box, "Segment Anything prompt box x0,y0,x1,y1 in image pixels");
}

/// Folders where a build or an install keeps generated model files.
std::vector<fs::path> default_model_data_dirs() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path bin = exe.parent_path();
    dirs.push_back(bin.parent_path().parent_path() / "models");  // <build>/tools/aegisrt/aegisrt
    dirs.push_back(bin.parent_path() / "share" / "aegisrt" / "model_data");  // <prefix>/bin/aegisrt
  }
  return dirs;
}

/// The catalog the selection is made from (--models-dir, $AEGISRT_MODELS_DIR, ...).
Result<models::ModelCatalog> load_catalog(const CliContext& ctx) {
  AEGIS_ASSIGN_OR_RETURN(auto dir, models::resolve_models_directory(ctx.models_dir));
  return models::ModelCatalog::load_directory(dir.path);
}

Result<pipeline::PipelineOptions> to_options(const SelectionFlags& f, const models::ModelCatalog& catalog) {
  pipeline::PipelineOptions o;
  o.model = f.model;
  o.backend = f.backend;
  if (o.backend.empty()) {
    // No --backend: the manifest's list decides, first runnable entry wins.
    AEGIS_ASSIGN_OR_RETURN(const models::ModelManifest* m, catalog.get(f.model));
    AEGIS_ASSIGN_OR_RETURN(const models::BackendPick pick, pick_backend_for(*m));
    std::cerr << "backend: " << describe_pick(*m, pick) << "\n";
    o.backend = pick.backend;
  }
  if (!f.device.empty()) {
    if (o.backend != "openvino") {
      return Error(ErrorCode::InvalidArgument, "--device names an OpenVINO device and applies to backend openvino "
                                               "only (backend is " + o.backend + ", whose name sets its device)");
    }
    o.backend_options["device"] = f.device;
  }
  o.variant = f.variant;
  o.precision = f.precision;
  o.onnx = f.onnx;
  for (const auto& kv : f.part_onnx) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
      return Error(ErrorCode::InvalidArgument, "--part-onnx '" + kv + "' is not PART=FILE (e.g. detector=people.onnx)");
    }
    o.part_onnx[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& d : f.model_data) o.model_data_dirs.emplace_back(d);
  for (auto& d : default_model_data_dirs()) o.model_data_dirs.push_back(std::move(d));
  o.cache_dir = f.cache_dir;
  for (const auto& kv : f.backend_options) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error(ErrorCode::InvalidArgument,
                   "--backend-option '" + kv + "' is not KEY=VALUE (e.g. intra_op_threads=2)");
    }
    o.backend_options[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  if (f.threads > 0) o.backend_options["intra_op_threads"] = std::to_string(f.threads);
  o.confidence_threshold = f.conf;
  o.iou_threshold = f.iou;
  o.max_detections = f.max_det;
  AEGIS_ASSIGN_OR_RETURN(o.device_path, pipeline::parse_device_path_mode(f.device_path));
  AEGIS_ASSIGN_OR_RETURN(o.decode, pipeline::parse_decode_mode(f.decode));
  for (const auto& p : f.points) {
    AEGIS_ASSIGN_OR_RETURN(auto point, pipeline::parse_prompt_point(p));
    o.prompt_points.push_back(point);
  }
  if (!f.box.empty()) {
    AEGIS_ASSIGN_OR_RETURN(o.prompt_box, pipeline::parse_prompt_box(f.box));
  }
  o.allow_unlisted_backend = f.allow_unlisted_backend;  // the pipeline warns on stderr when it is used
  if (!f.prompt.empty() && !f.text.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 "give the text once: --prompt (grounding_dino's phrases) or --text (Florence-2's task text)", "--text");
  }
  o.prompt = f.text.empty() ? f.prompt : f.text;
  o.task = f.task;
  o.num_beams = f.num_beams;
  return o;
}

std::string summary_line(const pipeline::Pipeline& p, const pipeline::FrameResult& r) {
  std::string what;
  const auto& names = p.info().class_names;
  const auto name_of = [&](int id) {
    return id >= 0 && static_cast<std::size_t>(id) < names.size() ? names[static_cast<std::size_t>(id)]
                                                                   : "class_" + std::to_string(id);
  };
  if (const auto* gen = std::get_if<pipeline::GenerationResult>(&r.output)) {
    if (gen->boxes.empty()) {
      what = fmt::format("{} \"{}\"", gen->task, gen->text);
    } else {
      std::string labels;
      for (const auto& l : gen->labels) labels += fmt::format("{}'{}'", labels.empty() ? "" : ", ", l);
      what = fmt::format("{} {} boxes ({})", gen->task, gen->boxes.size(), labels);
    }
  } else if (const auto* sam = std::get_if<pipeline::SamResult>(&r.output)) {
    std::string areas;
    for (const auto& m : sam->masks) areas += fmt::format("{}{} px", areas.empty() ? "" : ", ", m.area);
    what = fmt::format("{} masks ({})", sam->masks.size(), areas);
  } else if (const auto* depth = r.depth()) {
    what = fmt::format("depth {:.3g}..{:.3g} ({})", depth->min_value, depth->max_value, depth->color_map);
  } else if (!r.keypoints().empty()) {
    int found = 0;
    for (const auto& k : r.keypoints()) found += k.x >= 0.0f ? 1 : 0;
    what = fmt::format("{}/{} keypoints", found, r.keypoints().size());
  } else if (!r.tracks().empty() || r.detections().empty()) {
    what = r.tracks().empty() ? fmt::format("{} detections", r.detections().size())
                            : fmt::format("{} tracks", r.tracks().size());
  } else {
    std::map<std::string, int> counts;
    const auto* det = std::get_if<pipeline::DetectionResult>(&r.output);
    const bool phrases = det != nullptr && det->labels.size() == det->detections.size();  // grounding_dino
    for (std::size_t i = 0; i < r.detections().size(); ++i) {
      counts[phrases ? "'" + det->labels[i] + "'" : name_of(r.detections()[i].class_id)]++;
    }
    std::string per_class;
    for (const auto& [n, c] : counts) per_class += fmt::format("{}{} {}", per_class.empty() ? "" : ", ", c, n);
    what = fmt::format("{} detections ({})", r.detections().size(), per_class);
  }
  const auto& t = r.timings;
  return fmt::format("{}: {}x{}, {} in {:.1f} ms (decode {:.1f}, pre {:.1f}, execute {:.1f}, post {:.1f})",
                     fs::path(r.source).filename().string(), r.width, r.height, what, to_ms(t.total()),
                     to_ms(t.decode), to_ms(t.preprocess), to_ms(t.execute), to_ms(t.postprocess));
}

Result<void> ensure_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    return Error(ErrorCode::IoError, "cannot create output folder '" + dir.string() + "': " +
                                         (ec ? ec.message() : std::string("not a folder")));
  }
  return {};
}

// ---------------------------------------------------------------- run

struct RunFlags {
  SelectionFlags sel;
  std::string input;
  std::string output = "aegisrt_out";
  bool json = false;
  bool track = false;
  bool no_exif_rotate = false;
};

int do_run(const RunFlags& f, CliContext& ctx) {
  auto catalog = load_catalog(ctx);
  if (!catalog.ok()) return report_error(catalog.error());
  auto opts = to_options(f.sel, *catalog);
  if (!opts.ok()) return report_error(opts.error());
  opts->track = f.track;
  opts->apply_exif_orientation = !f.no_exif_rotate;
  if (media::has_video_extension(f.input)) {  // video in/out: run_video.cpp
    return run_video(*catalog, *opts, VideoRunArgs{f.input, f.output, f.json});
  }
  vision::DecodeOptions decode_options;
  decode_options.apply_exif_orientation = !f.no_exif_rotate;
  auto images = pipeline::list_images(f.input);
  if (!images.ok()) return report_error(images.error().with_context("--input"));
  auto created = pipeline::Pipeline::create(*catalog, *opts);
  if (!created.ok()) return report_error(created.error());
  auto& p = **created;
  if (auto d = ensure_dir(f.output); !d.ok()) return report_error(d.error());

  int exit_code = kExitOk;
  std::vector<std::string> json_docs;
  for (const auto& path : *images) {
    const auto fail = [&](const Error& e) {
      const int rc = report_error(e);
      if (exit_code == kExitOk) exit_code = rc;
    };
    const auto t0 = Clock::now();
    Result<pipeline::FrameResult> r = Error(ErrorCode::Internal, "not run");
    Result<vision::Image> image = vision::Image();
    if (p.info().decoder == "nvjpeg") {
      // GPU decode (--decode): the pipeline decodes the file's JPEG bytes on the
      // GPU; the annotation still needs host pixels, decoded on the CPU after
      // the timed run (not part of the result's timings).
      auto bytes = read_file(path, "image file", vision::kMaxImageFileBytes);
      if (!bytes.ok()) {
        fail(bytes.error());
        continue;
      }
      const Duration read = std::chrono::duration_cast<Duration>(Clock::now() - t0);
      const auto span = std::as_bytes(std::span<const char>(*bytes));
      r = p.run_encoded(span, path.string());
      if (r.ok()) r->timings.decode += read;  // as run_file: reading the file counts as decode
      if (r.ok()) image = vision::decode_image(span, path.string(), decode_options);
    } else {
      image = vision::load_image(path, decode_options);
      if (!image.ok()) {
        fail(image.error());
        continue;
      }
      const Duration decode = std::chrono::duration_cast<Duration>(Clock::now() - t0);
      r = p.run(*image, path.string());
      if (r.ok()) r->timings.decode = decode;
    }
    if (!r.ok()) {
      fail(r.error());
      continue;
    }
    if (!image.ok()) {
      fail(image.error());
      continue;
    }
    auto annotated = p.annotate(*image, *r);
    if (!annotated.ok()) {
      fail(annotated.error());
      continue;
    }
    const std::string stem = path.stem().string();
    const fs::path png = fs::path(f.output) / (stem + ".annotated.png");
    const fs::path json = fs::path(f.output) / (stem + ".json");
    const std::string doc = p.to_json(*r);
    if (auto w = vision::save_png(*annotated, png); !w.ok()) {
      fail(w.error());
      continue;
    }
    if (auto w = write_file_atomic(json, doc + "\n"); !w.ok()) {
      fail(w.error());
      continue;
    }
    if (f.json) {
      json_docs.push_back(p.to_json(*r, -1));
    } else {
      std::cout << summary_line(p, *r) << " -> " << png.string() << ", " << json.string() << "\n";
    }
  }
  if (f.json) {
    if (json_docs.size() == 1 && images->size() == 1) {
      std::cout << json_docs.front() << "\n";
    } else {
      std::cout << "[";
      for (std::size_t i = 0; i < json_docs.size(); ++i) std::cout << (i ? ",\n" : "\n") << json_docs[i];
      std::cout << "\n]\n";
    }
  }
  return exit_code;
}

// ---------------------------------------------------------------- bench

struct BenchFlags {
  SelectionFlags sel;
  std::string input;
  int iterations = 100;
  int warmup = 10;
  int prefetch = 0;
  int streams = 1;
  int batch = 1;
  bool json = false;
  std::string histogram;
};

/// A deterministic 640x480 test picture (gradient + pattern) for bench without --input.
Result<fs::path> synthetic_image() {
  AEGIS_ASSIGN_OR_RETURN(vision::Image img, vision::Image::create(640, 480, 3));
  std::uint32_t state = 12345u;
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      state = state * 1664525u + 1013904223u;
      const int noise = static_cast<int>((state >> 24) % 17) - 8;
      std::uint8_t* px = img.at(x, y);
      px[0] = static_cast<std::uint8_t>(std::clamp(x * 255 / 640 + noise, 0, 255));
      px[1] = static_cast<std::uint8_t>(std::clamp(y * 255 / 480 + noise, 0, 255));
      px[2] = static_cast<std::uint8_t>(std::clamp(((x / 40 + y / 40) % 2) * 160 + noise + 40, 0, 255));
    }
  }
  std::error_code ec;
  const fs::path dir = fs::temp_directory_path(ec);
  if (ec) return Error(ErrorCode::IoError, "no temporary folder for the synthetic bench image: " + ec.message());
  // Unique per process and thread (file_util), with the .png the decoder expects.
  fs::path path = unique_temp_path(dir / "aegisrt_bench");
  path += ".png";
  AEGIS_TRY(vision::save_png(img, path));
  return path;
}

int do_bench(const BenchFlags& f, CliContext& ctx) {
  auto catalog = load_catalog(ctx);
  if (!catalog.ok()) return report_error(catalog.error());
  auto opts = to_options(f.sel, *catalog);
  if (!opts.ok()) return report_error(opts.error());
  std::vector<fs::path> images;
  std::optional<fs::path> temp;
  if (!f.input.empty()) {
    auto listed = pipeline::list_images(f.input);
    if (!listed.ok()) return report_error(listed.error().with_context("--input"));
    images = std::move(*listed);
  } else {
    auto synth = synthetic_image();
    if (!synth.ok()) return report_error(synth.error());
    temp = *synth;
    images.push_back(*synth);
  }
  struct Cleanup {
    std::optional<fs::path>& p;
    ~Cleanup() {
      std::error_code ec;
      if (p) fs::remove(*p, ec);
    }
  } cleanup{temp};

  auto created = pipeline::Pipeline::create(*catalog, *opts);
  if (!created.ok()) return report_error(created.error());
  auto& p = **created;
  auto report = tools::run_bench(p, images, {f.iterations, f.warmup, f.prefetch, f.streams, f.batch});
  if (!report.ok()) return report_error(report.error());
  if (f.json) {
    std::cout << tools::bench_to_json(*report, p.info()) << "\n";
  } else {
    std::cout << tools::bench_to_text(*report, p.info());
  }
  if (!f.histogram.empty()) {
    const std::string title = fmt::format("aegisrt bench {}/{} on {} ({} images)", p.info().model,
                                          p.info().variant, p.info().backend, report->iterations);
    auto hist = tools::draw_latency_histogram(report->total_samples_ms, title);
    if (!hist.ok()) return report_error(hist.error());
    const fs::path out(f.histogram);
    if (out.has_parent_path()) {
      if (auto d = ensure_dir(out.parent_path()); !d.ok()) return report_error(d.error());
    }
    if (auto w = vision::save_png(*hist, out); !w.ok()) return report_error(w.error());
    (f.json ? std::cerr : std::cout) << "histogram: " << out.string() << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_pipeline_commands(CLI::App& app, CliContext& ctx) {
  {
    auto flags = std::make_shared<RunFlags>();
    auto* cmd = app.add_subcommand(
        "run", "Run a model on an image or a folder of images: writes an annotated PNG and a JSON "
               "file per image and prints one summary line per image");
    add_selection_flags(cmd, flags->sel);
    cmd->add_option("-i,--input", flags->input, "Image file (PNG/JPEG), folder of images, or video file (mp4, mkv, avi, mov, webm, ...)")->required();
    cmd->add_option("-o,--output", flags->output, "Output folder")->capture_default_str();
    cmd->add_flag("--json", flags->json, "Print the JSON results on stdout instead of summary lines");
    cmd->add_flag("--track", flags->track,
                  "Track objects across the images (ByteTrack; a folder is taken as a video's "
                  "frames in name order)");
    cmd->add_flag("--no-exif-rotate", flags->no_exif_rotate,
                  "Keep JPEGs in stored pixel order instead of rotating them by their EXIF "
                  "orientation (the JSON still reports the tag)");
    cmd->footer(
        "Exit codes: 0 ok; 2 bad flags; 3 invalid selection or input (unknown model, unsupported "
        "backend/precision, missing image or ONNX file); 4 runtime error (corrupt image, backend "
        "failure, unwritable output).\n"
        "Example: aegisrt run --model yolo --variant demo --input demo_shapes.png --output out/demo");
    cmd->callback([flags, &ctx] { ctx.exit_code = do_run(*flags, ctx); });
  }
  {
    auto flags = std::make_shared<BenchFlags>();
    auto* cmd = app.add_subcommand(
        "bench", "Benchmark the whole pipeline (decode, pre-process, execute, post-process): "
                 "latency percentiles, throughput, stage split, cold vs warm start");
    add_selection_flags(cmd, flags->sel);
    cmd->add_option("-i,--input", flags->input,
                    "Image file or folder (default: a synthetic 640x480 picture)");
    cmd->add_option("-n,--iterations", flags->iterations, "Timed images")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--warmup", flags->warmup, "Untimed images first (the first is the cold run)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--prefetch", flags->prefetch,
                    "Decode up to N images ahead on a helper thread (stream mode; 0 = one image at a time)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--streams", flags->streams,
                    "Run N pipelines over one loaded model, one thread each (aggregate throughput; "
                    "not with --prefetch)")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    cmd->add_option("--batch", flags->batch,
                    "Run N images per execute through Pipeline::run_batch (images/s still per image; "
                    "needs a dynamic-batch export; not with --prefetch or --streams)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    cmd->add_flag("--json", flags->json, "Print the report as JSON");
    cmd->add_option("--histogram", flags->histogram, "Write a PNG latency histogram to this file");
    cmd->footer(
        "Exit codes: 0 ok; 2 bad flags; 3 invalid selection or input; 4 runtime error.\n"
        "Example: aegisrt bench --model yolo --variant demo --iterations 200 --histogram lat.png");
    cmd->callback([flags, &ctx] { ctx.exit_code = do_bench(*flags, ctx); });
  }
}

}  // namespace aegisrt::cli
