// Pipeline: manifest -> selection -> backend + ExecutionContext -> per image
// decode, pre-process, execute, post-process, annotate, JSON.
#include "aegisrt/pipeline/pipeline.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "aegisrt/backend/registry.h"
#include "aegisrt/models/backend_vocabulary.h"
#include "aegisrt/vision/draw.h"

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using models::OutputLayout;
using models::OutputType;

Duration since(TimePoint t0) { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string out;
  for (const auto& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// What the pipeline can post-process; anything else is refused at create().
Result<void> check_output_supported(const models::ResolvedVariant& rv) {
  const auto& out = rv.output;
  const std::string who = rv.model + "/" + rv.variant;
  if (rv.input.type == models::InputType::Detections) {
    return Error(ErrorCode::Unsupported,
                 who + " consumes detections, not images: it is the tracker itself; run a "
                       "detector with tracking instead, e.g. `aegisrt run --model yolo --track "
                       "--input FRAMES_DIR`");
  }
  switch (out.layout) {
    case OutputLayout::YoloV8:
    case OutputLayout::RelativeInverseDepth:
    case OutputLayout::MetricDepth:
    case OutputLayout::SimCC:
      return {};
    default:
      return Error(ErrorCode::Unsupported,
                   "the pipeline cannot post-process " + who + "'s output (type " +
                       std::string(models::to_string(out.type)) + ", layout " +
                       std::string(models::to_string(out.layout)) +
                       "); supported layouts: yolov8 (detections), relative_inverse_depth and "
                       "metric_depth (depth_map), simcc (keypoints). Use `aegisrt exec` to run "
                       "the raw model");
  }
}

/// Where the variant's ONNX is; NotFound says where we looked and how to get one.
Result<fs::path> locate_onnx(const models::ModelManifest& manifest, const models::Selection& sel,
                             const PipelineOptions& options) {
  if (!options.onnx.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(options.onnx, ec)) {
      return Error(ErrorCode::NotFound, "ONNX file '" + options.onnx.string() + "' does not exist",
                   "--onnx");
    }
    return options.onnx;
  }
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("AEGISRT_MODEL_DATA"); env != nullptr && *env != '\0') {
    dirs.emplace_back(env);
  }
  dirs.insert(dirs.end(), options.model_data_dirs.begin(), options.model_data_dirs.end());
  auto found = manifest.find_onnx(sel.variant, dirs);
  if (found.ok()) return found;
  // A file that is there but wrong (SHA-256 pin mismatch, a FIFO, a link
  // loop) keeps its own code: it is not "missing".
  if (found.error().code() != ErrorCode::NotFound) return found.error().with_context("locating the model file");
  std::string msg = "no ONNX file for " + sel.model + " variant '" + sel.variant + "': " +
                    found.error().message();
  if (!manifest.source.export_command.empty()) {
    msg += ". To get it, export the weights to ONNX (" + manifest.source.export_command +
           ") and pass the file with --onnx PATH or put it in one of the folders above";
  } else {
    msg += ". Pass an ONNX file with --onnx PATH";
  }
  if (!manifest.source.weights.empty()) msg += " (weights: " + manifest.source.weights + ")";
  return Error(ErrorCode::NotFound, msg, "locating the model file");
}

bool is_image_file(const fs::path& p) {
  const std::string ext = lower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

}  // namespace

