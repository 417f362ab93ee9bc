// Geometry shared by pre- and post-processing: boxes, points, and the
// letterbox transform that maps model-input coordinates back to the original
// image (the exact inverse of what pre-processing did).
#pragma once

#include <algorithm>

namespace aegisrt::vision {

struct Point {
  float x = 0.0f;
  float y = 0.0f;
  friend bool operator==(const Point&, const Point&) = default;
};

/// Axis-aligned box, corners (x1, y1) top-left and (x2, y2) bottom-right, in
/// continuous pixel coordinates (pixel i covers [i, i+1)).
struct Box {
  float x1 = 0.0f;
  float y1 = 0.0f;
  float x2 = 0.0f;
  float y2 = 0.0f;

  [[nodiscard]] float width() const noexcept { return std::max(0.0f, x2 - x1); }
  [[nodiscard]] float height() const noexcept { return std::max(0.0f, y2 - y1); }
  [[nodiscard]] float area() const noexcept { return width() * height(); }
  [[nodiscard]] Point center() const noexcept { return {(x1 + x2) * 0.5f, (y1 + y2) * 0.5f}; }
  static Box from_center(float cx, float cy, float w, float h) noexcept {
    return {cx - w * 0.5f, cy - h * 0.5f, cx + w * 0.5f, cy + h * 0.5f};
  }
  /// Clipped to [0, width] x [0, height].
  [[nodiscard]] Box clipped(float width, float height) const noexcept {
    return {std::clamp(x1, 0.0f, width), std::clamp(y1, 0.0f, height),
            std::clamp(x2, 0.0f, width), std::clamp(y2, 0.0f, height)};
  }
  friend bool operator==(const Box&, const Box&) = default;
};

/// Intersection over union; 0 when either box is empty.
float iou(const Box& a, const Box& b) noexcept;

/// How an image of src_width x src_height was placed into the model input of
/// dst_width x dst_height: model = original * scale + pad. For a letterbox,
/// scale_x and scale_y are the per-axis ratios actually used by the resize
/// (new_width / src_width, new_height / src_height; they differ from the
/// nominal min-ratio only by rounding) and pad is the top-left border; for a
/// plain resize pad is 0 and the scales differ. Mapping back is exact.
struct LetterboxTransform {
  int src_width = 0;
  int src_height = 0;
  int dst_width = 0;
  int dst_height = 0;
  int resized_width = 0;   // size of the image content inside the model input
  int resized_height = 0;
  float scale_x = 1.0f;
  float scale_y = 1.0f;
  int pad_x = 0;  // left border, pixels
  int pad_y = 0;  // top border, pixels

  [[nodiscard]] Point to_original(Point p) const noexcept {
    return {(p.x - static_cast<float>(pad_x)) / scale_x, (p.y - static_cast<float>(pad_y)) / scale_y};
  }
  [[nodiscard]] Point to_model(Point p) const noexcept {
    return {p.x * scale_x + static_cast<float>(pad_x), p.y * scale_y + static_cast<float>(pad_y)};
  }
  /// Model-input box -> original-image box (not clipped).
  [[nodiscard]] Box to_original(const Box& b) const noexcept {
    const Point a = to_original(Point{b.x1, b.y1});
    const Point c = to_original(Point{b.x2, b.y2});
    return {a.x, a.y, c.x, c.y};
  }
  [[nodiscard]] Box to_model(const Box& b) const noexcept {
    const Point a = to_model(Point{b.x1, b.y1});
    const Point c = to_model(Point{b.x2, b.y2});
    return {a.x, a.y, c.x, c.y};
  }
};

/// 2x3 affine map p' = [a b c; d e f] * [x y 1]; used to map keypoints from a
/// model crop back to the image (top-down pose) when a letterbox is not enough.
struct AffineTransform {
  float a = 1.0f, b = 0.0f, c = 0.0f;
  float d = 0.0f, e = 1.0f, f = 0.0f;

  [[nodiscard]] Point apply(Point p) const noexcept {
    return {a * p.x + b * p.y + c, d * p.x + e * p.y + f};
  }
  /// Inverse map; identity when the matrix is singular.
  [[nodiscard]] AffineTransform inverse() const noexcept {
    const float det = a * e - b * d;
    if (det == 0.0f) return {};
    const float ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
    return {ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)};
  }
  /// Model-input -> original-image map of a letterbox (exact).
  static AffineTransform model_to_original(const LetterboxTransform& t) noexcept {
    return {1.0f / t.scale_x, 0.0f, -static_cast<float>(t.pad_x) / t.scale_x,
            0.0f, 1.0f / t.scale_y, -static_cast<float>(t.pad_y) / t.scale_y};
  }
};

}  // namespace aegisrt::vision
