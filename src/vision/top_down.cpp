// Top-down pose crop and its inverse (see top_down.h). The warp follows
// OpenCV's imgwarp.cpp (warpAffine: inverse map, AB_BITS = 10 fixed-point
// coordinates rounded to INTER_BITS = 5 fractional bits; remap: bilinear with
// INTER_REMAP_COEF_BITS = 15 integer weights from a 32x32 table) so the crop
// equals cv2.warpAffine's exactly.
#include "aegisrt/vision/top_down.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace aegisrt::vision {
namespace {

constexpr int kInterBits = 5;
constexpr int kInterTab = 1 << kInterBits;  // 32
constexpr int kAbBits = 10;
constexpr int kAbScale = 1 << kAbBits;
constexpr int kCoefBits = 15;
constexpr int kCoefScale = 1 << kCoefBits;

/// cvRound: round half to even (lrint under the default rounding mode).
std::int64_t cv_round(double v) { return static_cast<std::int64_t>(std::nearbyint(v)); }

/// OpenCV's bilinear weight table (initInterTab2D for INTER_LINEAR, 8-bit):
/// float weights rounded to 15 bits, the rounding error added to the largest
/// so every entry sums to exactly 2^15.
const std::array<std::array<int, 4>, kInterTab * kInterTab>& weight_table() {
  static const auto table = [] {
    std::array<std::array<int, 4>, kInterTab * kInterTab> t{};
    for (int fy = 0; fy < kInterTab; ++fy) {
      for (int fx = 0; fx < kInterTab; ++fx) {
        const float a = static_cast<float>(fx) / kInterTab;
        const float b = static_cast<float>(fy) / kInterTab;
        const float w[4] = {(1.0f - a) * (1.0f - b), a * (1.0f - b), (1.0f - a) * b, a * b};
        auto& e = t[static_cast<std::size_t>(fy * kInterTab + fx)];
        int sum = 0;
        int largest = 0;
        for (int k = 0; k < 4; ++k) {
          e[static_cast<std::size_t>(k)] = static_cast<int>(cv_round(static_cast<double>(w[k] * kCoefScale)));
          sum += e[static_cast<std::size_t>(k)];
          if (e[static_cast<std::size_t>(k)] > e[static_cast<std::size_t>(largest)]) largest = k;
        }
        e[static_cast<std::size_t>(largest)] += kCoefScale - sum;
      }
    }
    return t;
  }();
  return table;
}

}  // namespace

TopDownRegion top_down_region(const Box& box, int input_width, int input_height, double padding) {
  TopDownRegion r;
  const double x1 = box.x1, y1 = box.y1, x2 = box.x2, y2 = box.y2;
  r.center_x = (x1 + x2) * 0.5;
  r.center_y = (y1 + y2) * 0.5;
  double w = (x2 - x1) * padding;
  double h = (y2 - y1) * padding;
  const double aspect = static_cast<double>(input_width) / static_cast<double>(input_height);
  if (w > h * aspect) {
    h = w / aspect;
  } else {
    w = h * aspect;
  }
  r.scale_w = w;
  r.scale_h = h;
  return r;
}

WarpMatrix top_down_warp_matrix(const TopDownRegion& region, int input_width, int input_height) {
  // rtmlib's get_warp_matrix stores its three source and destination points
  // as float32 before cv2.getAffineTransform solves for the map; with no
  // rotation the solution is a scale and a shift per axis.
  const float x0 = static_cast<float>(region.center_x);
  const float y0 = static_cast<float>(region.center_y);
  const float x1 = static_cast<float>(region.center_x + 0.0);
  const float y1 = static_cast<float>(region.center_y - 0.5 * region.scale_w);
  const float d = y0 - y1;     // the 3rd point: (x1 - d, y1)
  const float x2 = x1 - d;
  const auto dw = static_cast<float>(input_width);
  const auto dh = static_cast<float>(input_height);
  const float u0 = dw * 0.5f, v0 = dh * 0.5f;
  const float v1 = v0 + dw * -0.5f;
  const float u2 = u0 - (v0 - v1);
  WarpMatrix m;
  m.m[0] = (static_cast<double>(u2) - u0) / (static_cast<double>(x2) - x1);
  m.m[1] = 0.0;
  m.m[2] = u0 - m.m[0] * x0;
  m.m[3] = 0.0;
  m.m[4] = (static_cast<double>(v1) - v0) / (static_cast<double>(y1) - y0);
  m.m[5] = v0 - m.m[4] * y0;
  return m;
}