Result<vision::PreprocessConfig> make_preprocess_config(const models::InputSpec& input,
                                                        std::string_view model) {
  const std::string who(model);
  if (input.type != models::InputType::Image) {
    return Error(ErrorCode::Unsupported,
                 who + ": input.type " + std::string(models::to_string(input.type)) +
                     " is not an image; the pipeline feeds images only");
  }
  if (!input.preprocessing) {
    return Error(ErrorCode::Unsupported, who + ": the manifest has no input.preprocessing section");
  }
  const auto& pre = *input.preprocessing;
  vision::PreprocessConfig cfg;
  switch (input.color_format) {
    case models::ColorFormat::RGB: cfg.color_order = vision::ColorOrder::RGB; break;
    case models::ColorFormat::BGR: cfg.color_order = vision::ColorOrder::BGR; break;
    case models::ColorFormat::Gray:
      return Error(ErrorCode::Unsupported,
                   who + ": input.color_format gray is not supported by the pipeline's "
                         "pre-processing (rgb, bgr)");
  }
  if (pre.resize == models::ResizeMethod::Letterbox && pre.pad_position != models::PadPosition::Center) {
    return Error(ErrorCode::Unsupported,
                 who + ": input.preprocessing.pad_position " +
                     std::string(models::to_string(pre.pad_position)) +
                     " is not supported (the letterbox centres the image)");
  }
  cfg.width = pre.size.width;
  cfg.height = pre.size.height;
  cfg.resize = pre.resize == models::ResizeMethod::Letterbox ? vision::ResizeMode::Letterbox
                                                             : vision::ResizeMode::Stretch;
  if (pre.pad_value < 0 || pre.pad_value > 255) {
    return Error(ErrorCode::InvalidArgument,
                 who + ": input.preprocessing.pad_value " + std::to_string(pre.pad_value) +
                     " is outside 0..255");
  }
  cfg.pad_value = static_cast<std::uint8_t>(pre.pad_value);
  cfg.scale = static_cast<float>(pre.normalize.scale);
  const auto fill3 = [&](const std::vector<double>& v, float dflt, std::string_view field,
                         std::array<float, 3>& dst) -> Result<void> {
    if (v.empty()) {
      dst = {dflt, dflt, dflt};
      return {};
    }
    if (v.size() == 1) {
      dst = {static_cast<float>(v[0]), static_cast<float>(v[0]), static_cast<float>(v[0])};
      return {};
    }
    if (v.size() != 3) {
      return Error(ErrorCode::Unsupported, who + ": input.preprocessing.normalize." +
                                               std::string(field) + " has " +
                                               std::to_string(v.size()) + " values, expected 3");
    }
    dst = {static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[2])};
    return {};
  };
  AEGIS_TRY(fill3(pre.normalize.mean, 0.0f, "mean", cfg.mean));
  AEGIS_TRY(fill3(pre.normalize.stddev, 1.0f, "std", cfg.std));
  cfg.layout = pre.layout == models::Layout::NCHW ? vision::Layout::NCHW : vision::Layout::NHWC;
  AEGIS_TRY(cfg.validate().or_else([&](Error e) -> Result<void> { return e.with_context(who); }));
  return cfg;
}

Result<std::vector<fs::path>> list_images(const fs::path& file_or_dir) {
  std::error_code ec;
  if (!fs::exists(file_or_dir, ec)) {
    return Error(ErrorCode::NotFound, "input '" + file_or_dir.string() + "' does not exist");
  }
  if (!fs::is_directory(file_or_dir, ec)) return std::vector<fs::path>{file_or_dir};
  std::vector<fs::path> images;
  for (const auto& entry : fs::directory_iterator(file_or_dir, ec)) {
    if (entry.is_regular_file(ec) && is_image_file(entry.path())) images.push_back(entry.path());
  }
  if (ec) {
    return Error(ErrorCode::IoError, "cannot list folder '" + file_or_dir.string() + "': " + ec.message());
  }
  if (images.empty()) {
    return Error(ErrorCode::InvalidArgument,
                 "folder '" + file_or_dir.string() + "' has no .png, .jpg, .jpeg or .bmp images");
  }
  std::sort(images.begin(), images.end());
  return images;
}

Pipeline::~Pipeline() = default;

Result<std::unique_ptr<Pipeline>> Pipeline::create(const PipelineOptions& options,
                                                   const fs::path& models_dir) {
  AEGIS_ASSIGN_OR_RETURN(auto dir, models::resolve_models_directory(models_dir.string()));
  AEGIS_ASSIGN_OR_RETURN(auto catalog, models::ModelCatalog::load_directory(dir.path));
  return create(catalog, options);
}

