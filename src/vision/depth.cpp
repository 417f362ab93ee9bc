// Depth map resampling to the original image, min-max normalisation and
// colour maps.
#include "aegisrt/vision/depth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "vision/tensor_access.h"

namespace aegisrt::vision {

std::string_view to_string(ColorMap m) noexcept {
  switch (m) {
    case ColorMap::Turbo: return "turbo";
    case ColorMap::Inferno: return "inferno";
    case ColorMap::Grey: return "grey";
  }
  return "?";
}

Result<ColorMap> parse_colormap(std::string_view name) {
  if (name == "turbo") return ColorMap::Turbo;
  if (name == "inferno") return ColorMap::Inferno;
  if (name == "grey" || name == "gray") return ColorMap::Grey;
  return Error(ErrorCode::InvalidArgument,
               "unknown colour map '" + std::string(name) + "' (turbo, inferno, grey)");
}

namespace {

std::uint8_t to_byte(float v) noexcept {
  return static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
}

// Turbo: the polynomial approximation published with the map (Mikhailov,
// Google AI Blog 2019; GLSL fit by Ruofei Du). It is off by up to ~0.1 at
// the very ends of the table (darker, less saturated), fine for display.
Rgb turbo(float x) noexcept {
  const float x2 = x * x, x3 = x2 * x, x4 = x2 * x2, x5 = x4 * x;
  const float r = 0.13572138f + 4.61539260f * x - 42.66032258f * x2 + 132.13108234f * x3 -
                  152.94239396f * x4 + 59.28637943f * x5;
  const float g = 0.09140261f + 2.19418839f * x + 4.84296658f * x2 - 14.18503333f * x3 +
                  4.27729857f * x4 + 2.82956604f * x5;
  const float b = 0.10667330f + 12.64194608f * x - 60.58204836f * x2 + 110.36276771f * x3 -
                  89.90310912f * x4 + 27.34824973f * x5;
  return {to_byte(r), to_byte(g), to_byte(b)};
}

// Inferno: degree-6 polynomial fit of matplotlib's inferno table (Matt
// Zucker, CC0, Shadertoy WlfXRN).
Rgb inferno(float t) noexcept {
  static constexpr std::array<std::array<float, 3>, 7> c{{
      {0.0002189403691192265f, 0.001651004631001012f, -0.01948089843709184f},
      {0.1065134194856116f, 0.5639564367884091f, 3.932712388889277f},
      {11.60249308247187f, -3.972853965665698f, -15.9423941062914f},
      {-41.70399613139459f, 17.43639888205313f, 44.35414519872813f},
      {77.162935699427f, -33.40235894210092f, -81.80730925738993f},
      {-71.31942824499214f, 32.62606426397723f, 73.20951985803202f},
      {25.13112622477341f, -12.24266895238567f, -23.07032500287172f},
  }};
  std::array<float, 3> v{};
  for (std::size_t k = 0; k < 3; ++k) {
    float acc = c[6][k];
    for (int i = 5; i >= 0; --i) acc = acc * t + c[static_cast<std::size_t>(i)][k];
    v[k] = acc;
  }
  return {to_byte(v[0]), to_byte(v[1]), to_byte(v[2])};
}

}  // namespace

Rgb colormap_color(ColorMap map, float t) noexcept {
  t = std::isfinite(t) ? std::clamp(t, 0.0f, 1.0f) : 0.0f;
  switch (map) {
    case ColorMap::Turbo: return turbo(t);
    case ColorMap::Inferno: return inferno(t);
    case ColorMap::Grey: break;
  }
  const std::uint8_t g = to_byte(t);
  return {g, g, g};
}

namespace {

/// PyTorch's upsample_bicubic2d weights (cubic convolution, A = -0.75) and
/// taps for output index d: source coordinate lo + (d + 0.5) * scale - 0.5,
/// not clamped; the four taps are clamped to [lo_px, hi_px].
struct CubicTap {
  std::array<std::int64_t, 4> i{};
  std::array<double, 4> w{};
};
CubicTap cubic_tap(int d, double lo, double scale, std::int64_t lo_px, std::int64_t hi_px) noexcept {
  constexpr double A = -0.75;
  const double real = lo + scale * (d + 0.5) - 0.5;
  const double f = std::floor(real);
  const double t = real - f;
  const auto cc1 = [](double x) { return ((A + 2) * x - (A + 3)) * x * x + 1; };
  const auto cc2 = [](double x) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; };
  CubicTap c;
  c.w = {cc2(t + 1.0), cc1(t), cc1(1.0 - t), cc2(2.0 - t)};
  for (int k = 0; k < 4; ++k) {
    c.i[static_cast<std::size_t>(k)] = std::clamp(static_cast<std::int64_t>(f) - 1 + k, lo_px, hi_px);
  }
  return c;
}

/// Where batch item `batch_index` of a depth output lies: its offset, size and strides.
struct DepthPlane {
  std::int64_t base = 0;
  std::int64_t dh = 0, dw = 0;
  std::int64_t sy = 0, sx = 0;
};

Result<DepthPlane> depth_plane(const TensorView& depth, std::int64_t batch_index, const std::string& what) {
  AEGIS_TRY(detail::check_float_output(depth, what));
  const Shape& s = depth.shape();
  const Shape& st = depth.strides();
  DepthPlane p;
  const std::size_t r = depth.rank();
  const bool shape_ok = (r == 2) || (r == 3) || (r == 4 && s[1] == 1);
  if (!shape_ok) {
    return Error(ErrorCode::InvalidArgument,
                 what + " has shape " + shape_to_string(s) + ", expected [H,W], [B,H,W] or [B,1,H,W]");
  }
  if (r >= 3) {
    if (batch_index < 0 || batch_index >= s[0]) {
      return Error(ErrorCode::InvalidArgument, what + ": batch index " +
                                                   std::to_string(batch_index) +
                                                   " out of range for shape " + shape_to_string(s));
    }
    p.base = batch_index * st[0];
  }
  p.dh = s[r - 2];
  p.dw = s[r - 1];
  p.sy = st[r - 2];
  p.sx = st[r - 1];
  if (p.dh <= 0 || p.dw <= 0) return Error(ErrorCode::InvalidArgument, what + " is empty");
  return p;
}

/// The content area (rx, ry: depth pixels per model-input pixel) resized as a
/// whole to the image, bicubic.
void resample_bicubic(const TensorView& depth, const DepthPlane& p, const LetterboxTransform& transform, double rx,
                      double ry, DepthMap& out) {
  // The content area in map pixels, resized as a whole to the image.
  const double cx0 = transform.pad_x * rx, cw = transform.resized_width * rx;
  const double cy0 = transform.pad_y * ry, ch = transform.resized_height * ry;
  const auto px = [](double lo, double len, std::int64_t size) {
    const auto a = std::clamp(static_cast<std::int64_t>(std::floor(lo)), std::int64_t{0}, size - 1);
    const auto b = std::clamp(static_cast<std::int64_t>(std::ceil(lo + len)) - 1, a, size - 1);
    return std::pair{a, b};
  };
  const auto [x_lo, x_hi] = px(cx0, cw, p.dw);
  const auto [y_lo, y_hi] = px(cy0, ch, p.dh);
  std::vector<CubicTap> xt(static_cast<std::size_t>(out.width));
  for (int x = 0; x < out.width; ++x) {
    xt[static_cast<std::size_t>(x)] = cubic_tap(x, cx0, cw / out.width, x_lo, x_hi);
  }
  for (int y = 0; y < out.height; ++y) {
    const CubicTap ty = cubic_tap(y, cy0, ch / out.height, y_lo, y_hi);
    float* row = out.values.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out.width);
    for (int x = 0; x < out.width; ++x) {
      const CubicTap& tx = xt[static_cast<std::size_t>(x)];
      double acc = 0.0;
      for (std::size_t j = 0; j < 4; ++j) {
        double line = 0.0;
        for (std::size_t i = 0; i < 4; ++i) {
          line += tx.w[i] * detail::load(depth, p.base + ty.i[j] * p.sy + tx.i[i] * p.sx);
        }
        acc += ty.w[j] * line;
      }
      row[x] = static_cast<float>(acc);
    }
  }
}

