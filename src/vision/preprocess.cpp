// CPU pre-processing: one pass over the output, each pixel sampled
// bilinearly through precomputed x/y tap tables, colour-mapped, normalised and
// written straight into its layout slot; padding written once.
#include "aegisrt/vision/preprocess.h"
#include "aegisrt/vision/resize_pillow.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "vision/preprocess_plan.h"

namespace aegisrt::vision {

std::string_view to_string(ResizeMode m) noexcept {
  return m == ResizeMode::Letterbox ? "letterbox" : "stretch";
}
std::string_view to_string(ColorOrder c) noexcept { return c == ColorOrder::RGB ? "rgb" : "bgr"; }
std::string_view to_string(Layout l) noexcept { return l == Layout::NCHW ? "nchw" : "nhwc"; }

Result<ResizeMode> parse_resize_mode(std::string_view s) {
  if (s == "letterbox") return ResizeMode::Letterbox;
  if (s == "stretch" || s == "resize") return ResizeMode::Stretch;
  return Error(ErrorCode::InvalidArgument,
               "unknown resize mode '" + std::string(s) + "' (letterbox, stretch)", "preprocess.resize");
}

Result<ColorOrder> parse_color_order(std::string_view s) {
  if (s == "rgb" || s == "RGB") return ColorOrder::RGB;
  if (s == "bgr" || s == "BGR") return ColorOrder::BGR;
  return Error(ErrorCode::InvalidArgument, "unknown colour order '" + std::string(s) + "' (rgb, bgr)",
               "preprocess.color_order");
}

Result<Layout> parse_layout(std::string_view s) {
  if (s == "nchw" || s == "NCHW" || s == "chw" || s == "CHW") return Layout::NCHW;
  if (s == "nhwc" || s == "NHWC" || s == "hwc" || s == "HWC") return Layout::NHWC;
  return Error(ErrorCode::InvalidArgument, "unknown layout '" + std::string(s) + "' (nchw, nhwc)",
               "preprocess.layout");
}

Result<void> PreprocessConfig::validate() const {
  constexpr int kMaxSide = 1 << 15;
  if (width <= 0 || height <= 0 || width > kMaxSide || height > kMaxSide) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing size " + std::to_string(width) + "x" + std::to_string(height) +
                     " is not in 1..32768",
                 "preprocess.width/height");
  }
  if (!std::isfinite(scale)) {
    return Error(ErrorCode::InvalidArgument, "pre-processing scale is not finite", "preprocess.scale");
  }
  if (border != BorderMode::None) {
    if (!std::isfinite(border_factor) || border_factor <= 0.0 || border_factor > 64.0) {
      return Error(ErrorCode::InvalidArgument, "pre-processing border factor must be within (0, 64]",
                   "preprocess.border");
    }
    if (resize != ResizeMode::Stretch) {
      return Error(ErrorCode::InvalidArgument,
                   "a pre-processing border is added before a plain resize; it cannot be combined with a letterbox",
                   "preprocess.border");
    }
    if (interpolation != Interpolation::Bilinear) {
      return Error(ErrorCode::InvalidArgument, "a pre-processing border needs bilinear interpolation",
                   "preprocess.border");
    }
  }
  if (align_corners && interpolation != Interpolation::Bilinear) {
    return Error(ErrorCode::InvalidArgument, "align_corners applies to bilinear interpolation only",
                 "preprocess.align_corners");
  }
  for (std::size_t k = 0; k < 3; ++k) {
    if (!std::isfinite(std[k]) || std[k] == 0.0f) {
      return Error(ErrorCode::InvalidArgument,
                   "pre-processing std[" + std::to_string(k) + "] must be finite and non-zero",
                   "preprocess.std");
    }
    if (!std::isfinite(mean[k])) {
      return Error(ErrorCode::InvalidArgument,
                   "pre-processing mean[" + std::to_string(k) + "] is not finite", "preprocess.mean");
    }
  }
  return {};
}

Shape PreprocessConfig::tensor_shape(std::int64_t batch) const {
  if (layout == Layout::NCHW) return {batch, 3, height, width};
  return {batch, height, width, 3};
}

int border_size(int side, double factor) noexcept {
  if (side <= 0 || !(factor > 0.0)) return 0;
  return static_cast<int>(std::sqrt(static_cast<double>(side) / 2.0) * factor);
}