Result<std::unique_ptr<Pipeline>> Pipeline::create(const models::ModelCatalog& catalog,
                                                   const PipelineOptions& options) {
  const TimePoint t0 = Clock::now();
  if (options.model.empty()) {
    return Error(ErrorCode::InvalidArgument, "no model given; known models: " + join(catalog.names()));
  }
  AEGIS_ASSIGN_OR_RETURN(const models::Selection sel,
                         catalog.validate_selection(options.model, options.backend, options.variant,
                                                    options.precision));
  AEGIS_ASSIGN_OR_RETURN(const models::ModelManifest* manifest, catalog.get(sel.model));
  AEGIS_ASSIGN_OR_RETURN(const models::ResolvedVariant rv, manifest->resolve(sel.variant));
  AEGIS_TRY(check_output_supported(rv));
  AEGIS_ASSIGN_OR_RETURN(const vision::PreprocessConfig pre,
                         make_preprocess_config(rv.input, rv.model + "/" + rv.variant));
  AEGIS_ASSIGN_OR_RETURN(const models::BackendBinding binding, models::bind_backend(sel.backend));
  if (binding.registry_name.empty()) {
    return Error(ErrorCode::Unsupported,
                 "backend '" + sel.backend + "' runs built-in C++ code, not models; choose an "
                 "inference backend for " + sel.model + " (" + join(manifest->backends) + ")");
  }
  AEGIS_ASSIGN_OR_RETURN(fs::path onnx, locate_onnx(*manifest, sel, options));

  auto p = std::unique_ptr<Pipeline>(new Pipeline());
  PipelineInfo& info = p->info_;
  info.model = sel.model;
  info.variant = sel.variant;
  info.backend = sel.backend;
  info.runtime_backend = binding.registry_name;
  if (auto it = binding.backend_options.find("provider"); it != binding.backend_options.end()) {
    info.provider = it->second;
  }
  info.precision = std::string(to_string(sel.precision));
  info.onnx_path = onnx;
  info.output_type = rv.output.type;
  info.output_layout = rv.output.layout;
  info.class_names = rv.output.class_names;
  info.preprocess = pre;
  info.memory_budget_bytes = sel.device_memory_bytes;
  p->post_ = rv.postprocessing;
  p->track_ = options.track;
  p->apply_exif_ = options.apply_exif_orientation;
  for (const auto& f : rv.output.fields) p->output_names_.push_back(f.name);
  if (options.track && rv.output.type != OutputType::Detections) {
    return Error(ErrorCode::Unsupported, "--track needs a detection model; " + sel.model +
                                             " outputs " + std::string(models::to_string(rv.output.type)));
  }

  auto& y = p->yolo_;
  if (rv.postprocessing.confidence_threshold) y.conf_threshold = static_cast<float>(*rv.postprocessing.confidence_threshold);
  if (rv.postprocessing.nms_iou_threshold) y.iou_threshold = static_cast<float>(*rv.postprocessing.nms_iou_threshold);
  if (rv.postprocessing.max_detections) y.max_detections = *rv.postprocessing.max_detections;
  if (options.confidence_threshold) y.conf_threshold = *options.confidence_threshold;
  if (options.iou_threshold) y.iou_threshold = *options.iou_threshold;
  if (options.max_detections) y.max_detections = *options.max_detections;
  if (!(y.conf_threshold >= 0.0f && y.conf_threshold <= 1.0f) ||
      !(y.iou_threshold >= 0.0f && y.iou_threshold <= 1.0f)) {
    return Error(ErrorCode::InvalidArgument, "confidence and IoU thresholds must be within [0, 1]");
  }
  if (options.track) {
    vision::ByteTrackConfig tc;
    const auto& pp = rv.postprocessing;
    if (pp.track_high_threshold) tc.track_high_thresh = static_cast<float>(*pp.track_high_threshold);
    if (pp.track_low_threshold) tc.track_low_thresh = static_cast<float>(*pp.track_low_threshold);
    if (pp.new_track_threshold) tc.new_track_thresh = static_cast<float>(*pp.new_track_threshold);
    if (pp.match_threshold) tc.match_thresh = static_cast<float>(*pp.match_threshold);
    if (pp.track_buffer) tc.max_age = *pp.track_buffer;
    // Low-score detections feed ByteTrack's second association.
    p->report_conf_ = y.conf_threshold;
    y.conf_threshold = std::min(y.conf_threshold, tc.track_low_thresh);
    p->tracker_ = std::make_unique<vision::ByteTracker>(tc);
  }

  AEGIS_ASSIGN_OR_RETURN(auto backend, BackendFactory::create(binding.registry_name));
  ContextBudget budget;
  budget.device_memory_bytes = sel.device_memory_bytes;
  budget.max_streams = 1;
  budget.compute_time_per_call = options.call_time_budget;
  AEGIS_ASSIGN_OR_RETURN(p->context_,
                         ExecutionContext::create(ModelId(sel.model), budget, std::move(backend)));

  LoadOptions load;
  load.artifact_path = onnx;
  load.device = binding.device;
  load.precision = sel.precision;
  load.cache_dir = options.cache_dir;
  load.variant = sel.variant;
  load.backend_options = binding.backend_options;
  for (const auto& [k, v] : options.backend_options) load.backend_options[k] = v;
  AEGIS_TRY(p->context_->load(load).or_else([&](Error e) -> Result<void> {
    return e.with_context("loading " + sel.model + "/" + sel.variant + " (" + onnx.string() +
                          ") on backend " + sel.backend);
  }));

  // The model must take what the manifest's pre-processing makes.
  const auto inputs = p->context_->backend().input_specs();
  if (inputs.empty()) {
    return Error(ErrorCode::InvalidArgument, "model '" + onnx.string() + "' declares no inputs");
  }
  const TensorDesc* bound = &inputs.front();
  if (!rv.input.tensor_name.empty()) {
    auto it = std::find_if(inputs.begin(), inputs.end(),
                           [&](const TensorDesc& d) { return d.name == rv.input.tensor_name; });
    if (it != inputs.end()) {
      bound = &*it;
    } else if (inputs.size() == 1) {
      // Exports name their input freely ("images", "input", "x"); one input is unambiguous.
      spdlog::warn("model '{}' names its input '{}', the manifest says '{}'; binding it by position",
                   onnx.string(), inputs.front().name, rv.input.tensor_name);
    } else {
      std::vector<std::string> names;
      for (const auto& d : inputs) names.push_back(d.to_string());
      return Error(ErrorCode::InvalidArgument,
                   "manifest input.tensor_name '" + rv.input.tensor_name + "' is not an input of '" +
                       onnx.string() + "' (inputs: " + join(names) + ")");
    }
  }
  if (inputs.size() != 1) {
    return Error(ErrorCode::Unsupported, "model '" + onnx.string() + "' has " +
                                             std::to_string(inputs.size()) +
                                             " inputs; the image pipeline feeds exactly one");
  }
  const Shape want = pre.tensor_shape(1);
  if (!bound->accepts_shape(want)) {
    return Error(ErrorCode::InvalidArgument,
                 "model input " + bound->to_string() + " of '" + onnx.string() + "' does not accept " +
                     shape_to_string(want) + ", which " + sel.model + "/" + sel.variant +
                     "'s manifest pre-processing produces (check input.preprocessing.size / the "
                     "variant's input_size)");
  }
  if (bound->dtype != DType::Float32 && bound->dtype != DType::Float16) {
    return Error(ErrorCode::Unsupported, "model input " + bound->to_string() +
                                             ": the pipeline feeds float32 or float16 images");
  }
  p->input_dtype_ = bound->dtype;
  info.input_name = bound->name;
  info.load_time = since(t0);
  spdlog::info("pipeline: {}/{} on {} ({}), {} loaded in {:.1f} ms", info.model, info.variant,
               info.backend, info.runtime_backend, onnx.string(), to_ms(info.load_time));
  return p;
}

