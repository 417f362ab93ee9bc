// Layout yolo_v8_seg: Ultralytics YOLO v8/v11 segment (-seg) exports.
//   output0 [1, 4+nc+nm, N]: cx, cy, w, h (input pixels), nc class scores,
//                            nm mask coefficients (nm = 32)
//   output1 [1, nm, H/4, W/4]: mask prototypes
// Boxes: Ultralytics' NMS (decode_yolo_instances). Masks as Ultralytics'
// retina_masks path (ops.process_mask_native) makes them at the original
// image size: logits = coefficients . prototypes, the letterbox content of
// the prototype map resized bilinearly (half-pixel centres, edge clamped) to
// the image, > 0, cropped to the box (pixel x kept when x1 <= x < x2).
// Ultralytics drops instances whose mask is empty; so does this decoder.
// (Where the letterbox padding is not a whole prototype pixel Ultralytics
// first upsamples the prototypes 2x or 4x; sampling the content span
// directly differs from that by sub-pixel edge effects only.)
#include <algorithm>
#include <cmath>

#include "aegisrt/vision/draw.h"
#include "pipeline/decoders/decoder.h"
#include "vision/tensor_access.h"

namespace aegisrt::pipeline::detail {
namespace {

/// Bilinear taps along one axis (PyTorch interpolate, align_corners=False).
struct Tap {
  int i0 = 0;
  int i1 = 0;
  float w1 = 0.0f;  // weight of i1; i0 gets 1 - w1
};

/// For output pixel `o` of `out_size`, sampling the span [start, start+len)
/// of an axis of `size` cells.
Tap tap(int o, int out_size, float start, float len, int size) {
  float rel = (static_cast<float>(o) + 0.5f) * len / static_cast<float>(out_size) - 0.5f;
  rel = std::max(rel, 0.0f);
  const float p = start + rel;
  const int last = std::clamp(static_cast<int>(std::ceil(start + len)) - 1, 0, size - 1);
  Tap t;
  t.i0 = std::clamp(static_cast<int>(std::floor(p)), 0, last);
  t.i1 = std::min(t.i0 + 1, last);
  t.w1 = std::clamp(p - static_cast<float>(t.i0), 0.0f, 1.0f);
  return t;
}

/// Image size, prototype map size and where the letterboxed content lies in it.
struct ProtoGeometry {
  int W, H;      // original image
  int mw, mh;    // prototype map
  float left, top, cw, ch;  // the content inside the prototype map
};

/// The instance's binary mask inside its (original-image) box: the prototype
/// logits (coefficients . prototypes) on the cells the box touches, bilinearly
/// upsampled to the image, > 0. False when the box or the mask is empty.
bool instance_mask(const TensorView& protos, const std::vector<float>& coeff, const vision::Box& box,
                   const ProtoGeometry& g, InstanceMask& m) {
  const int W = g.W;
  const int H = g.H;
  const auto nm = static_cast<std::int64_t>(coeff.size());
  const Shape& pst = protos.strides();
  // Pixels kept by the crop: x1 <= x < x2, y1 <= y < y2.
  m.x0 = std::clamp(static_cast<int>(std::ceil(box.x1)), 0, W);
  m.y0 = std::clamp(static_cast<int>(std::ceil(box.y1)), 0, H);
  m.width = std::max(0, std::clamp(static_cast<int>(std::ceil(box.x2)), 0, W) - m.x0);
  m.height = std::max(0, std::clamp(static_cast<int>(std::ceil(box.y2)), 0, H) - m.y0);
  if (m.width == 0 || m.height == 0) return false;
  std::vector<Tap> xt(static_cast<std::size_t>(m.width));
  std::vector<Tap> yt(static_cast<std::size_t>(m.height));
  for (int x = 0; x < m.width; ++x) xt[static_cast<std::size_t>(x)] = tap(m.x0 + x, W, g.left, g.cw, g.mw);
  for (int y = 0; y < m.height; ++y) yt[static_cast<std::size_t>(y)] = tap(m.y0 + y, H, g.top, g.ch, g.mh);
  // Mask logits on the prototype cells the window touches.
  const int gx0 = xt.front().i0;
  const int gx1 = xt.back().i1;
  const int gy0 = yt.front().i0;
  const int gy1 = yt.back().i1;
  const int gw = gx1 - gx0 + 1;
  std::vector<float> logits(static_cast<std::size_t>(gw) * static_cast<std::size_t>(gy1 - gy0 + 1), 0.0f);
  for (int gy = gy0; gy <= gy1; ++gy) {
    for (int gx = gx0; gx <= gx1; ++gx) {
      float v = 0.0f;
      for (std::int64_t k = 0; k < nm; ++k) {
        v += coeff[static_cast<std::size_t>(k)] *
             vision::detail::load(protos, k * pst[1] + gy * pst[2] + gx * pst[3]);
      }
      logits[static_cast<std::size_t>(gy - gy0) * static_cast<std::size_t>(gw) +
             static_cast<std::size_t>(gx - gx0)] = v;
    }
  }
  const auto at = [&](int gy, int gx) {
    return logits[static_cast<std::size_t>(gy - gy0) * static_cast<std::size_t>(gw) +
                  static_cast<std::size_t>(gx - gx0)];
  };
  m.data.assign(static_cast<std::size_t>(m.width) * static_cast<std::size_t>(m.height), 0);
  std::size_t area = 0;
  for (int y = 0; y < m.height; ++y) {
    const Tap& ty = yt[static_cast<std::size_t>(y)];
    for (int x = 0; x < m.width; ++x) {
      const Tap& tx = xt[static_cast<std::size_t>(x)];
      const float top_v = at(ty.i0, tx.i0) * (1.0f - tx.w1) + at(ty.i0, tx.i1) * tx.w1;
      const float bot_v = at(ty.i1, tx.i0) * (1.0f - tx.w1) + at(ty.i1, tx.i1) * tx.w1;
      const float v = top_v * (1.0f - ty.w1) + bot_v * ty.w1;
      if (v > 0.0f) {
        m.data[static_cast<std::size_t>(y) * static_cast<std::size_t>(m.width) + static_cast<std::size_t>(x)] = 1;
        ++area;
      }
    }
  }
  return area > 0;
}

class YoloV8SegDecoder final : public OutputDecoder {
 public:
  YoloV8SegDecoder(const DecoderSetup& s, vision::YoloDecodeConfig cfg)
      : names_(s.variant.output.class_names), cfg_(cfg) {}