Result<LetterboxTransform> compute_transform(int src_width, int src_height,
                                             const PreprocessConfig& config) {
  AEGIS_TRY(config.validate());
  if (src_width <= 0 || src_height <= 0) {
    return Error(ErrorCode::InvalidArgument, "source image size " + std::to_string(src_width) +
                                                 "x" + std::to_string(src_height) +
                                                 " is not positive");
  }
  if (config.border == BorderMode::Reflect) {
    // A reflection needs more pixels than it mirrors (PyTorch refuses too).
    const int bx = border_size(src_width, config.border_factor);
    const int by = border_size(src_height, config.border_factor);
    if (bx >= src_width || by >= src_height) {
      return Error(ErrorCode::InvalidArgument,
                   "source image " + std::to_string(src_width) + "x" + std::to_string(src_height) +
                       " is too small for a reflect border of " + std::to_string(bx) + "x" + std::to_string(by) +
                       " pixels (the border must be smaller than the image)",
                   "preprocess.border");
    }
  }
  LetterboxTransform t;
  t.src_width = src_width;
  t.src_height = src_height;
  t.dst_width = config.width;
  t.dst_height = config.height;
  if (config.resize == ResizeMode::Letterbox) {
    const double r = std::min(static_cast<double>(config.width) / src_width,
                              static_cast<double>(config.height) / src_height);
    t.resized_width = std::clamp(static_cast<int>(std::lround(src_width * r)), 1, config.width);
    t.resized_height = std::clamp(static_cast<int>(std::lround(src_height * r)), 1, config.height);
    t.pad_x = (config.width - t.resized_width) / 2;
    t.pad_y = (config.height - t.resized_height) / 2;
  } else {
    t.resized_width = config.width;
    t.resized_height = config.height;
  }
  t.scale_x = static_cast<float>(static_cast<double>(t.resized_width) / src_width);
  t.scale_y = static_cast<float>(static_cast<double>(t.resized_height) / src_height);
  return t;
}