Result<FrameResult> Pipeline::run_file(const fs::path& path) {
  const TimePoint t0 = Clock::now();
  vision::DecodeOptions decode_options;
  decode_options.apply_exif_orientation = apply_exif_;
  AEGIS_ASSIGN_OR_RETURN(vision::Image image, vision::load_image(path, decode_options));
  const Duration decode = since(t0);
  AEGIS_ASSIGN_OR_RETURN(FrameResult r, run(image, path.string()));
  r.timings.decode = decode;
  return r;
}

Result<FrameResult> Pipeline::run(const vision::Image& input, std::string source) {
  FrameResult frame;
  frame.source = std::move(source);
  frame.output_type = info_.output_type;
  const vision::Image* image = &input;
  vision::Image converted;
  if (input.channels() != 3) {
    AEGIS_ASSIGN_OR_RETURN(converted, input.convert(3));
    image = &converted;
  }
  frame.width = image->width();
  frame.height = image->height();
  frame.exif_orientation = input.exif_orientation();
  frame.orientation_applied = input.orientation_applied();

  TimePoint t = Clock::now();
  AEGIS_ASSIGN_OR_RETURN(vision::PreprocessResult pre, vision::preprocess(*image, info_.preprocess));
  frame.transform = pre.transforms.front();
  Tensor half;
  TensorView view = pre.tensor.view();
  if (input_dtype_ == DType::Float16) {
    AEGIS_ASSIGN_OR_RETURN(half, Tensor::allocate_host(pre.tensor.shape(), DType::Float16));
    auto src = pre.tensor.span<const float>();
    auto dst = half.span<std::uint16_t>();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i] = float_to_half(src[i]);
    view = half.view();
  }
  frame.timings.preprocess = since(t);

  t = Clock::now();
  ExecutionRequest request;
  request.inputs.push_back({info_.input_name, view});
  AEGIS_ASSIGN_OR_RETURN(ExecutionResult out, context_->execute(request));
  frame.timings.execute = since(t);
  frame.deadline_missed = out.deadline_missed;

  t = Clock::now();
  frame.frame_index = next_frame_++;
  AEGIS_TRY(postprocess(out, frame).or_else([&](Error e) -> Result<void> {
    return e.with_context("post-processing " + (frame.source.empty() ? std::string("image") : frame.source));
  }));
  frame.timings.postprocess = since(t);
  return frame;
}

