// Segment Anything: the image encoder once per image, the prompt_decoder part
// once per prompt, masks upsampled to the image as SamPredictor does. See
// sam.h and docs/PIPELINE.md "Segment Anything".
#include "pipeline/sam.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "aegisrt/backend/registry.h"
#include "aegisrt/context/loaded_model.h"
#include "aegisrt/core/file_util.h"
#include "aegisrt/vision/draw.h"
#include "aegisrt/vision/resize_pillow.h"
#include "pipeline/top_down.h"

namespace aegisrt::pipeline {
namespace {

Duration since(TimePoint t0) { return std::chrono::duration_cast<Duration>(Clock::now() - t0); }

/// Comma-separated finite numbers; nullopt on any malformed field.
std::optional<std::vector<float>> parse_numbers(std::string_view text) {
  std::vector<float> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    std::string field(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    // trim spaces
    const auto b = field.find_first_not_of(" \t");
    const auto e = field.find_last_not_of(" \t");
    if (b == std::string::npos) return std::nullopt;
    field = field.substr(b, e - b + 1);
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(field.c_str(), &end);
    if (end != field.c_str() + field.size() || errno != 0 || !std::isfinite(v) || std::abs(v) > 1e7) {
      return std::nullopt;
    }
    out.push_back(static_cast<float>(v));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

Result<PromptPoint> parse_prompt_point(std::string_view text) {
  const auto nums = parse_numbers(text);
  const auto bad = [&](const std::string& why) {
    return Error(ErrorCode::InvalidArgument, "--point '" + std::string(text) + "': " + why +
                                                 "; expected x,y or x,y,label (label 1 = foreground, 0 = background)",
                 "--point");
  };
  if (!nums) return bad("not a list of numbers");
  if (nums->size() != 2 && nums->size() != 3) return bad(std::to_string(nums->size()) + " values");
  PromptPoint p{(*nums)[0], (*nums)[1], 1};
  if (nums->size() == 3) {
    const float l = (*nums)[2];
    if (l != 0.0f && l != 1.0f) return bad("label must be 0 or 1");
    p.label = static_cast<int>(l);
  }
  return p;
}

Result<vision::Box> parse_prompt_box(std::string_view text) {
  const auto nums = parse_numbers(text);
  const auto bad = [&](const std::string& why) {
    return Error(ErrorCode::InvalidArgument,
                 "--box '" + std::string(text) + "': " + why + "; expected x0,y0,x1,y1 with x0 < x1 and y0 < y1",
                 "--box");
  };
  if (!nums) return bad("not a list of numbers");
  if (nums->size() != 4) return bad(std::to_string(nums->size()) + " values");
  vision::Box b{(*nums)[0], (*nums)[1], (*nums)[2], (*nums)[3]};
  if (!(b.x1 < b.x2) || !(b.y1 < b.y2)) return bad("empty or inverted box");
  return b;
}

namespace detail {

SamGeometry SamGeometry::of(int width, int height, int target) {
  // ResizeLongestSide.get_preprocess_shape: scale = target / max(h, w); int(side * scale + 0.5).
  SamGeometry g;
  g.width = width;
  g.height = height;
  const double scale = static_cast<double>(target) / std::max(width, height);
  g.resized_width = static_cast<int>(width * scale + 0.5);
  g.resized_height = static_cast<int>(height * scale + 0.5);
  return g;
}

float SamGeometry::map_x(float x) const noexcept {
  return static_cast<float>(static_cast<double>(x) * (static_cast<double>(resized_width) / width));
}
float SamGeometry::map_y(float y) const noexcept {
  return static_cast<float>(static_cast<double>(y) * (static_cast<double>(resized_height) / height));
}

namespace {

/// PyTorch upsample_bilinear2d, align_corners=False: source index and weight.
struct Tap {
  int i0 = 0;
  int i1 = 0;
  float w1 = 0.0f;  // weight of i1; i0 gets 1 - w1
};
std::vector<Tap> taps(int in, int out) {
  std::vector<Tap> t(static_cast<std::size_t>(out));
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  for (int o = 0; o < out; ++o) {
    float src = (static_cast<float>(o) + 0.5f) * scale - 0.5f;
    if (src < 0.0f) src = 0.0f;
    const int i0 = std::min(static_cast<int>(src), in - 1);
    const int i1 = std::min(i0 + 1, in - 1);
    t[static_cast<std::size_t>(o)] = {i0, i1, src - static_cast<float>(i0)};
  }
  return t;
}

/// Bilinear resize of a row-major float map `in` (in_h x in_w, reading only
/// rows < use_h and columns < use_w, i.e. a crop) to out_h x out_w.
std::vector<float> bilinear(const std::vector<float>& in, int in_w, int use_h, int use_w, int out_h, int out_w) {
  const auto tx = taps(use_w, out_w);
  const auto ty = taps(use_h, out_h);
  std::vector<float> out(static_cast<std::size_t>(out_h) * static_cast<std::size_t>(out_w));
  const auto at = [&](int y, int x) {
    return in[static_cast<std::size_t>(y) * static_cast<std::size_t>(in_w) + static_cast<std::size_t>(x)];
  };
  for (int y = 0; y < out_h; ++y) {
    const Tap& a = ty[static_cast<std::size_t>(y)];
    for (int x = 0; x < out_w; ++x) {
      const Tap& b = tx[static_cast<std::size_t>(x)];
      const float top = (1.0f - b.w1) * at(a.i0, b.i0) + b.w1 * at(a.i0, b.i1);
      const float bottom = (1.0f - b.w1) * at(a.i1, b.i0) + b.w1 * at(a.i1, b.i1);
      out[static_cast<std::size_t>(y) * static_cast<std::size_t>(out_w) + static_cast<std::size_t>(x)] =
          (1.0f - a.w1) * top + a.w1 * bottom;
    }
  }
  return out;
}

}  // namespace

std::vector<float> sam_upscale_mask(const float* low_res, int low_h, int low_w, const SamGeometry& g, int target) {
  const std::vector<float> low(low_res, low_res + static_cast<std::size_t>(low_h) * static_cast<std::size_t>(low_w));
  // F.interpolate to target x target; only the crop [:resized_h, :resized_w] is kept.
  const auto tx = taps(low_w, target);
  const auto ty = taps(low_h, target);
  const int ch = g.resized_height;
  const int cw = g.resized_width;
  std::vector<float> mid(static_cast<std::size_t>(ch) * static_cast<std::size_t>(cw));
  for (int y = 0; y < ch; ++y) {
    const Tap& a = ty[static_cast<std::size_t>(y)];
    for (int x = 0; x < cw; ++x) {
      const Tap& b = tx[static_cast<std::size_t>(x)];
      const auto at = [&](int yy, int xx) {
        return low[static_cast<std::size_t>(yy) * static_cast<std::size_t>(low_w) + static_cast<std::size_t>(xx)];
      };
      const float top = (1.0f - b.w1) * at(a.i0, b.i0) + b.w1 * at(a.i0, b.i1);
      const float bottom = (1.0f - b.w1) * at(a.i1, b.i0) + b.w1 * at(a.i1, b.i1);
      mid[static_cast<std::size_t>(y) * static_cast<std::size_t>(cw) + static_cast<std::size_t>(x)] =
          (1.0f - a.w1) * top + a.w1 * bottom;
    }
  }
  return bilinear(mid, cw, ch, cw, g.height, g.width);
}

namespace {

/// Draws each mask tinted in its prompt's colour with its outline, the
/// prompt's points (foreground filled, background ringed) and box.
class SamDecoder final : public OutputDecoder {
 public:
  explicit SamDecoder(float threshold) : threshold_(threshold) {}

  Result<void> decode(const ExecutionResult&, FrameResult&) override {
    return Error(ErrorCode::Internal, "segment anything decodes per prompt (Pipeline::run_sam)");
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
    const auto* sam = std::get_if<SamResult>(&r.output);
    if (sam == nullptr) return out;
    const DrawStyle style = DrawStyle::for_image(out);
    for (std::size_t i = 0; i < sam->masks.size(); ++i) {
      const SamMask& m = sam->masks[i];
      const vision::Rgb c = vision::palette_color(static_cast<int>(i));
      const InstanceMask& mk = m.mask;
      for (int y = 0; y < mk.height; ++y) {
        for (int x = 0; x < mk.width; ++x) {
          if (!mk.at(mk.x0 + x, mk.y0 + y)) continue;
          const bool edge = !mk.at(mk.x0 + x - 1, mk.y0 + y) || !mk.at(mk.x0 + x + 1, mk.y0 + y) ||
                            !mk.at(mk.x0 + x, mk.y0 + y - 1) || !mk.at(mk.x0 + x, mk.y0 + y + 1);
          if (edge) {
            vision::fill_rect(out, mk.x0 + x - style.thickness / 2, mk.y0 + y - style.thickness / 2,
                              mk.x0 + x + (style.thickness - 1) / 2, mk.y0 + y + (style.thickness - 1) / 2, c);
          } else {
            vision::blend_pixel(out, mk.x0 + x, mk.y0 + y, c, 0.45f);
          }
        }
      }
      if (m.prompt.box) {
        const vision::Box& b = *m.prompt.box;
        draw_box(out, b, c, "prompt " + std::to_string(i) + " iou " + std::to_string(m.iou_prediction).substr(0, 5),
                 style);
      }
      const int radius = std::max(4, style.thickness * 3);
      for (const PromptPoint& p : m.prompt.points) {
        const int px = static_cast<int>(std::lround(p.x));
        const int py = static_cast<int>(std::lround(p.y));
        draw_circle(out, px, py, radius + 2, vision::Rgb{0, 0, 0});
        draw_circle(out, px, py, radius, p.label == 1 ? vision::Rgb{40, 220, 40} : vision::Rgb{230, 40, 40});
      }
    }
    return out;
  }

  void to_json(const FrameResult& r, Json& j) const override {
    Json prompts = Json::array();
    if (const auto* sam = std::get_if<SamResult>(&r.output)) {
      for (const SamMask& m : sam->masks) {
        Json p;
        Json pts = Json::array();
        for (const PromptPoint& q : m.prompt.points) pts.push_back({{"x", q.x}, {"y", q.y}, {"label", q.label}});
        p["source"] = m.prompt.source;
        p["points"] = std::move(pts);
        p["box"] = m.prompt.box ? box_json(*m.prompt.box) : Json(nullptr);
        p["iou_prediction"] = m.iou_prediction;
        p["mask_area"] = m.area;
        p["mask_bbox"] = m.area == 0 ? Json(nullptr) : box_json(m.bbox);
        p["mask_rle"] = rle_json(m.mask, r.width, r.height);
        prompts.push_back(std::move(p));
      }
    }
    j["mask_threshold"] = threshold_;
    j["prompts"] = std::move(prompts);
  }

 private:
  /// COCO RLE, uncompressed: run lengths over the mask in column-major order
  /// (x outer, y inner), starting with a (possibly empty) run of 0s.
  static Json rle_json(const InstanceMask& m, int width, int height) {
    Json counts = Json::array();
    std::uint8_t prev = 0;
    std::size_t run = 0;
    for (int x = 0; x < width; ++x) {
      for (int y = 0; y < height; ++y) {
        const std::uint8_t v = m.at(x, y) ? 1 : 0;
        if (v != prev) {
          counts.push_back(run);
          prev = v;
          run = 0;
        }
        ++run;
      }
    }
    counts.push_back(run);
    return Json{{"size", {height, width}}, {"order", "column-major (COCO), uncompressed counts"},
                {"counts", std::move(counts)}};
  }

  float threshold_;
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_sam_decoder(const DecoderSetup& setup) {
  const auto t = setup.variant.postprocessing.mask_threshold.value_or(0.0);
  return std::unique_ptr<OutputDecoder>(std::make_unique<SamDecoder>(static_cast<float>(t)));
}

namespace {

/// The encoder's input: ResizeLongestSide (Pillow bilinear), (x - mean) / std,
/// zero padding at the bottom and right to target x target (after
/// normalisation, as Sam.preprocess does), NCHW float32.
Result<Tensor> sam_input(const vision::Image& image, const Sam& s, const SamGeometry& g) {
  AEGIS_ASSIGN_OR_RETURN(vision::Image resized,
                         vision::resize_pillow_bilinear(image, g.resized_width, g.resized_height));
  const int T = s.target;
  AEGIS_ASSIGN_OR_RETURN(Tensor tensor, Tensor::allocate_host({1, 3, T, T}, DType::Float32));
  auto dst = tensor.span<float>();
  std::fill(dst.begin(), dst.end(), 0.0f);
  const std::size_t plane = static_cast<std::size_t>(T) * static_cast<std::size_t>(T);
  for (int y = 0; y < g.resized_height; ++y) {
    const std::uint8_t* row = resized.at(0, y);
    for (int x = 0; x < g.resized_width; ++x) {
      const std::size_t o = static_cast<std::size_t>(y) * static_cast<std::size_t>(T) + static_cast<std::size_t>(x);
      for (std::size_t c = 0; c < 3; ++c) {
        dst[c * plane + o] =
            (static_cast<float>(row[static_cast<std::size_t>(x) * 3 + c]) * s.scale - s.mean[c]) / s.stddev[c];
      }
    }
  }
  return tensor;
}

Result<void> check_prompt(const SamPrompt& p, int width, int height) {
  const auto inside = [&](float x, float y) { return x >= 0.0f && y >= 0.0f && x <= width && y <= height; };
  for (const PromptPoint& q : p.points) {
    if (!inside(q.x, q.y)) {
      return Error(ErrorCode::InvalidArgument,
                   "--point " + std::to_string(q.x) + "," + std::to_string(q.y) + " is outside the " +
                       std::to_string(width) + "x" + std::to_string(height) + " image",
                   "--point");
    }
  }
  if (p.box && (!inside(p.box->x1, p.box->y1) || !inside(p.box->x2, p.box->y2))) {
    return Error(ErrorCode::InvalidArgument,
                 "--box " + std::to_string(p.box->x1) + "," + std::to_string(p.box->y1) + "," +
                     std::to_string(p.box->x2) + "," + std::to_string(p.box->y2) + " is outside the " +
                     std::to_string(width) + "x" + std::to_string(height) + " image",
                 "--box");
  }
  return {};
}

}  // namespace
}  // namespace detail

Result<void> Pipeline::attach_sam(const models::ModelCatalog& catalog, const models::Selection& sel,
                                  const models::ResolvedVariant& rv, const PipelineOptions& options) {
  if (rv.output.layout != models::OutputLayout::SamMasks) {
    if (!options.prompt_points.empty() || options.prompt_box) {
      return Error(ErrorCode::InvalidArgument,
                   "--point/--box are Segment Anything prompts; " + sel.model + " outputs " +
                       std::string(models::to_string(rv.output.layout)),
                   options.prompt_points.empty() ? "--box" : "--point");
    }
    return {};
  }
  auto s = std::make_unique<detail::Sam>();
  s->target = info_.preprocess.width;
  s->mean = info_.preprocess.mean;
  s->stddev = info_.preprocess.std;
  s->scale = info_.preprocess.scale;
  s->mask_threshold = static_cast<float>(rv.postprocessing.mask_threshold.value_or(0.0));
  // The prompt decoder: a File part named prompt_decoder.
  const models::ResolvedPart* part = nullptr;
  for (const auto& p : sel.parts) {
    if (p.name == "prompt_decoder" && p.kind == models::PartKind::File) part = &p;
  }
  if (part == nullptr) {
    return Error(ErrorCode::InvalidArgument, sel.model + " variant '" + sel.variant +
                                                 "': a sam_masks model needs a `prompt_decoder` part (the "
                                                 "SamOnnxModel export) in its manifest");
  }
  AEGIS_ASSIGN_OR_RETURN(detail::LoadedPart loaded,
                         detail::load_file_part(catalog, sel, *part, options, context_->budget()));
  s->decoder_onnx = std::move(loaded.onnx);
  s->decoder = std::move(loaded.context);
  const auto in_context = [&](Error e) {
    return e.with_context("loading " + sel.model + "/" + sel.variant + " part 'prompt_decoder' (" +
                          s->decoder_onnx.string() + ") on backend " + sel.backend);
  };
  // Its inputs must be SamOnnxModel's.
  std::vector<std::string> names;
  for (const auto& d : s->decoder->backend().input_specs()) names.push_back(d.name);
  for (const char* want : {"image_embeddings", "point_coords", "point_labels", "mask_input", "has_mask_input",
                           "orig_im_size"}) {
    if (std::find(names.begin(), names.end(), want) == names.end()) {
      std::string have;
      for (const auto& n : names) have += (have.empty() ? "" : ", ") + n;
      return in_context(Error(ErrorCode::InvalidArgument,
                              std::string("the prompt decoder has no input '") + want +
                                  "' (segment-anything's SamOnnxModel export has image_embeddings, "
                                  "point_coords, point_labels, mask_input, has_mask_input, orig_im_size; "
                                  "this one: " + have + ")"));
    }
  }
  // Optional detector part: its boxes are the prompts when none is given. It
  // is loaded only then (the prompts are fixed for the pipeline's life), so a
  // run with --point/--box needs none of the detector's files.
  const bool prompted = !options.prompt_points.empty() || options.prompt_box.has_value();
  const models::ResolvedPart* det = detail::find_detector_part(sel.parts);
  if (det != nullptr && prompted) {
    spdlog::debug("pipeline: {} has --point/--box prompts; its detector part '{}' ({}/{}) is not loaded", sel.model,
                  det->name, det->model, det->variant);
  } else if (det != nullptr) {
    PipelineOptions o = detail::detector_part_options(sel, *det, options);
    // SAM's detector also follows --allow-unlisted-backend (top-down pose's
    // does not, as before this helper).
    o.allow_unlisted_backend = options.allow_unlisted_backend;
    auto detector = Pipeline::create(catalog, o);
    if (!detector.ok()) {
      // The part's own error (e.g. yolov8n.onnx not found, every path tried),
      // saying which part it is and what else the user can do.
      const Error& e = detector.error();
      return Error(e.code(),
                   sel.model + " part '" + det->name + "' (" + det->model + " variant " + det->variant +
                       "), whose boxes are the prompts when no --point/--box is given: " + e.message() +
                       ". Pass --point/--box, or the detector's file with --part-onnx " + det->name + "=FILE",
                   e.context());
    }
    s->detector = std::move(*detector);
    if (s->detector->info().output_type != models::OutputType::Detections) {
      return Error(ErrorCode::Unsupported, sel.model + " part '" + det->name + "' is " + det->model +
                                               ", which does not output detections");
    }
    s->detector_part = det->name;
    s->class_names = s->detector->info().class_names;
    for (const auto& c : det->classes) {
      const auto it = std::find(s->class_names.begin(), s->class_names.end(), c);
      if (it == s->class_names.end()) {
        return Error(ErrorCode::InvalidArgument, sel.model + " part '" + det->name + "': class '" + c +
                                                     "' is not a class of " + det->model);
      }
      s->class_ids.push_back(static_cast<int>(it - s->class_names.begin()));
    }
  } else if (!prompted) {
    return Error(ErrorCode::InvalidArgument,
                 sel.model + " needs a prompt: pass --point x,y[,label] (repeatable) and/or --box x0,y0,x1,y1 "
                             "(variant '" + sel.variant + "' has no detector part to take boxes from)",
                 "--point");
  }
  spdlog::info("pipeline: {} prompt decoder {} loaded", sel.model, s->decoder_onnx.string());
  sam_ = std::move(s);
  return {};
}

Result<FrameResult> Pipeline::run_sam(const vision::Image& image, FrameResult frame) {
  const detail::Sam& s = *sam_;
  frame.frame_index = next_frame_++;
  const std::string what = frame.source.empty() ? std::string("image") : frame.source;
  const auto in_context = [&](Error e) -> Error { return e.with_context("segment anything on " + what); };
  // The prompts.
  std::vector<SamPrompt> prompts;
  if (!options_.prompt_points.empty() || options_.prompt_box) {
    SamPrompt p;
    p.points = options_.prompt_points;
    p.box = options_.prompt_box;
    if (auto ok = detail::check_prompt(p, image.width(), image.height()); !ok.ok()) {
      return in_context(std::move(ok).error());
    }
    prompts.push_back(std::move(p));
  } else if (s.detector) {
    auto det = s.detector->run(image, frame.source);
    if (!det.ok()) return in_context(std::move(det).error().with_context("detector part '" + s.detector_part + "'"));
    frame.timings.preprocess += det->timings.preprocess;
    frame.timings.execute += det->timings.execute;
    frame.timings.postprocess += det->timings.postprocess;
    for (const vision::Detection& d : det->detections()) {
      if (!s.class_ids.empty() && std::find(s.class_ids.begin(), s.class_ids.end(), d.class_id) == s.class_ids.end()) {
        continue;
      }
      SamPrompt p;
      p.box = d.box;
      p.source = "detector";
      prompts.push_back(std::move(p));
    }
  }
  // 1. The encoder, once.
  TimePoint t = Clock::now();
  const detail::SamGeometry g = detail::SamGeometry::of(image.width(), image.height(), s.target);
  frame.transform.dst_width = s.target;
  frame.transform.dst_height = s.target;
  frame.transform.scale_x = static_cast<float>(g.resized_width) / static_cast<float>(g.width);
  frame.transform.scale_y = static_cast<float>(g.resized_height) / static_cast<float>(g.height);
  auto input = detail::sam_input(image, s, g);
  if (!input.ok()) return in_context(std::move(input).error());
  frame.timings.preprocess += since(t);
  t = Clock::now();
  ExecutionRequest request;
  request.inputs.push_back({info_.input_name, input->view()});
  auto enc = context_->execute(request);
  if (!enc.ok()) return in_context(std::move(enc).error().with_context("image encoder"));
  frame.timings.execute += since(t);
  frame.deadline_missed = enc->deadline_missed;
  const Tensor* embeddings = enc->find(s.embeddings_name);
  if (embeddings == nullptr && enc->outputs.size() == 1) embeddings = &enc->outputs.front();
  if (embeddings == nullptr) {
    return in_context(Error(ErrorCode::InvalidArgument, "the image encoder has no output '" + s.embeddings_name + "'"));
  }

  // 2. The prompt decoder, once per prompt.
  AEGIS_ASSIGN_OR_RETURN(Tensor mask_input, Tensor::allocate_host({1, 1, 256, 256}, DType::Float32));
  std::fill(mask_input.span<float>().begin(), mask_input.span<float>().end(), 0.0f);
  AEGIS_ASSIGN_OR_RETURN(Tensor has_mask, Tensor::allocate_host({1}, DType::Float32));
  has_mask.span<float>()[0] = 0.0f;
  AEGIS_ASSIGN_OR_RETURN(Tensor orig_size, Tensor::allocate_host({2}, DType::Float32));
  orig_size.span<float>()[0] = static_cast<float>(image.height());
  orig_size.span<float>()[1] = static_cast<float>(image.width());
  SamResult result;
  for (SamPrompt& prompt : prompts) {
    t = Clock::now();
    // SAM's ONNX example: the points, then the box as two points labelled 2
    // and 3; without a box a padding point (0, 0) labelled -1.
    std::vector<std::array<float, 3>> pts;
    for (const PromptPoint& q : prompt.points) pts.push_back({g.map_x(q.x), g.map_y(q.y), static_cast<float>(q.label)});
    if (prompt.box) {
      pts.push_back({g.map_x(prompt.box->x1), g.map_y(prompt.box->y1), 2.0f});
      pts.push_back({g.map_x(prompt.box->x2), g.map_y(prompt.box->y2), 3.0f});
    } else {
      pts.push_back({0.0f, 0.0f, -1.0f});
    }
    const auto n = static_cast<std::int64_t>(pts.size());
    AEGIS_ASSIGN_OR_RETURN(Tensor coords, Tensor::allocate_host({1, n, 2}, DType::Float32));
    AEGIS_ASSIGN_OR_RETURN(Tensor labels, Tensor::allocate_host({1, n}, DType::Float32));
    for (std::size_t i = 0; i < pts.size(); ++i) {
      coords.span<float>()[2 * i] = pts[i][0];
      coords.span<float>()[2 * i + 1] = pts[i][1];
      labels.span<float>()[i] = pts[i][2];
    }
    ExecutionRequest dreq;
    dreq.inputs.push_back({"image_embeddings", embeddings->view()});
    dreq.inputs.push_back({"point_coords", coords.view()});
    dreq.inputs.push_back({"point_labels", labels.view()});
    dreq.inputs.push_back({"mask_input", mask_input.view()});
    dreq.inputs.push_back({"has_mask_input", has_mask.view()});
    dreq.inputs.push_back({"orig_im_size", orig_size.view()});
    frame.timings.preprocess += since(t);
    t = Clock::now();
    auto dec = s.decoder->execute(dreq);
    if (!dec.ok()) return in_context(std::move(dec).error().with_context("prompt decoder"));
    frame.timings.execute += since(t);
    frame.deadline_missed = frame.deadline_missed || dec->deadline_missed;

    // 3. low_res_masks upsampled as SamPredictor does (the export's `masks`
    //    output has the export-time image size's crop baked in by the tracer).
    t = Clock::now();
    const Tensor* low = dec->find("low_res_masks");
    const Tensor* iou = dec->find("iou_predictions");
    if (low == nullptr || iou == nullptr || low->dtype() != DType::Float32 || iou->dtype() != DType::Float32 ||
        low->shape().size() != 4 || low->shape()[0] != 1 || low->shape()[1] < 1 || iou->element_count() < 1) {
      return in_context(Error(ErrorCode::InvalidArgument,
                              "the prompt decoder must output float32 low_res_masks [1, M, h, w] and "
                              "iou_predictions [1, M] (SamOnnxModel --return-single-mask)"));
    }
    const int lh = static_cast<int>(low->shape()[2]);
    const int lw = static_cast<int>(low->shape()[3]);
    const std::vector<float> logits = detail::sam_upscale_mask(low->span<const float>().data(), lh, lw, g, s.target);
    SamMask m;
    m.mask.width = image.width();
    m.mask.height = image.height();
    m.mask.data.resize(logits.size());
    int x0 = image.width(), y0 = image.height(), x1 = -1, y1 = -1;
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) {
        const std::size_t i = static_cast<std::size_t>(y) * static_cast<std::size_t>(image.width()) +
                              static_cast<std::size_t>(x);
        const bool on = logits[i] > s.mask_threshold;
        m.mask.data[i] = on ? 1 : 0;
        if (on) {
          ++m.area;
          x0 = std::min(x0, x);
          y0 = std::min(y0, y);
          x1 = std::max(x1, x);
          y1 = std::max(y1, y);
        }
      }
    }
    if (m.area > 0) {
      m.bbox = vision::Box{static_cast<float>(x0), static_cast<float>(y0), static_cast<float>(x1),
                           static_cast<float>(y1)};
    }
    m.iou_prediction = iou->span<const float>()[0];
    m.prompt = std::move(prompt);
    result.masks.push_back(std::move(m));
    frame.timings.postprocess += since(t);
  }
  frame.output = std::move(result);
  return frame;
}

}  // namespace aegisrt::pipeline