namespace {

using detail::NormPlan;
using detail::Tap;

struct XTap {
  int o0;  // byte offset of left tap in a source row
  int o1;  // byte offset of right tap
  float w;
};

/// Fills output pixels [x_begin, x_end) of row y with the pad values.
void fill_pad(float* out, const PreprocessConfig& cfg, const NormPlan& plan, int y, int x_begin,
              int x_end) {
  if (x_end <= x_begin) return;
  const std::size_t plane = static_cast<std::size_t>(cfg.width) * static_cast<std::size_t>(cfg.height);
  const std::size_t row = static_cast<std::size_t>(y) * static_cast<std::size_t>(cfg.width);
  if (cfg.layout == Layout::NCHW) {
    for (std::size_t k = 0; k < 3; ++k) {
      float* p = out + k * plane + row;
      std::fill(p + x_begin, p + x_end, plan.pad[k]);
    }
  } else {
    float* p = out + row * 3;
    for (int x = x_begin; x < x_end; ++x) {
      p[3 * x + 0] = plan.pad[0];
      p[3 * x + 1] = plan.pad[1];
      p[3 * x + 2] = plan.pad[2];
    }
  }
}

// C: source channels; kIdentity: no resampling (1:1 copy with normalisation);
// kNchw: output layout.
// Long on purpose: the hot per-row resize loop; split, its row cache and hoisted constants would cross calls.
template <int C, bool kIdentity, bool kNchw>
void run_rows(const Image& img, const LetterboxTransform& t, const PreprocessConfig& cfg,
              const NormPlan& plan, const std::vector<XTap>& xt, const std::vector<Tap>& yt,
              float* out) {
  const std::size_t W = static_cast<std::size_t>(cfg.width);
  const std::size_t plane = W * static_cast<std::size_t>(cfg.height);
  const std::size_t stride = img.row_bytes();
  const std::uint8_t* src = img.data();
  const int c0 = plan.src_channel[0], c1 = plan.src_channel[1], c2 = plan.src_channel[2];
  const float m0 = plan.mul[0], m1 = plan.mul[1], m2 = plan.mul[2];
  const float a0 = plan.add[0], a1 = plan.add[1], a2 = plan.add[2];
  const int nw = t.resized_width;
  const std::size_t unw = static_cast<std::size_t>(nw);
  // Two cached horizontally-resampled source rows, planar (3 x nw floats each).
  std::vector<float> cache;
  int cached_row[2] = {-1, -1};
  if constexpr (!kIdentity) cache.resize(2 * 3 * unw);
  auto hpass = [&](int sy, float* dst) {
    const std::uint8_t* r = src + static_cast<std::size_t>(sy) * stride;
    for (std::size_t x = 0; x < unw; ++x) {
      const XTap& tx = xt[x];
      const std::uint8_t* q0 = r + tx.o0;
      const std::uint8_t* q1 = r + tx.o1;
      const float fx = tx.w;
      const float l0 = q0[c0], l1 = q0[c1], l2 = q0[c2];
      dst[x] = l0 + (static_cast<float>(q1[c0]) - l0) * fx;
      dst[unw + x] = l1 + (static_cast<float>(q1[c1]) - l1) * fx;
      dst[2 * unw + x] = l2 + (static_cast<float>(q1[c2]) - l2) * fx;
    }
  };
  // Returns the buffer holding source row `row`, never evicting row `keep`.
  auto ensure_row = [&](int row, int keep) -> float* {
    for (std::size_t slot = 0; slot < 2; ++slot)
      if (cached_row[slot] == row) return cache.data() + slot * 3 * unw;
    const std::size_t slot = cached_row[0] == keep ? 1 : 0;
    float* buf = cache.data() + slot * 3 * unw;
    hpass(row, buf);
    cached_row[slot] = row;
    return buf;
  };
  for (int dy = 0; dy < t.resized_height; ++dy) {
    const std::size_t oy = static_cast<std::size_t>(t.pad_y + dy);
    const std::size_t base = oy * W + static_cast<std::size_t>(t.pad_x);
    float* p0 = kNchw ? out + base : out + base * 3;
    float* p1 = out + plane + base;
    float* p2 = out + 2 * plane + base;
    if constexpr (kIdentity) {
      const std::uint8_t* r = src + static_cast<std::size_t>(dy) * stride;
      for (int dx = 0; dx < nw; ++dx, r += C) {
        const float v0 = static_cast<float>(r[c0]) * m0 + a0;
        const float v1 = static_cast<float>(r[c1]) * m1 + a1;
        const float v2 = static_cast<float>(r[c2]) * m2 + a2;
        if constexpr (kNchw) {
          p0[dx] = v0;
          p1[dx] = v1;
          p2[dx] = v2;
        } else {
          p0[3 * dx] = v0;
          p0[3 * dx + 1] = v1;
          p0[3 * dx + 2] = v2;
        }
      }
    } else {
      // Separable: horizontal pass per source row into planar float rows
      // (cached: consecutive output rows often share source rows), then a
      // contiguous, vectorisable vertical blend + normalise + store.
      const Tap& ty = yt[static_cast<std::size_t>(dy)];
      float* b0 = ensure_row(ty.i0, ty.i1);
      float* b1 = ty.i1 == ty.i0 ? b0 : ensure_row(ty.i1, ty.i0);
      const float fy = ty.w;
      float* planes[3] = {p0, p1, p2};
      const float mul[3] = {m0, m1, m2};
      const float add[3] = {a0, a1, a2};
      for (std::size_t k = 0; k < 3; ++k) {
        const float* ra = b0 + k * unw;
        const float* rb = b1 + k * unw;
        const float m = mul[k], a = add[k];
        if constexpr (kNchw) {
          float* o = planes[k];
          if (fy == 0.0f) {
            for (std::size_t x = 0; x < unw; ++x) o[x] = ra[x] * m + a;
          } else {
            for (std::size_t x = 0; x < unw; ++x) o[x] = (ra[x] + (rb[x] - ra[x]) * fy) * m + a;
          }
        } else {
          float* o = p0 + k;
          for (std::size_t x = 0; x < unw; ++x) o[3 * x] = (ra[x] + (rb[x] - ra[x]) * fy) * m + a;
        }
      }
    }
  }
}

/// Reflection of index q of a border-padded axis into the source [0, n):
/// ..., 2, 1, [0, 1, ..., n-1], n-2, ... (no edge repeat; border < n).
int reflect_index(int q, int border, int n) noexcept {
  int i = q - border;
  if (i < 0) i = -i;
  if (i >= n) i = 2 * (n - 1) - i;
  return i;
}

/// Tap of output index d on an axis of `n` source pixels plus `border` on
/// each side, resized to `out`: half-pixel centres, or align_corners as
/// PyTorch computes it (float: scale = (in - 1) / (out - 1), src = scale * d).
Tap padded_tap(int d, int n, int border, int out, bool align_corners) {
  const int in = n + 2 * border;
  Tap t;
  if (align_corners) {
    const float scale = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
    const float s = scale * static_cast<float>(d);
    const int i0 = std::min(static_cast<int>(s), in - 1);
    t = {i0, i0 < in - 1 ? i0 + 1 : i0, i0 < in - 1 ? s - static_cast<float>(i0) : 0.0f};
  } else {
    t = detail::make_tap(d, static_cast<double>(in) / out, in);
  }
  return {reflect_index(t.i0, border, n), reflect_index(t.i1, border, n), t.w};
}

template <int C>
void run_image(const Image& img, const LetterboxTransform& t, const PreprocessConfig& cfg,
               const NormPlan& plan, float* out) {
  const bool general = cfg.border != BorderMode::None || cfg.align_corners;
  const bool identity = !general && t.resized_width == img.width() && t.resized_height == img.height();
  const bool nchw = cfg.layout == Layout::NCHW;
  std::vector<XTap> xt;
  std::vector<Tap> yt;
  if (general) {
    // Border (virtual: taps index the source through the reflection) and/or
    // align_corners; the same separable bilinear pass as below.
    const bool reflect = cfg.border == BorderMode::Reflect;
    const int bx = reflect ? border_size(img.width(), cfg.border_factor) : 0;
    const int by = reflect ? border_size(img.height(), cfg.border_factor) : 0;
    xt.resize(static_cast<std::size_t>(t.resized_width));
    for (int dx = 0; dx < t.resized_width; ++dx) {
      const Tap tap = padded_tap(dx, img.width(), bx, t.resized_width, cfg.align_corners);
      xt[static_cast<std::size_t>(dx)] = {tap.i0 * C, tap.i1 * C, tap.w};
    }
    yt.resize(static_cast<std::size_t>(t.resized_height));
    for (int dy = 0; dy < t.resized_height; ++dy) {
      yt[static_cast<std::size_t>(dy)] = padded_tap(dy, img.height(), by, t.resized_height, cfg.align_corners);
    }
  } else if (!identity) {
    const double inv_x = static_cast<double>(img.width()) / t.resized_width;
    const double inv_y = static_cast<double>(img.height()) / t.resized_height;
    xt.resize(static_cast<std::size_t>(t.resized_width));
    for (int dx = 0; dx < t.resized_width; ++dx) {
      const Tap tap = detail::make_tap(dx, inv_x, img.width());
      xt[static_cast<std::size_t>(dx)] = {tap.i0 * C, tap.i1 * C, tap.w};
    }
    yt.resize(static_cast<std::size_t>(t.resized_height));
    for (int dy = 0; dy < t.resized_height; ++dy) {
      yt[static_cast<std::size_t>(dy)] = detail::make_tap(dy, inv_y, img.height());
    }
  }
  if (identity) {
    if (nchw) run_rows<C, true, true>(img, t, cfg, plan, xt, yt, out);
    else run_rows<C, true, false>(img, t, cfg, plan, xt, yt, out);
  } else {
    if (nchw) run_rows<C, false, true>(img, t, cfg, plan, xt, yt, out);
    else run_rows<C, false, false>(img, t, cfg, plan, xt, yt, out);
  }
  // Borders: whole rows above/below the content, and left/right strips.
  for (int y = 0; y < cfg.height; ++y) {
    if (y < t.pad_y || y >= t.pad_y + t.resized_height) {
      fill_pad(out, cfg, plan, y, 0, cfg.width);
    } else {
      fill_pad(out, cfg, plan, y, 0, t.pad_x);
      fill_pad(out, cfg, plan, y, t.pad_x + t.resized_width, cfg.width);
    }
  }
}

Result<void> check_image(const Image& image) {
  if (image.empty()) return Error(ErrorCode::InvalidArgument, "cannot pre-process an empty image");
  const int c = image.channels();
  if (c != 1 && c != 3 && c != 4) {
    return Error(ErrorCode::InvalidArgument,
                 "cannot pre-process an image with " + std::to_string(c) + " channels");
  }
  return {};
}

}  // namespace