Result<void> Pipeline::postprocess(const ExecutionResult& out, FrameResult& frame) {
  if (out.outputs.empty()) return Error(ErrorCode::BackendError, "the model produced no outputs");
  // Output i by manifest field name when the model has it, else by position.
  const auto output_at = [&](std::size_t i) -> const Tensor& {
    if (i < output_names_.size()) {
      if (const Tensor* t = out.find(output_names_[i])) return *t;
    }
    return out.outputs[std::min(i, out.outputs.size() - 1)];
  };
  switch (info_.output_layout) {
    case OutputLayout::YoloV8: {
      AEGIS_ASSIGN_OR_RETURN(frame.detections,
                             vision::decode_yolo(output_at(0).view(), yolo_, frame.transform));
      if (tracker_) {
        frame.tracks = tracker_->update(frame.detections);
        // Report only what passes the user's threshold; the tracker saw the low ones too.
        std::erase_if(frame.detections, [&](const vision::Detection& d) { return d.score < report_conf_; });
      }
      return {};
    }
    case OutputLayout::RelativeInverseDepth:
    case OutputLayout::MetricDepth: {
      std::string map_name = post_.color_map.value_or("turbo");
      auto map = vision::parse_colormap(map_name);
      if (!map.ok()) {
        spdlog::warn("colour map '{}' is not available; using turbo", map_name);
        map_name = "turbo";
        map = vision::ColorMap::Turbo;
      }
      AEGIS_ASSIGN_OR_RETURN(vision::DepthMap depth,
                             vision::depth_to_original(output_at(0).view(), frame.transform));
      DepthResult d;
      const auto [lo, hi] = vision::normalize_min_max(depth.values);
      d.min_value = lo;
      d.max_value = hi;
      d.color_map = map_name;
      // Near = warm colours: inverse depth grows towards the camera, metric depth away from it.
      const bool invert = info_.output_layout == OutputLayout::MetricDepth;
      AEGIS_ASSIGN_OR_RETURN(d.colorized, vision::colorize(depth, *map, invert));
      frame.depth = std::move(d);
      return {};
    }
    case OutputLayout::SimCC: {
      if (out.outputs.size() < 2) {
        return Error(ErrorCode::InvalidArgument, "a SimCC model must produce simcc_x and simcc_y");
      }
      const Tensor& sx = output_at(0);
      const Tensor& sy = output_at(1);
      vision::SimccConfig cfg;
      if (sx.shape().size() == 3 && info_.preprocess.width > 0) {
        cfg.split_ratio = static_cast<float>(sx.shape()[2]) / static_cast<float>(info_.preprocess.width);
      }
      AEGIS_ASSIGN_OR_RETURN(frame.keypoints, vision::decode_simcc(sx.view(), sy.view(), cfg, frame.transform));
      if (post_.keypoint_threshold) {
        const float thr = static_cast<float>(*post_.keypoint_threshold);
        for (auto& k : frame.keypoints) {
          if (k.score < thr) {
            k.x = -1.0f;
            k.y = -1.0f;
          }
        }
      }
      return {};
    }
    default:
      return Error(ErrorCode::Unsupported, "output layout " + std::string(models::to_string(info_.output_layout)));
  }
}