/// Bilinear at each image pixel's centre mapped into the depth map.
void resample_bilinear(const TensorView& depth, const DepthPlane& p, const LetterboxTransform& transform, double rx,
                       double ry, DepthMap& out) {
  // Sampling stays inside the content area so padding never bleeds in.
  auto bounds = [](double lo, double hi, std::int64_t size) {
    lo = std::clamp(lo, 0.0, static_cast<double>(size - 1));
    hi = std::clamp(hi, lo, static_cast<double>(size - 1));
    return std::pair{lo, hi};
  };
  const auto [ux0, ux1] = bounds(transform.pad_x * rx, (transform.pad_x + transform.resized_width) * rx - 1.0, p.dw);
  const auto [uy0, uy1] = bounds(transform.pad_y * ry, (transform.pad_y + transform.resized_height) * ry - 1.0, p.dh);
  struct Tap1 {
    std::int64_t i0, i1;
    float w;
  };
  auto tap = [](double u, double lo, double hi) {
    u = std::clamp(u, lo, hi);
    const double f = std::floor(u);
    const auto i0 = static_cast<std::int64_t>(f);
    const float w = static_cast<float>(u - f);
    return Tap1{i0, w > 0.0f ? i0 + 1 : i0, w};
  };
  std::vector<Tap1> xt(static_cast<std::size_t>(out.width));
  for (int x = 0; x < out.width; ++x) {
    const double mx = (x + 0.5) * static_cast<double>(transform.scale_x) + transform.pad_x;
    xt[static_cast<std::size_t>(x)] = tap(mx * rx - 0.5, ux0, ux1);
  }
  for (int y = 0; y < out.height; ++y) {
    const double my = (y + 0.5) * static_cast<double>(transform.scale_y) + transform.pad_y;
    const Tap1 ty = tap(my * ry - 0.5, uy0, uy1);
    float* row = out.values.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out.width);
    for (int x = 0; x < out.width; ++x) {
      const Tap1& tx = xt[static_cast<std::size_t>(x)];
      const float a = detail::load(depth, p.base + ty.i0 * p.sy + tx.i0 * p.sx);
      const float b = detail::load(depth, p.base + ty.i0 * p.sy + tx.i1 * p.sx);
      const float c = detail::load(depth, p.base + ty.i1 * p.sy + tx.i0 * p.sx);
      const float d = detail::load(depth, p.base + ty.i1 * p.sy + tx.i1 * p.sx);
      const float top = a + (b - a) * tx.w;
      const float bot = c + (d - c) * tx.w;
      row[x] = top + (bot - top) * ty.w;
    }
  }
}

}  // namespace