Result<LetterboxTransform> preprocess_into(const Image& image, const PreprocessConfig& config,
                                           std::span<float> out) {
  AEGIS_TRY(check_image(image));
  AEGIS_ASSIGN_OR_RETURN(const LetterboxTransform t,
                         compute_transform(image.width(), image.height(), config));
  if (out.size() != config.elements_per_image()) {
    return Error(ErrorCode::InvalidArgument,
                 "pre-processing output holds " + std::to_string(out.size()) +
                     " floats, expected " + std::to_string(config.elements_per_image()));
  }
  const NormPlan plan = detail::make_norm_plan(config, image.channels());
  const Image* src = &image;
  Image resized;
  if (config.interpolation == Interpolation::Bicubic &&
      (t.resized_width != image.width() || t.resized_height != image.height())) {
    // Resized first (uint8, like the reference), then the identity path below.
    AEGIS_ASSIGN_OR_RETURN(resized, resize_bicubic(image, t.resized_width, t.resized_height));
    src = &resized;
  }
  switch (src->channels()) {
    case 1: run_image<1>(*src, t, config, plan, out.data()); break;
    case 3: run_image<3>(*src, t, config, plan, out.data()); break;
    default: run_image<4>(*src, t, config, plan, out.data()); break;
  }
  return t;
}