std::string Pipeline::class_name(int class_id) const {
  if (class_id >= 0 && static_cast<std::size_t>(class_id) < info_.class_names.size()) {
    return info_.class_names[static_cast<std::size_t>(class_id)];
  }
  return "class_" + std::to_string(class_id);
}

void Pipeline::reset_tracking() {
  if (tracker_) tracker_->reset();
  next_frame_ = 0;
}

Result<vision::Image> Pipeline::annotate(const vision::Image& image, const FrameResult& r) const {
  if (r.depth) return r.depth->colorized;
  AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
  const int thickness = std::max(2, std::min(out.width(), out.height()) / 250);
  const int text_scale = std::max(1, std::min(out.width(), out.height()) / 300);
  const auto draw_box = [&](const vision::Box& b, vision::Rgb c, const std::string& label) {
    const int x0 = static_cast<int>(std::lround(b.x1));
    const int y0 = static_cast<int>(std::lround(b.y1));
    const int x1 = static_cast<int>(std::lround(b.x2)) - 1;
    const int y1 = static_cast<int>(std::lround(b.y2)) - 1;
    // A dark rim outside the coloured box keeps it visible on objects of its own colour.
    vision::draw_rect(out, x0 - 1, y0 - 1, x1 + 1, y1 + 1, {20, 20, 20}, 1);
    vision::draw_rect(out, x0, y0, x1, y1, c, thickness);
    vision::draw_label(out, x0, y0, label, c, text_scale + 1);
  };
  char score[16];
  if (track_) {
    for (const auto& t : r.tracks) {
      std::snprintf(score, sizeof score, " %.2f", static_cast<double>(t.score));
      draw_box(t.box, vision::palette_color(t.id), "#" + std::to_string(t.id) + " " + class_name(t.class_id) + score);
    }
  } else {
    for (const auto& d : r.detections) {
      std::snprintf(score, sizeof score, " %.2f", static_cast<double>(d.score));
      draw_box(d.box, vision::palette_color(d.class_id), class_name(d.class_id) + score);
    }
  }
  if (!r.keypoints.empty()) {
    const auto visible = [](const vision::Keypoint& k) { return k.x >= 0.0f && k.y >= 0.0f; };
    if (r.keypoints.size() == 17) {
      for (const auto& [a, b] : vision::coco17_skeleton()) {
        const auto& ka = r.keypoints[static_cast<std::size_t>(a)];
        const auto& kb = r.keypoints[static_cast<std::size_t>(b)];
        if (visible(ka) && visible(kb)) {
          vision::draw_line(out, static_cast<int>(ka.x), static_cast<int>(ka.y), static_cast<int>(kb.x),
                            static_cast<int>(kb.y), vision::palette_color(a), thickness);
        }
      }
    }
    for (std::size_t i = 0; i < r.keypoints.size(); ++i) {
      const auto& k = r.keypoints[i];
      if (visible(k)) {
        vision::draw_circle(out, static_cast<int>(k.x), static_cast<int>(k.y), thickness + 2,
                            vision::palette_color(static_cast<int>(i)));
      }
    }
  }
  return out;
}

