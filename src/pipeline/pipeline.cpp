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
#include <variant>

#include "aegisrt/backend/registry.h"
#include "aegisrt/backend/backend_vocabulary.h"
#include "aegisrt/context/loaded_model.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/pipeline/gpu_decode.h"
#include "aegisrt/vision/draw.h"
#include "aegisrt/vision/keep_aspect.h"
#include "pipeline/decoders/decoder.h"
#include "pipeline/device_path.h"
#include "pipeline/florence.h"
#include "pipeline/sam.h"
#include "pipeline/grounding_dino.h"
#include "pipeline/top_down.h"

namespace aegisrt::pipeline {
namespace {

namespace fs = std::filesystem;
using models::OutputLayout;

/// A JPEG SOI marker followed by another marker (FF D8 FF): a candidate for nvJPEG.
bool starts_as_jpeg(std::span<const std::byte> b) noexcept {
  return b.size() >= 3 && b[0] == std::byte{0xFF} && b[1] == std::byte{0xD8} && b[2] == std::byte{0xFF};
}
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

// How a model file (the variant's main ONNX or a part's) is loaded: on the
// binding's device with the selection's precision, cached under `cache_variant`
// in the options' cache folder, the binding's backend options overridden by
// the user's (--backend-option).
LoadOptions load_options(const fs::path& onnx, const models::BackendBinding& binding, const models::Selection& sel,
                         const PipelineOptions& options, const std::string& cache_variant) {
  LoadOptions load;
  load.artifact_path = onnx;
  load.device = binding.device;
  load.precision = sel.precision;
  load.cache_dir = options.cache_dir;
  load.variant = cache_variant;
  load.backend_options = binding.backend_options;
  for (const auto& [k, v] : options.backend_options) load.backend_options[k] = v;
  return load;
}

}  // namespace

Result<vision::PreprocessConfig> make_preprocess_config(const models::InputSpec& input,
                                                        std::string_view model) {
  const std::string who(model);
  if (input.type != models::InputType::Image && input.type != models::InputType::ImageText) {
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
  cfg.interpolation = pre.interpolation == models::Interpolation::Bicubic ? vision::Interpolation::Bicubic
                                                                        : vision::Interpolation::Bilinear;
  cfg.align_corners = pre.align_corners;
  if (pre.border) {
    cfg.border = vision::BorderMode::Reflect;
    cfg.border_factor = pre.border->factor;
  }
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
  // No range-for: its increment throws on an I/O error; increment(ec) does not.
  fs::directory_iterator it(file_or_dir, ec);
  for (const fs::directory_iterator end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;  // an entry whose type cannot be read is skipped
    if (it->is_regular_file(type_ec) && is_image_file(it->path())) images.push_back(it->path());
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

Pipeline::~Pipeline() {
  device_.reset();  // its stream finishes queued work before the buffers go
  if (device_bytes_ > 0 && context_) (void)context_->release_memory(device_bytes_);
}

Result<std::unique_ptr<Pipeline>> Pipeline::create(const PipelineOptions& options,
                                                   const fs::path& models_dir) {
  AEGIS_ASSIGN_OR_RETURN(auto dir, models::resolve_models_directory(models_dir.string()));
  AEGIS_ASSIGN_OR_RETURN(auto catalog, models::ModelCatalog::load_directory(dir.path));
  return create(catalog, options);
}

bool gpu_jpeg_decode_compiled() noexcept { return detail::DevicePath::jpeg_decode_compiled(); }

namespace {

/// Step 1 of Pipeline::create(): the model, variant, backend and precision.
struct Chosen {
  models::Selection selection;
  const models::ModelManifest* manifest = nullptr;
  models::ResolvedVariant variant;
};

Result<Chosen> choose(const models::ModelCatalog& catalog, const PipelineOptions& options) {
  if (options.model.empty()) {
    return Error(ErrorCode::InvalidArgument, "no model given; known models: " + join(catalog.names()));
  }
  Chosen c;
  // --allow-unlisted-backend: a backend of the vocabulary that the manifest's
  // `backends` does not list is validated as the manifest's first listed one
  // (variant, precision, parts), then used as asked, with a warning.
  const models::ModelManifest* listed = catalog.find(options.model);
  const bool unlisted = listed != nullptr && !listed->backends.empty() &&
                        !listed->supports_backend(options.backend) &&
                        models::find_backend_entry(options.backend) != nullptr;
  if (unlisted && options.allow_unlisted_backend) {
    AEGIS_ASSIGN_OR_RETURN(c.selection, catalog.validate_selection(options.model, listed->backends.front(),
                                                                   options.variant, options.precision));
    c.selection.backend = options.backend;
    spdlog::warn("--allow-unlisted-backend: running {} on backend {}, which its manifest does not list "
                 "(backends: {}); this combination is not one the catalog vouches for",
                 listed->name, options.backend, join(listed->backends));
  } else {
    auto sel = catalog.validate_selection(options.model, options.backend, options.variant, options.precision);
    if (!sel.ok()) {
      if (unlisted && sel.error().code() == ErrorCode::Unsupported) {
        return Error(ErrorCode::Unsupported, sel.error().message() +
                                                 "; pass --allow-unlisted-backend (PipelineOptions::"
                                                 "allow_unlisted_backend) to run it on " + options.backend +
                                                 " anyway");
      }
      return std::move(sel).error();
    }
    c.selection = std::move(sel).value();
  }
  AEGIS_ASSIGN_OR_RETURN(c.manifest, catalog.get(c.selection.model));
  AEGIS_ASSIGN_OR_RETURN(c.variant, c.manifest->resolve(c.selection.variant));
  for (const auto& t : {options.confidence_threshold, options.iou_threshold}) {
    if (t && !(*t >= 0.0f && *t <= 1.0f)) {  // for every model, whether its decoder uses them or not
      return Error(ErrorCode::InvalidArgument, "confidence and IoU thresholds must be within [0, 1]");
    }
  }
  return c;
}

}  // namespace

Result<std::unique_ptr<Pipeline>> Pipeline::create(const models::ModelCatalog& catalog,
                                                   const PipelineOptions& options) {
  const TimePoint t0 = Clock::now();
  // 1. Selection: which variant on which backend at which precision.
  AEGIS_ASSIGN_OR_RETURN(const Chosen chosen, choose(catalog, options));
  const models::Selection& sel = chosen.selection;
  const models::ModelManifest* manifest = chosen.manifest;
  const models::ResolvedVariant& rv = chosen.variant;

  auto p = std::unique_ptr<Pipeline>(new Pipeline());
  p->apply_exif_ = options.apply_exif_orientation;
  p->variant_ = rv;
  p->options_ = options;
  if (options.track) {
    // The tracker's settings: the catalog's `bytetrack` entry, when it has one.
    if (const models::ModelManifest* bt = catalog.find("bytetrack"); bt != nullptr) {
      AEGIS_ASSIGN_OR_RETURN(const models::ResolvedVariant btv, bt->resolve());
      p->tracker_settings_ = btv.postprocessing;
    }
  }
  // 2. What the pipeline does with it: the layout's decoder (refuses what it
  //    cannot decode), pre-processing, backend binding.
  AEGIS_ASSIGN_OR_RETURN(p->decoder_, detail::make_decoder(p->decoder_setup()));
  AEGIS_ASSIGN_OR_RETURN(const models::BackendBinding binding, p->describe(sel, rv, *manifest));
  // 3. The model file, loaded inside an ExecutionContext.
  AEGIS_ASSIGN_OR_RETURN(p->info_.onnx_path, locate_onnx(*manifest, sel, options));
  if (options.track && rv.output.type != OutputType::Detections) {
    return Error(ErrorCode::Unsupported, "--track needs a detection model; " + sel.model + " outputs " +
                                             std::string(models::to_string(rv.output.type)));
  }
  AEGIS_TRY(p->load_model(sel, binding, options));
  // 4. The model must take what the manifest's pre-processing makes.
  AEGIS_TRY(p->bind_input(rv));
  // 5. A pose model with a detector part runs top-down (top_down.cpp).
  AEGIS_TRY(p->attach_top_down(catalog, sel, rv, options));
  // 6. Segment Anything: the prompt decoder part (sam.cpp).
  AEGIS_TRY(p->attach_sam(catalog, sel, rv, options));
  // 6b. Florence-2: the embed/encoder/decoder parts and the tokenizer (florence_pipeline.cpp).
  AEGIS_TRY(p->attach_florence(catalog, sel, rv, options));
  // 7. Pre-processing on the GPU when the backend reads device inputs (device_path.cpp).
  AEGIS_TRY(p->attach_device_path());
  p->info_.load_time = since(t0);
  const PipelineInfo& info = p->info_;
  spdlog::info("pipeline: {}/{} on {} ({}), {} loaded in {:.1f} ms", info.model, info.variant, info.backend,
               info.runtime_backend, info.onnx_path.string(), to_ms(info.load_time));
  return p;
}

Result<models::BackendBinding> Pipeline::describe(const models::Selection& sel, const models::ResolvedVariant& rv,
                                                  const models::ModelManifest& manifest) {
  PipelineInfo& info = info_;
  if (rv.output.layout == OutputLayout::SamMasks && rv.input.preprocessing) {
    // SAM pre-processes itself (sam.cpp: longest side, Pillow bilinear, zero
    // padding at the bottom/right after normalisation); only the size and
    // normalisation are taken from the manifest.
    const auto& pre = *rv.input.preprocessing;
    info.preprocess.width = pre.size.width;
    info.preprocess.height = pre.size.height;
    info.preprocess.scale = static_cast<float>(pre.normalize.scale);
    if (pre.normalize.mean.size() != 3 || pre.normalize.stddev.size() != 3 || pre.size.width != pre.size.height) {
      return Error(ErrorCode::Unsupported, rv.model + "/" + rv.variant +
                                               ": sam_masks needs a square input.preprocessing.size and 3-long "
                                               "normalize.mean/std");
    }
    for (std::size_t c = 0; c < 3; ++c) {
      info.preprocess.mean[c] = static_cast<float>(pre.normalize.mean[c]);
      info.preprocess.std[c] = static_cast<float>(pre.normalize.stddev[c]);
    }
  } else {
    AEGIS_ASSIGN_OR_RETURN(info.preprocess, make_preprocess_config(rv.input, rv.model + "/" + rv.variant));
  }
  AEGIS_ASSIGN_OR_RETURN(const models::BackendBinding binding, models::bind_backend(sel.backend));
  if (binding.registry_name.empty()) {
    return Error(ErrorCode::Unsupported,
                 "backend '" + sel.backend + "' runs built-in C++ code, not models; choose an "
                 "inference backend for " + sel.model + " (" + join(manifest.backends) + ")");
  }
  info.model = sel.model;
  info.variant = sel.variant;
  info.backend = sel.backend;
  info.runtime_backend = binding.registry_name;
  if (auto it = binding.backend_options.find("provider"); it != binding.backend_options.end()) {
    info.provider = it->second;
  }
  info.precision = std::string(to_string(sel.precision));
  info.output_type = rv.output.type;
  info.output_layout = rv.output.layout;
  info.class_names = rv.output.class_names;
  info.memory_budget_bytes = sel.device_memory_bytes;
  return binding;
}

Result<void> Pipeline::load_model(const models::Selection& sel, const models::BackendBinding& binding,
                                  const PipelineOptions& options) {
  AEGIS_ASSIGN_OR_RETURN(auto backend, BackendFactory::create(binding.registry_name));
  ContextBudget budget;
  budget.device_memory_bytes = sel.device_memory_bytes;
  budget.max_streams = 1;  // a Pipeline is used by one thread; more streams: create_instance()
  budget.compute_time_per_call = options.call_time_budget;
  AEGIS_TRY(budget.validate());

  const fs::path& onnx = info_.onnx_path;
  const LoadOptions load =
      load_options(onnx, binding, sel, options, options.cache_variant.empty() ? sel.variant : options.cache_variant);
  const auto in_context = [&](Error e) {
    return e.with_context("loading " + sel.model + "/" + sel.variant + " (" + onnx.string() + ") on backend " +
                          sel.backend);
  };
  // Model state (loaded once, shared by create_instance()) and this pipeline's instance of it.
  auto model = LoadedModel::load(ModelId(sel.model), std::move(backend), load);
  if (!model.ok()) return in_context(std::move(model).error());
  auto context = ExecutionContext::create_instance(std::move(model).value(), budget);
  if (!context.ok()) return in_context(std::move(context).error());
  context_ = std::move(context).value();
  // The onnx backend accepts cuda_graph=1 only on its CUDA provider, where it
  // then captures and replays (anything else failed to load above).
  if (auto it = load.backend_options.find("cuda_graph");
      it != load.backend_options.end() && it->second == "1" && binding.registry_name == "onnx") {
    info_.cuda_graph = true;
    spdlog::info("pipeline: {}/{}: CUDA graph replay on (cuda_graph=1)", sel.model, sel.variant);
  }
  return {};
}

detail::DecoderSetup Pipeline::decoder_setup() const {
  return {variant_, options_, tracker_settings_ ? &*tracker_settings_ : nullptr, text_};
}

Result<std::unique_ptr<Pipeline>> Pipeline::create_instance() const {
  const TimePoint t0 = Clock::now();
  auto p = std::unique_ptr<Pipeline>(new Pipeline());
  p->info_ = info_;
  p->variant_ = variant_;
  p->options_ = options_;
  p->apply_exif_ = apply_exif_;
  p->input_dtype_ = input_dtype_;
  p->tracker_settings_ = tracker_settings_;
  p->text_ = text_;
  AEGIS_ASSIGN_OR_RETURN(p->decoder_, detail::make_decoder(p->decoder_setup()));
  if (top_down_) {
    // Top-down pose: the detector part gets its own instance over its own shared model.
    auto td = std::make_unique<detail::TopDown>();
    AEGIS_ASSIGN_OR_RETURN(td->detector, top_down_->detector->create_instance());
    td->detector_part = top_down_->detector_part;
    td->class_ids = top_down_->class_ids;
    td->class_names = top_down_->class_names;
    td->pose = top_down_->pose;
    td->input_width = top_down_->input_width;
    td->input_height = top_down_->input_height;
    td->keypoint_threshold = top_down_->keypoint_threshold;
    p->top_down_ = std::move(td);
  }
  if (sam_) {
    // Segment Anything: the prompt decoder (and detector) get their own instances too.
    auto sam = std::make_unique<detail::Sam>();
    auto decoder = ExecutionContext::create_instance(sam_->decoder->shared_model(), sam_->decoder->budget());
    if (!decoder.ok()) {
      return std::move(decoder).error().with_context("creating another instance of " + info_.model +
                                                     " part 'prompt_decoder'");
    }
    sam->decoder = std::move(decoder).value();
    sam->decoder_onnx = sam_->decoder_onnx;
    sam->embeddings_name = sam_->embeddings_name;
    sam->target = sam_->target;
    sam->mean = sam_->mean;
    sam->stddev = sam_->stddev;
    sam->scale = sam_->scale;
    sam->mask_threshold = sam_->mask_threshold;
    if (sam_->detector) {
      AEGIS_ASSIGN_OR_RETURN(sam->detector, sam_->detector->create_instance());
    }
    sam->detector_part = sam_->detector_part;
    sam->class_ids = sam_->class_ids;
    sam->class_names = sam_->class_names;
    p->sam_ = std::move(sam);
  }
  auto context = ExecutionContext::create_instance(context_->shared_model(), context_->budget());
  if (!context.ok()) {
    return std::move(context).error().with_context("creating another instance of pipeline " + info_.model + "/" +
                                                   info_.variant);
  }
  p->context_ = std::move(context).value();
  if (florence_) {
    // Florence-2: its own instances of the four parts, over this instance's vision encoder.
    auto f = std::make_unique<detail::Florence>();
    AEGIS_ASSIGN_OR_RETURN(f->generator, florence_->generator->create_instance(p->context_.get()));
    f->tokenizer = florence_->tokenizer;
    f->task = florence_->task;
    f->question_ids = florence_->question_ids;
    f->generate = florence_->generate;
    p->florence_ = std::move(f);
  }
  AEGIS_TRY(p->attach_device_path());  // its own stream and buffers
  p->info_.load_time = since(t0);
  return p;
}

Result<void> Pipeline::bind_input(const models::ResolvedVariant& rv) {
  const fs::path& onnx = info_.onnx_path;
  const auto inputs = context_->backend().input_specs();
  if (inputs.empty()) {
    return Error(ErrorCode::InvalidArgument, "model '" + onnx.string() + "' declares no inputs");
  }
  const TensorDesc* bound = &inputs.front();
  if (rv.output.layout == OutputLayout::GroundingDino) {
    // Text-prompted: the prompt's tensors (grounding_dino.cpp) + the image; the decoder gets the tokens.
    AEGIS_ASSIGN_OR_RETURN(text_, detail::make_text_prompt(rv, options_, onnx, inputs, info_.preprocess.tensor_shape(1)));
    AEGIS_ASSIGN_OR_RETURN(decoder_, detail::make_decoder(decoder_setup()));
    const auto it = std::find_if(inputs.begin(), inputs.end(),
                                 [&](const TensorDesc& d) { return d.name == text_->image_input; });
    bound = &*it;  // make_text_prompt checked it is there
  } else if (!rv.input.tensor_name.empty()) {
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
  if (inputs.size() != 1 && !text_) {
    return Error(ErrorCode::Unsupported, "model '" + onnx.string() + "' has " + std::to_string(inputs.size()) +
                                             " inputs; the image pipeline feeds exactly one");
  }
  const Shape want = info_.preprocess.tensor_shape(1);
  if (!bound->accepts_shape(want)) {
    return Error(ErrorCode::InvalidArgument,
                 "model input " + bound->to_string() + " of '" + onnx.string() + "' does not accept " +
                     shape_to_string(want) + ", which " + info_.model + "/" + info_.variant +
                     "'s manifest pre-processing produces (check input.preprocessing.size / the "
                     "variant's input_size)");
  }
  if (bound->dtype != DType::Float32 && bound->dtype != DType::Float16) {
    return Error(ErrorCode::Unsupported,
                 "model input " + bound->to_string() + ": the pipeline feeds float32 or float16 images");
  }
  input_dtype_ = bound->dtype;
  info_.input_name = bound->name;
  // input.preprocessing.keep_aspect: the reference's per-image input size,
  // for exports whose height and width are both dynamic; a fixed-size export
  // keeps the fixed-size resize.
  info_.keep_aspect_multiple = 0;
  if (rv.input.preprocessing && rv.input.preprocessing->keep_aspect) {
    if (text_ || rv.output.layout == OutputLayout::SamMasks) {
      return Error(ErrorCode::Unsupported, info_.model + "/" + info_.variant +
                                               ": input.preprocessing.keep_aspect is supported for single-input "
                                               "image models (not " +
                                               std::string(models::to_string(rv.output.layout)) + ")");
    }
    const bool nchw = info_.preprocess.layout == vision::Layout::NCHW;
    const Shape& s = bound->shape;
    const bool dynamic = s.size() == 4 && s[nchw ? 2 : 1] == kDynamicDim && s[nchw ? 3 : 2] == kDynamicDim;
    if (dynamic) {
      info_.keep_aspect_multiple = rv.input.preprocessing->keep_aspect->multiple_of;
      spdlog::info("pipeline: {}/{}: model input {} has a dynamic size; each image keeps its aspect "
                   "(target {}x{}, sides multiples of {})",
                   info_.model, info_.variant, bound->to_string(), info_.preprocess.width, info_.preprocess.height,
                   info_.keep_aspect_multiple);
    } else {
      spdlog::info("pipeline: {}/{}: model input {} has a fixed size; input.preprocessing.keep_aspect does not "
                   "apply, every image is resized to {}x{}",
                   info_.model, info_.variant, bound->to_string(), info_.preprocess.width, info_.preprocess.height);
    }
  }
  return {};
}

Result<vision::PreprocessConfig> Pipeline::input_config(const vision::Image& image) const {
  if (info_.keep_aspect_multiple <= 0) return info_.preprocess;
  return vision::keep_aspect_config(image.width(), image.height(), info_.preprocess, info_.keep_aspect_multiple);
}

Result<FrameResult> Pipeline::run_file(const fs::path& path) {
  const TimePoint t0 = Clock::now();
  if (device_ && device_->jpeg_decode_enabled()) {
    // GPU decode: the file's bytes go to run_encoded() (the same checks as
    // vision::load_image: a directory, a non-regular file, the size cap).
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      return Error(ErrorCode::IoError, "'" + path.string() + "' is a directory, not an image file");
    }
    AEGIS_ASSIGN_OR_RETURN(const std::string bytes, read_file(path, "image file", vision::kMaxImageFileBytes));
    const Duration read = since(t0);
    AEGIS_ASSIGN_OR_RETURN(FrameResult r, run_encoded(std::as_bytes(std::span<const char>(bytes)), path.string()));
    r.timings.decode += read;
    return r;
  }
  vision::DecodeOptions decode_options;
  decode_options.apply_exif_orientation = apply_exif_;
  AEGIS_ASSIGN_OR_RETURN(vision::Image image, vision::load_image(path, decode_options));
  const Duration decode = since(t0);
  AEGIS_ASSIGN_OR_RETURN(FrameResult r, run(image, path.string()));
  r.timings.decode = decode;
  return r;
}

Result<FrameResult> Pipeline::run_encoded(std::span<const std::byte> bytes, std::string source) {
  const std::string name = source.empty() ? std::string("<memory>") : source;
  if (device_ && device_->jpeg_decode_enabled() && starts_as_jpeg(bytes)) {
    const int tag = vision::jpeg_exif_orientation(bytes);
    // An EXIF rotation to apply is done by the CPU decoder (the GPU image
    // would need rotating before the kernel).
    if (!(apply_exif_ && tag > 1)) {
      auto f = device_->preprocess_jpeg(bytes, name);
      if (f.ok()) {
        FrameResult frame;
        frame.source = std::move(source);
        frame.output_type = info_.output_type;
        frame.width = f->width;  // the original size drives the post-processing (letterbox inverse)
        frame.height = f->height;
        frame.exif_orientation = tag;
        frame.orientation_applied = false;  // tag 0/1, or orientation off: as the CPU decoder records it
        frame.decoded_on_gpu = true;
        frame.transform = f->transform;
        frame.timings.decode = f->decode;
        frame.timings.preprocess = f->preprocess;
        ExecutionRequest request;
        request.stream = device_->execute_stream();
        return execute_frame(std::move(frame), device_->input(), std::move(request));
      }
      if (f.error().code() != ErrorCode::Unsupported) return std::move(f).error();
      // nvJPEG leaves it to the CPU (CMYK, 12-bit, no EOI marker, ...).
      spdlog::debug("pipeline: {}: decoding on the CPU: {}", name, f.error().message());
    }
  }
  const TimePoint t0 = Clock::now();
  vision::DecodeOptions decode_options;
  decode_options.apply_exif_orientation = apply_exif_;
  AEGIS_ASSIGN_OR_RETURN(vision::Image image, vision::decode_image(bytes, name, decode_options));
  const Duration decode = since(t0);
  AEGIS_ASSIGN_OR_RETURN(FrameResult r, run(image, std::move(source)));
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
  if (top_down_) return run_top_down(*image, std::move(frame));
  if (sam_) return run_sam(*image, std::move(frame));
  if (florence_) return run_florence(*image, std::move(frame));

  TimePoint t = Clock::now();
  ExecutionRequest request;
  vision::PreprocessResult pre;
  Tensor half;
  TensorView view;
  if (device_) {
    // Device path: upload + fused kernel into the device input tensor.
    AEGIS_ASSIGN_OR_RETURN(frame.transform, device_->preprocess(*image));
    view = device_->input();
    request.stream = device_->execute_stream();
  } else {
    AEGIS_ASSIGN_OR_RETURN(const vision::PreprocessConfig config, input_config(*image));
    AEGIS_ASSIGN_OR_RETURN(pre, vision::preprocess(*image, config));
    frame.transform = pre.transforms.front();
    view = pre.tensor.view();
  }
  if (!device_ && input_dtype_ == DType::Float16) {
    AEGIS_ASSIGN_OR_RETURN(half, Tensor::allocate_host(pre.tensor.shape(), DType::Float16));
    auto src = pre.tensor.span<const float>();
    auto dst = half.span<std::uint16_t>();
    for (std::size_t i = 0; i < src.size(); ++i) dst[i] = float_to_half(src[i]);
    view = half.view();
  }
  frame.timings.preprocess = since(t);
  return execute_frame(std::move(frame), view, std::move(request));
}

Result<FrameResult> Pipeline::execute_frame(FrameResult frame, TensorView view, ExecutionRequest request) {
  TimePoint t = Clock::now();
  request.inputs.push_back({info_.input_name, view});
  // GPU post-processing: the output stays on the device for the decoder's kernel.
  if (info_.gpu_postprocess) request.output_placement = OutputPlacement::Device;
  if (text_) {
    for (const auto& [name, tensor] : text_->tensors) request.inputs.push_back({name, tensor.view()});
  }
  AEGIS_ASSIGN_OR_RETURN(ExecutionResult out, context_->execute(request));
  frame.timings.execute = since(t);
  frame.deadline_missed = out.deadline_missed;

  t = Clock::now();
  frame.frame_index = next_frame_++;
  const auto in_context = [&](Error e) -> Result<void> {
    return e.with_context("post-processing " + (frame.source.empty() ? std::string("image") : frame.source));
  };
  if (out.outputs.empty()) {
    return in_context(Error(ErrorCode::BackendError, "the model produced no outputs")).error();
  }
  AEGIS_TRY(decoder_->decode(out, frame).or_else(in_context));
  frame.timings.postprocess = since(t);
  return frame;
}

void Pipeline::reset_tracking() {
  decoder_->reset();
  next_frame_ = 0;
}

Result<vision::Image> Pipeline::annotate(const vision::Image& image, const FrameResult& r) const {
  return decoder_->annotate(image, r);
}

std::string Pipeline::to_json(const FrameResult& r, int indent) const {
  using json = nlohmann::ordered_json;
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
  j["output_layout"] = models::to_string(info_.output_layout);
  const auto& t = r.transform;
  j["transform"] = {{"input_width", t.dst_width}, {"input_height", t.dst_height},
                    {"scale_x", t.scale_x},       {"scale_y", t.scale_y},
                    {"pad_x", t.pad_x},           {"pad_y", t.pad_y}};
  decoder_->to_json(r, j);
  j["timings_ms"] = {{"decode", to_ms(r.timings.decode)},
                     {"preprocess", to_ms(r.timings.preprocess)},
                     {"execute", to_ms(r.timings.execute)},
                     {"postprocess", to_ms(r.timings.postprocess)},
                     {"total", to_ms(r.timings.total())}};
  j["deadline_missed"] = r.deadline_missed;
  return j.dump(indent);
}

// ---- FrameResult / InstanceMask accessors ----

namespace {
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;
}  // namespace

const std::vector<vision::Detection>& FrameResult::detections() const noexcept {
  static const std::vector<vision::Detection> kNone;
  return std::visit(Overloaded{[](const DetectionResult& r) -> const std::vector<vision::Detection>& { return r.detections; },
                               [](const InstanceSegmentationResult& r) -> const std::vector<vision::Detection>& {
                                 return r.detections;
                               },
                               [](const PoseResult& r) -> const std::vector<vision::Detection>& { return r.detections; },
                               [](const auto&) -> const std::vector<vision::Detection>& { return kNone; }},
                    output);
}

const std::vector<vision::Track>& FrameResult::tracks() const noexcept {
  static const std::vector<vision::Track> kNone;
  const auto* r = std::get_if<DetectionResult>(&output);
  return r != nullptr ? r->tracks : kNone;
}

const std::vector<vision::Keypoint>& FrameResult::keypoints() const noexcept {
  static const std::vector<vision::Keypoint> kNone;
  const auto* r = std::get_if<KeypointsResult>(&output);
  return r != nullptr ? r->keypoints : kNone;
}

std::size_t InstanceMask::area() const noexcept {
  return static_cast<std::size_t>(std::count(data.begin(), data.end(), std::uint8_t{1}));
}

namespace detail {

Result<LoadedPart> load_file_part(const models::ModelCatalog& catalog, const models::Selection& sel,
                                  const models::ResolvedPart& part, const PipelineOptions& options,
                                  const ContextBudget& budget) {
  const std::string& name = part.name;
  LoadedPart out;
  if (auto it = options.part_onnx.find(name); it != options.part_onnx.end()) {
    AEGIS_TRY(check_regular_file(it->second, "--part-onnx " + name));
    out.onnx = it->second;
  } else {
    std::vector<std::filesystem::path> dirs;
    if (const char* env = std::getenv("AEGISRT_MODEL_DATA"); env != nullptr && *env != '\0') dirs.emplace_back(env);
    dirs.insert(dirs.end(), options.model_data_dirs.begin(), options.model_data_dirs.end());
    auto found = catalog.find_part_onnx(sel.model, sel.variant, part, dirs);
    if (!found.ok()) {
      return std::move(found).error().with_context(sel.model + " part '" + name + "' (pass --part-onnx " + name +
                                                   "=FILE)");
    }
    out.onnx = *found;
  }
  AEGIS_ASSIGN_OR_RETURN(const models::BackendBinding binding, models::bind_backend(sel.backend));
  AEGIS_ASSIGN_OR_RETURN(auto backend, BackendFactory::create(binding.registry_name));
  const LoadOptions load = load_options(out.onnx, binding, sel, options, part.cache_name);
  const auto in_context = [&](Error e) {
    return e.with_context("loading " + sel.model + "/" + sel.variant + " part '" + name + "' (" + out.onnx.string() +
                          ") on backend " + sel.backend);
  };
  auto model = LoadedModel::load(ModelId(sel.model + "+" + name), std::move(backend), load);
  if (!model.ok()) return in_context(std::move(model).error());
  auto context = ExecutionContext::create_instance(std::move(model).value(), budget);
  if (!context.ok()) return in_context(std::move(context).error());
  out.context = std::move(context).value();
  return out;
}

}  // namespace detail

}  // namespace aegisrt::pipeline