Result<PreprocessResult> preprocess_batch(std::span<const Image* const> images,
                                          const PreprocessConfig& config) {
  if (images.empty()) return Error(ErrorCode::InvalidArgument, "pre-processing batch is empty");
  AEGIS_TRY(config.validate());
  const auto n = static_cast<std::int64_t>(images.size());
  AEGIS_ASSIGN_OR_RETURN(Tensor tensor,
                         Tensor::allocate_host(config.tensor_shape(n), DType::Float32, "input"));
  PreprocessResult result;
  result.transforms.reserve(images.size());
  const std::size_t per = config.elements_per_image();
  auto all = tensor.span<float>();
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (images[i] == nullptr) {
      return Error(ErrorCode::InvalidArgument, "batch image " + std::to_string(i) + " is null");
    }
    auto t = preprocess_into(*images[i], config, all.subspan(i * per, per));
    if (!t.ok()) return t.error().with_context("batch image " + std::to_string(i));
    result.transforms.push_back(*t);
  }
  result.tensor = std::move(tensor);
  return result;
}

Result<PreprocessResult> preprocess(const Image& image, const PreprocessConfig& config) {
  const Image* one[] = {&image};
  return preprocess_batch(one, config);
}

Result<Image> resize_bilinear(const Image& image, int width, int height) {
  AEGIS_TRY(check_image(image));
  AEGIS_ASSIGN_OR_RETURN(Image out, Image::create(width, height, image.channels()));
  const int C = image.channels();
  const double inv_x = static_cast<double>(image.width()) / width;
  const double inv_y = static_cast<double>(image.height()) / height;
  std::vector<Tap> xt(static_cast<std::size_t>(width));
  for (int x = 0; x < width; ++x) xt[static_cast<std::size_t>(x)] = detail::make_tap(x, inv_x, image.width());
  for (int y = 0; y < height; ++y) {
    const Tap ty = detail::make_tap(y, inv_y, image.height());
    const std::uint8_t* r0 = image.at(0, ty.i0);
    const std::uint8_t* r1 = image.at(0, ty.i1);
    std::uint8_t* d = out.at(0, y);
    for (int x = 0; x < width; ++x) {
      const Tap& tx = xt[static_cast<std::size_t>(x)];
      for (int c = 0; c < C; ++c) {
        const float a = r0[tx.i0 * C + c], b = r0[tx.i1 * C + c];
        const float e = r1[tx.i0 * C + c], f = r1[tx.i1 * C + c];
        const float top = a + (b - a) * tx.w;
        const float bot = e + (f - e) * tx.w;
        const float v = top + (bot - top) * ty.w;
        d[x * C + c] = static_cast<std::uint8_t>(std::clamp(v + 0.5f, 0.0f, 255.0f));
      }
    }
  }
  return out;
}