Result<DepthMap> depth_to_original(const TensorView& depth, const LetterboxTransform& transform,
                                   std::int64_t batch_index, Interpolation interpolation) {
  AEGIS_ASSIGN_OR_RETURN(const DepthPlane p, depth_plane(depth, batch_index, "depth output"));
  if (transform.src_width <= 0 || transform.src_height <= 0 || transform.dst_width <= 0 ||
      transform.dst_height <= 0 || transform.scale_x <= 0.0f || transform.scale_y <= 0.0f) {
    return Error(ErrorCode::InvalidArgument, "letterbox transform is not initialised");
  }
  // Depth pixels per model-input pixel (the map may be smaller than the input).
  const double rx = static_cast<double>(p.dw) / transform.dst_width;
  const double ry = static_cast<double>(p.dh) / transform.dst_height;

  DepthMap out;
  out.width = transform.src_width;
  out.height = transform.src_height;
  out.values.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height));
  if (interpolation == Interpolation::Bicubic) {
    resample_bicubic(depth, p, transform, rx, ry, out);
  } else {
    resample_bilinear(depth, p, transform, rx, ry, out);
  }
  return out;
}

Result<DepthMap> depth_to_original_unpadded(const TensorView& depth, const LetterboxTransform& transform,
                                            int border_x, int border_y, std::int64_t batch_index,
                                            Interpolation interpolation) {
  if (border_x < 0 || border_y < 0) {
    return Error(ErrorCode::InvalidArgument, "depth border " + std::to_string(border_x) + "x" +
                                                 std::to_string(border_y) + " is negative");
  }
  if (transform.pad_x != 0 || transform.pad_y != 0 || transform.resized_width != transform.dst_width ||
      transform.resized_height != transform.dst_height) {
    return Error(ErrorCode::InvalidArgument,
                 "a depth border can only be removed after a plain resize (the transform is a letterbox)");
  }
  if (transform.src_width <= 0 || transform.src_height <= 0) {
    return Error(ErrorCode::InvalidArgument, "letterbox transform is not initialised");
  }
  // The model input is the padded image, stretched: resample the whole map
  // to the padded size, then keep the image's part.
  LetterboxTransform padded = transform;
  padded.src_width = transform.src_width + 2 * border_x;
  padded.src_height = transform.src_height + 2 * border_y;
  padded.scale_x = static_cast<float>(static_cast<double>(transform.dst_width) / padded.src_width);
  padded.scale_y = static_cast<float>(static_cast<double>(transform.dst_height) / padded.src_height);
  AEGIS_ASSIGN_OR_RETURN(DepthMap full, depth_to_original(depth, padded, batch_index, interpolation));
  if (border_x == 0 && border_y == 0) return full;
  DepthMap out;
  out.width = transform.src_width;
  out.height = transform.src_height;
  out.values.resize(static_cast<std::size_t>(out.width) * static_cast<std::size_t>(out.height));
  for (int y = 0; y < out.height; ++y) {
    const float* src = full.values.data() + static_cast<std::size_t>(y + border_y) * static_cast<std::size_t>(full.width) +
                       static_cast<std::size_t>(border_x);
    std::copy(src, src + out.width, out.values.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(out.width));
  }
  return out;
}