std::string Pipeline::to_json(const FrameResult& r, int indent) const {
  using json = nlohmann::ordered_json;
  const auto box_json = [](const vision::Box& b) {
    return json{{"x1", b.x1}, {"y1", b.y1}, {"x2", b.x2}, {"y2", b.y2}};
  };
  json j;
  j["schema"] = "aegisrt.result/1";
  j["source"] = r.source;
  j["image"] = {{"width", r.width}, {"height", r.height},
                {"exif_orientation", r.exif_orientation}, {"orientation_applied", r.orientation_applied}};
  j["frame_index"] = r.frame_index;
  j["model"] = {{"name", info_.model},      {"variant", info_.variant},
                {"backend", info_.backend}, {"runtime_backend", info_.runtime_backend},
                {"precision", info_.precision}, {"onnx", info_.onnx_path.string()}};
  j["output_type"] = models::to_string(r.output_type);
  const auto& t = r.transform;
  j["transform"] = {{"input_width", t.dst_width}, {"input_height", t.dst_height},
                    {"scale_x", t.scale_x},       {"scale_y", t.scale_y},
                    {"pad_x", t.pad_x},           {"pad_y", t.pad_y}};
  if (r.output_type == OutputType::Detections) {
    json dets = json::array();
    for (const auto& d : r.detections) {
      dets.push_back({{"class_id", d.class_id}, {"class_name", class_name(d.class_id)},
                      {"score", d.score}, {"box", box_json(d.box)}});
    }
    j["detections"] = std::move(dets);
    j["thresholds"] = {{"confidence", track_ ? report_conf_ : yolo_.conf_threshold}, {"iou", yolo_.iou_threshold},
                       {"max_detections", yolo_.max_detections}};
  }
  if (track_) {
    json tracks = json::array();
    for (const auto& tr : r.tracks) {
      tracks.push_back({{"track_id", tr.id}, {"class_id", tr.class_id},
                        {"class_name", class_name(tr.class_id)}, {"score", tr.score},
                        {"box", box_json(tr.box)}, {"hits", tr.hits}, {"start_frame", tr.start_frame}});
    }
    j["tracks"] = std::move(tracks);
  }
  if (!r.keypoints.empty()) {
    json kps = json::array();
    for (const auto& k : r.keypoints) kps.push_back({{"x", k.x}, {"y", k.y}, {"score", k.score}});
    j["keypoints"] = std::move(kps);
  }
  if (r.depth) {
    j["depth"] = {{"min", r.depth->min_value}, {"max", r.depth->max_value},
                  {"color_map", r.depth->color_map},
                  {"kind", info_.output_layout == OutputLayout::MetricDepth ? "metric" : "relative_inverse"}};
  }
  j["timings_ms"] = {{"decode", to_ms(r.timings.decode)},
                     {"preprocess", to_ms(r.timings.preprocess)},
                     {"execute", to_ms(r.timings.execute)},
                     {"postprocess", to_ms(r.timings.postprocess)},
                     {"total", to_ms(r.timings.total())}};
  j["deadline_missed"] = r.deadline_missed;
  return j.dump(indent);
}

}  // namespace aegisrt::pipeline