  Result<void> decode(const ExecutionResult& out, FrameResult& frame) override {
    AEGIS_ASSIGN_OR_RETURN(const Tensor* head, output_of_rank(out, 3, "detections (output0)"));
    AEGIS_ASSIGN_OR_RETURN(const Tensor* protos_t, output_of_rank(out, 4, "mask prototypes (output1)"));
    const TensorView det = head->view();
    const TensorView protos = protos_t->view();
    AEGIS_TRY(vision::detail::check_float_output(protos, "mask prototypes"));
    const Shape& ps = protos.shape();
    if (ps[0] < 1 || ps[1] < 1 || ps[2] < 1 || ps[3] < 1) {
      return Error(ErrorCode::InvalidArgument, "mask prototypes have shape " + shape_to_string(ps));
    }
    const std::int64_t nm = ps[1];
    const int mh = static_cast<int>(ps[2]);
    const int mw = static_cast<int>(ps[3]);
    if (det.rank() != 3 || det.shape()[1] <= 4 + nm) {
      return Error(ErrorCode::InvalidArgument, "detection output has shape " + shape_to_string(det.shape()) +
                                                   ", expected [1, 4+num_classes+" + std::to_string(nm) +
                                                   ", num_anchors]");
    }
    const int nc = static_cast<int>(det.shape()[1] - 4 - nm);
    AEGIS_ASSIGN_OR_RETURN(std::vector<YoloInstance> inst,
                           decode_yolo_instances(det, nc, nm, cfg_, "detection output"));

    const auto& tr = frame.transform;
    const int W = tr.src_width;
    const int H = tr.src_height;
    // The letterbox content inside the prototype map.
    const float sx = static_cast<float>(mw) / static_cast<float>(tr.dst_width);
    const float sy = static_cast<float>(mh) / static_cast<float>(tr.dst_height);
    const ProtoGeometry g{W,
                          H,
                          mw,
                          mh,
                          static_cast<float>(tr.pad_x) * sx,
                          static_cast<float>(tr.pad_y) * sy,
                          static_cast<float>(tr.resized_width) * sx,
                          static_cast<float>(tr.resized_height) * sy};

    InstanceSegmentationResult r;
    std::vector<float> coeff(static_cast<std::size_t>(nm));
    for (const YoloInstance& in : inst) {
      vision::Detection d = in.det;
      d.box = tr.to_original(d.box).clipped(static_cast<float>(W), static_cast<float>(H));
      if (!std::isfinite(d.box.x1) || !std::isfinite(d.box.y1) || !std::isfinite(d.box.x2) ||
          !std::isfinite(d.box.y2)) {
        continue;  // a NaN box has no pixels (and NaN must not reach an int cast)
      }
      for (std::int64_t k = 0; k < nm; ++k) coeff[static_cast<std::size_t>(k)] = head_at(det, 4 + nc + k, in.anchor);
      InstanceMask m;
      if (!instance_mask(protos, coeff, d.box, g, m)) continue;  // as Ultralytics: only instances with a mask
      r.detections.push_back(d);
      r.masks.push_back(std::move(m));
    }
    frame.output = std::move(r);
    return {};
  }