namespace {

// ---- Pillow's bicubic resample (libImaging/Resample.c), 8 bits per channel ----
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_filter(double x) noexcept {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/// One axis: for each output index its first input index, tap count and
/// fixed-point weights (precompute_coeffs + normalize_coeffs_8bpc).
struct Coeffs {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<std::int32_t> k;  // out_size * ksize
};

double bilinear_filter(double x) noexcept {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

/// Pillow's precompute_coeffs for a filter of support `kSupport` (bicubic 2, bilinear 1).
template <double (*Filter)(double)>
Coeffs pillow_coeffs(int in_size, int out_size, double kSupport) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = kSupport * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<std::size_t>(out_size));
  c.count.resize(static_cast<std::size_t>(out_size));
  c.k.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(c.ksize), 0);
  std::vector<double> w(static_cast<std::size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in_size) - xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[static_cast<std::size_t>(x)] = Filter((x + xmin - center + 0.5) * ss);
      ww += w[static_cast<std::size_t>(x)];
    }
    std::int32_t* k = &c.k[static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize)];
    for (int x = 0; x < xmax; ++x) {
      double v = w[static_cast<std::size_t>(x)];
      if (ww != 0.0) v /= ww;
      const double f = v * (1 << kPrecisionBits);
      k[x] = static_cast<std::int32_t>(v < 0 ? -0.5 + f : 0.5 + f);
    }
    c.first[static_cast<std::size_t>(xx)] = xmin;
    c.count[static_cast<std::size_t>(xx)] = xmax;
  }
  return c;
}

Coeffs bicubic_coeffs(int in_size, int out_size) { return pillow_coeffs<bicubic_filter>(in_size, out_size, 2.0); }
Coeffs bilinear_coeffs(int in_size, int out_size) { return pillow_coeffs<bilinear_filter>(in_size, out_size, 1.0); }

std::uint8_t clip8(std::int32_t v) noexcept {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<std::uint8_t>(v >> kPrecisionBits);
}

}  // namespace

namespace {

/// Pillow's ImagingResample for 8-bit images: horizontal pass into uint8, then vertical.
Result<Image> resize_pillow(const Image& image, int width, int height, Coeffs (*coeffs)(int, int),
                            const char* what) {
  AEGIS_TRY(check_image(image));
  if (width <= 0 || height <= 0) {
    return Error(ErrorCode::InvalidArgument,
                 std::string(what) + " resize to " + std::to_string(width) + "x" + std::to_string(height) + " is not positive");
  }
  const int C = image.channels();
  const Image* src = &image;
  Image horizontal;
  if (width != image.width()) {
    AEGIS_ASSIGN_OR_RETURN(horizontal, Image::create(width, image.height(), C));
    const Coeffs cx = coeffs(image.width(), width);
    for (int y = 0; y < image.height(); ++y) {
      const std::uint8_t* in = image.at(0, y);
      std::uint8_t* o = horizontal.at(0, y);
      for (int x = 0; x < width; ++x) {
        const auto xs = static_cast<std::size_t>(x);
        const std::int32_t* k = &cx.k[xs * static_cast<std::size_t>(cx.ksize)];
        const int x0 = cx.first[xs];
        for (int ch = 0; ch < C; ++ch) {
          std::int32_t acc = 1 << (kPrecisionBits - 1);
          for (int i = 0; i < cx.count[xs]; ++i) acc += in[(x0 + i) * C + ch] * k[i];
          o[x * C + ch] = clip8(acc);
        }
      }
    }
    src = &horizontal;
  }
  if (height == image.height()) {
    if (src == &horizontal) return horizontal;
    return image.convert(C);  // same size: a copy
  }
  AEGIS_ASSIGN_OR_RETURN(Image out, Image::create(width, height, C));
  const Coeffs cy = coeffs(image.height(), height);
  const std::size_t row = static_cast<std::size_t>(width) * static_cast<std::size_t>(C);
  for (int y = 0; y < height; ++y) {
    const auto ys = static_cast<std::size_t>(y);
    const std::int32_t* k = &cy.k[ys * static_cast<std::size_t>(cy.ksize)];
    const int y0 = cy.first[ys];
    std::uint8_t* o = out.at(0, y);
    for (std::size_t i = 0; i < row; ++i) {
      std::int32_t acc = 1 << (kPrecisionBits - 1);
      for (int j = 0; j < cy.count[ys]; ++j) acc += src->at(0, y0 + j)[i] * k[j];
      o[i] = clip8(acc);
    }
  }
  return out;
}

}  // namespace

Result<Image> resize_bicubic(const Image& image, int width, int height) {
  return resize_pillow(image, width, height, bicubic_coeffs, "bicubic");
}

Result<Image> resize_pillow_bilinear(const Image& image, int width, int height) {
  return resize_pillow(image, width, height, bilinear_coeffs, "bilinear");
}

}  // namespace aegisrt::vision
