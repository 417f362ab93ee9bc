// Layouts relative_inverse_depth and metric_depth: one depth map brought back
// to the original image, colour-mapped, with the raw range in the JSON.
#include <spdlog/spdlog.h>

#include <optional>

#include "aegisrt/vision/depth.h"
#include "pipeline/decoders/decoder.h"

namespace aegisrt::pipeline::detail {
namespace {

class DepthDecoder final : public OutputDecoder {
 public:
  explicit DepthDecoder(const DecoderSetup& s)
      : variant_(s.variant), metric_(s.variant.output.layout == models::OutputLayout::MetricDepth) {
    if (s.variant.input.preprocessing && s.variant.input.preprocessing->border) {
      border_factor_ = s.variant.input.preprocessing->border->factor;
    }
  }

  Result<void> decode(const ExecutionResult& out, FrameResult& frame) override {
    AEGIS_ASSIGN_OR_RETURN(const Tensor* t, output_at(out, variant_, 0));
    std::string map_name = variant_.postprocessing.color_map.value_or("turbo");
    auto map = vision::parse_colormap(map_name);
    if (!map.ok()) {
      spdlog::warn("colour map '{}' is not available; using turbo", map_name);
      map_name = "turbo";
      map = vision::ColorMap::Turbo;
    }
    // The manifest's postprocessing.upsample: how the reference brings the
    // map back to the image (transformers: bicubic; default bilinear).
    const auto filter = variant_.postprocessing.upsample.value_or(models::Interpolation::Bilinear) ==
                                models::Interpolation::Bicubic
                            ? vision::Interpolation::Bicubic
                            : vision::Interpolation::Bilinear;
    // input.preprocessing.border (ZoeDepth): the input was the image plus a
    // border; the map is brought to the padded size and the border cropped.
    vision::DepthMap depth;
    if (border_factor_) {
      const int bx = vision::border_size(frame.transform.src_width, *border_factor_);
      const int by = vision::border_size(frame.transform.src_height, *border_factor_);
      AEGIS_ASSIGN_OR_RETURN(depth, vision::depth_to_original_unpadded(t->view(), frame.transform, bx, by, 0, filter));
    } else {
      AEGIS_ASSIGN_OR_RETURN(depth, vision::depth_to_original(t->view(), frame.transform, 0, filter));
    }
    DepthResult d;
    d.depth = depth;  // raw values, copied before normalising in place (served as DEPTH by Triton)
    const auto [lo, hi] = vision::normalize_min_max(depth.values);
    d.min_value = lo;
    d.max_value = hi;
    d.color_map = map_name;
    // Near = warm colours: inverse depth grows towards the camera, metric depth away from it.
    AEGIS_ASSIGN_OR_RETURN(d.colorized, vision::colorize(depth, *map, metric_));
    frame.output = std::move(d);
    return {};
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    if (const DepthResult* d = r.depth()) return d->colorized;
    return image.convert(3);
  }

  void to_json(const FrameResult& r, Json& j) const override {
    if (const DepthResult* d = r.depth()) {
      j["depth"] = {{"min", d->min_value}, {"max", d->max_value}, {"color_map", d->color_map},
                    {"kind", metric_ ? "metric" : "relative_inverse"}};
      if (metric_) j["depth"]["unit"] = "m";
    }
  }

 private:
  models::ResolvedVariant variant_;
  bool metric_;
  std::optional<double> border_factor_;  // input.preprocessing.border, removed from the map
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_depth_decoder(const DecoderSetup& setup) {
  return std::unique_ptr<OutputDecoder>(new DepthDecoder(setup));
}

}  // namespace aegisrt::pipeline::detail