  [[nodiscard]] Result<vision::Image> annotate(const vision::Image& image, const FrameResult& r) const override {
    AEGIS_ASSIGN_OR_RETURN(vision::Image out, image.convert(3));
    const auto* seg = std::get_if<InstanceSegmentationResult>(&r.output);
    if (seg == nullptr) return out;
    const DrawStyle style = DrawStyle::for_image(out);
    for (std::size_t i = 0; i < seg->masks.size(); ++i) {
      const InstanceMask& m = seg->masks[i];
      const vision::Rgb c = vision::palette_color(seg->detections[i].class_id);
      for (int y = 0; y < m.height; ++y) {
        for (int x = 0; x < m.width; ++x) {
          if (m.data[static_cast<std::size_t>(y) * static_cast<std::size_t>(m.width) + static_cast<std::size_t>(x)]) {
            vision::blend_pixel(out, m.x0 + x, m.y0 + y, c, 0.5f);
          }
        }
      }
    }
    for (const auto& d : seg->detections) draw_detection(out, d, names_, style);
    return out;
  }

  void to_json(const FrameResult& r, Json& j) const override {
    Json dets = Json::array();
    if (const auto* seg = std::get_if<InstanceSegmentationResult>(&r.output)) {
      for (std::size_t i = 0; i < seg->detections.size(); ++i) {
        Json d = detection_json(seg->detections[i], names_);
        const InstanceMask& m = seg->masks[i];
        // Run lengths over the mask's window, row-major, starting with a run of 0s.
        Json rle = Json::array();
        std::uint8_t cur = 0;
        std::size_t run = 0;
        for (const std::uint8_t v : m.data) {
          if (v != cur) {
            rle.push_back(run);
            run = 0;
            cur = v;
          }
          ++run;
        }
        rle.push_back(run);
        d["mask"] = {{"x0", m.x0}, {"y0", m.y0}, {"width", m.width}, {"height", m.height}, {"area", m.area()},
                     {"rle", std::move(rle)}};
        dets.push_back(std::move(d));
      }
    }
    j["detections"] = std::move(dets);
    j["thresholds"] = thresholds_json(cfg_, cfg_.conf_threshold);
  }

 private:
  std::vector<std::string> names_;
  vision::YoloDecodeConfig cfg_;
};

}  // namespace

Result<std::unique_ptr<OutputDecoder>> make_yolo_v8_seg_decoder(const DecoderSetup& setup) {
  AEGIS_ASSIGN_OR_RETURN(const vision::YoloDecodeConfig cfg, yolo_config(setup));
  return std::unique_ptr<OutputDecoder>(new YoloV8SegDecoder(setup, cfg));
}

}  // namespace aegisrt::pipeline::detail