Result<Image> warp_affine_linear(const Image& image, const WarpMatrix& matrix, int width, int height) {
  if (image.width() <= 0 || image.height() <= 0) {
    return Error(ErrorCode::InvalidArgument, "warp_affine_linear: the source image is empty");
  }
  if (width <= 0 || height <= 0) {
    return Error(ErrorCode::InvalidArgument, "warp_affine_linear: output size " + std::to_string(width) + "x" +
                                                 std::to_string(height) + " is not positive");
  }
  const int ch = image.channels();
  AEGIS_ASSIGN_OR_RETURN(Image out, Image::create(width, height, ch));
  // Inverse map, as warpAffine computes it (without WARP_INVERSE_MAP).
  double M[6];
  std::copy(std::begin(matrix.m), std::end(matrix.m), M);
  double D = M[0] * M[4] - M[1] * M[3];
  D = D != 0.0 ? 1.0 / D : 0.0;
  const double a11 = M[4] * D, a22 = M[0] * D;
  M[0] = a11;
  M[1] *= -D;
  M[3] *= -D;
  M[4] = a22;
  const double b1 = -M[0] * M[2] - M[1] * M[5];
  const double b2 = -M[3] * M[2] - M[4] * M[5];
  M[2] = b1;
  M[5] = b2;

  const auto& tab = weight_table();
  const int sw = image.width(), sh = image.height();
  const std::uint8_t* src = image.data();
  const std::size_t src_stride = static_cast<std::size_t>(sw) * static_cast<std::size_t>(ch);
  std::vector<std::int64_t> adelta(static_cast<std::size_t>(width)), bdelta(static_cast<std::size_t>(width));
  for (int x = 0; x < width; ++x) {
    adelta[static_cast<std::size_t>(x)] = cv_round(M[0] * x * kAbScale);
    bdelta[static_cast<std::size_t>(x)] = cv_round(M[3] * x * kAbScale);
  }
  constexpr int kRoundDelta = kAbScale / kInterTab / 2;
  for (int y = 0; y < height; ++y) {
    const std::int64_t X0 = cv_round((M[1] * y + M[2]) * kAbScale) + kRoundDelta;
    const std::int64_t Y0 = cv_round((M[4] * y + M[5]) * kAbScale) + kRoundDelta;
    std::uint8_t* row = out.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width) *
                                         static_cast<std::size_t>(ch);
    for (int x = 0; x < width; ++x) {
      const std::int64_t X = (X0 + adelta[static_cast<std::size_t>(x)]) >> (kAbBits - kInterBits);
      const std::int64_t Y = (Y0 + bdelta[static_cast<std::size_t>(x)]) >> (kAbBits - kInterBits);
      const std::int64_t ix = X >> kInterBits, iy = Y >> kInterBits;
      const auto& w = tab[static_cast<std::size_t>((Y & (kInterTab - 1)) * kInterTab + (X & (kInterTab - 1)))];
      for (int c = 0; c < ch; ++c) {
        std::int64_t acc = 0;
        for (int k = 0; k < 4; ++k) {
          const std::int64_t px = ix + (k & 1), py = iy + (k >> 1);
          if (px < 0 || py < 0 || px >= sw || py >= sh) continue;  // constant border 0
          acc += static_cast<std::int64_t>(src[static_cast<std::size_t>(py) * src_stride +
                                               static_cast<std::size_t>(px) * static_cast<std::size_t>(ch) +
                                               static_cast<std::size_t>(c)]) *
                 w[static_cast<std::size_t>(k)];
        }
        const std::int64_t v = (acc + (1 << (kCoefBits - 1))) >> kCoefBits;
        row[static_cast<std::size_t>(x) * static_cast<std::size_t>(ch) + static_cast<std::size_t>(c)] =
            static_cast<std::uint8_t>(std::clamp<std::int64_t>(v, 0, 255));
      }
    }
  }
  return out;
}

Point top_down_to_image(const TopDownRegion& region, int input_width, int input_height, double x, double y) {
  const double ix = x / input_width * region.scale_w + region.center_x - region.scale_w / 2.0;
  const double iy = y / input_height * region.scale_h + region.center_y - region.scale_h / 2.0;
  return {static_cast<float>(ix), static_cast<float>(iy)};
}

}  // namespace aegisrt::vision