std::pair<float, float> normalize_min_max(std::span<float> values) noexcept {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!(lo <= hi)) {  // no finite value at all
    std::fill(values.begin(), values.end(), 0.0f);
    return {0.0f, 0.0f};
  }
  const float range = hi - lo;
  for (float& v : values) {
    if (!std::isfinite(v) || range <= 0.0f) {
      v = 0.0f;
    } else {
      v = (v - lo) / range;
    }
  }
  return {lo, hi};
}

Result<Image> colorize(const DepthMap& normalized, ColorMap map, bool invert) {
  if (normalized.values.size() !=
      static_cast<std::size_t>(normalized.width) * static_cast<std::size_t>(normalized.height)) {
    return Error(ErrorCode::InvalidArgument, "depth map holds " +
                                                 std::to_string(normalized.values.size()) +
                                                 " values, expected width * height");
  }
  AEGIS_ASSIGN_OR_RETURN(Image img, Image::create(normalized.width, normalized.height, 3));
  // 256-entry table: the maps are smooth and outputs are 8-bit anyway.
  std::array<Rgb, 256> lut{};
  for (int i = 0; i < 256; ++i) lut[static_cast<std::size_t>(i)] = colormap_color(map, static_cast<float>(i) / 255.0f);
  std::uint8_t* p = img.data();
  for (float v : normalized.values) {
    float t = std::isfinite(v) ? std::clamp(v, 0.0f, 1.0f) : 0.0f;
    if (invert) t = 1.0f - t;
    const Rgb c = lut[static_cast<std::size_t>(std::lround(t * 255.0f))];
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
    p += 3;
  }
  return img;
}

Result<Image> colorize_depth(const TensorView& depth, const LetterboxTransform& transform,
                             ColorMap map, bool invert, std::int64_t batch_index) {
  AEGIS_ASSIGN_OR_RETURN(DepthMap m, depth_to_original(depth, transform, batch_index));
  normalize_min_max(m.values);
  return colorize(m, map, invert);
}

}  // namespace aegisrt::vision
