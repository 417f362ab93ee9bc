// Raster drawing on Image: clipped primitives and text rendered from
// stb_easy_font's quads.
#include "aegisrt/vision/draw.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <stb_easy_font.h>

namespace aegisrt::vision {
namespace {

std::uint8_t mix(std::uint8_t dst, std::uint8_t src, float alpha) noexcept {
  const float v = static_cast<float>(dst) + (static_cast<float>(src) - static_cast<float>(dst)) * alpha;
  return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

}  // namespace

Rgb palette_color(int index) noexcept {
  // Ultralytics-like palette: saturated, distinguishable colours.
  static constexpr std::array<Rgb, 20> kPalette{{
      {255, 56, 56},  {255, 157, 151}, {255, 112, 31}, {255, 178, 29}, {207, 210, 49},
      {72, 249, 10},  {146, 204, 23},  {61, 219, 134}, {26, 147, 52},  {0, 212, 187},
      {44, 153, 168}, {0, 194, 255},   {52, 69, 147},  {100, 115, 255}, {0, 24, 236},
      {132, 56, 255}, {82, 0, 133},    {203, 56, 255}, {255, 149, 200}, {255, 55, 199},
  }};
  const auto n = static_cast<int>(kPalette.size());
  return kPalette[static_cast<std::size_t>(((index % n) + n) % n)];
}

void blend_pixel(Image& image, int x, int y, Rgb c, float alpha) noexcept {
  if (x < 0 || y < 0 || x >= image.width() || y >= image.height()) return;
  alpha = std::clamp(alpha, 0.0f, 1.0f);
  std::uint8_t* p = image.at(x, y);
  if (image.channels() == 1) {
    const auto luma =
        static_cast<std::uint8_t>((19595u * c.r + 38470u * c.g + 7471u * c.b + 32768u) >> 16);
    p[0] = mix(p[0], luma, alpha);
    return;
  }
  p[0] = mix(p[0], c.r, alpha);
  p[1] = mix(p[1], c.g, alpha);
  p[2] = mix(p[2], c.b, alpha);
}

void fill_rect(Image& image, int x0, int y0, int x1, int y1, Rgb c, float alpha) noexcept {
  if (image.empty()) return;
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  x0 = std::max(x0, 0);
  y0 = std::max(y0, 0);
  x1 = std::min(x1, image.width() - 1);
  y1 = std::min(y1, image.height() - 1);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) blend_pixel(image, x, y, c, alpha);
  }
}

void draw_rect(Image& image, int x0, int y0, int x1, int y1, Rgb c, int thickness,
               float alpha) noexcept {
  if (x0 > x1) std::swap(x0, x1);
  if (y0 > y1) std::swap(y0, y1);
  const int t = std::max(thickness, 1);
  if (x1 - x0 + 1 <= 2 * t || y1 - y0 + 1 <= 2 * t) {
    fill_rect(image, x0, y0, x1, y1, c, alpha);
    return;
  }
  fill_rect(image, x0, y0, x1, y0 + t - 1, c, alpha);          // top
  fill_rect(image, x0, y1 - t + 1, x1, y1, c, alpha);          // bottom
  fill_rect(image, x0, y0 + t, x0 + t - 1, y1 - t, c, alpha);  // left
  fill_rect(image, x1 - t + 1, y0 + t, x1, y1 - t, c, alpha);  // right
}

void draw_line(Image& image, int x0, int y0, int x1, int y1, Rgb c, int thickness,
               float alpha) noexcept {
  const int t = std::max(thickness, 1);
  const int lo = -(t - 1) / 2;
  const int hi = t / 2;
  const int dx = std::abs(x1 - x0);
  const int dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1;
  const int sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  // Bound the walk so absurd coordinates cannot loop for long.
  const long steps = static_cast<long>(dx) - dy + 1;
  if (steps > 1L << 24) return;
  for (;;) {
    if (t == 1) {
      blend_pixel(image, x0, y0, c, alpha);
    } else {
      // Square brush; each pixel blended once per step (overlap between steps
      // is harmless for opaque lines).
      for (int oy = lo; oy <= hi; ++oy)
        for (int ox = lo; ox <= hi; ++ox) blend_pixel(image, x0 + ox, y0 + oy, c, alpha);
    }
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

void draw_circle(Image& image, int cx, int cy, int radius, Rgb c, int thickness,
                 float alpha) noexcept {
  if (radius < 0) return;
  const long r2 = static_cast<long>(radius) * radius;
  const int inner = thickness > 0 ? std::max(radius - thickness, -1) : -1;
  const long i2 = inner >= 0 ? static_cast<long>(inner) * inner : -1;
  const int y0 = std::max(cy - radius, 0), y1 = std::min(cy + radius, image.height() - 1);
  const int x0 = std::max(cx - radius, 0), x1 = std::min(cx + radius, image.width() - 1);
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const long ddx = x - cx, ddy = y - cy;
      const long d2 = ddx * ddx + ddy * ddy;
      if (d2 <= r2 && d2 > i2) blend_pixel(image, x, y, c, alpha);
    }
  }
}

TextSize measure_text(std::string_view text, int scale) noexcept {
  if (text.empty()) return {};
  std::string s(text);
  const int s_ = std::max(scale, 1);
  return {stb_easy_font_width(s.data()) * s_, stb_easy_font_height(s.data()) * s_};
}

void draw_text(Image& image, int x, int y, std::string_view text, Rgb c, int scale) noexcept {
  if (text.empty() || image.empty()) return;
  const int s = std::max(scale, 1);
  std::string str(text);
  // stb_easy_font: ~270 bytes of vertices per character; 4 vertices of 16
  // bytes (x, y, z floats + RGBA) per quad.
  std::vector<char> buffer(str.size() * 300 + 64);
  unsigned char colour[4] = {c.r, c.g, c.b, 255};
  const int quads = stb_easy_font_print(0.0f, 0.0f, str.data(), colour, buffer.data(),
                                        static_cast<int>(buffer.size()));
  for (int q = 0; q < quads; ++q) {
    float v0[3], v2[3];
    std::memcpy(v0, buffer.data() + static_cast<std::size_t>(q) * 64, sizeof v0);
    std::memcpy(v2, buffer.data() + static_cast<std::size_t>(q) * 64 + 32, sizeof v2);
    const int qx0 = x + static_cast<int>(std::lround(v0[0])) * s;
    const int qy0 = y + static_cast<int>(std::lround(v0[1])) * s;
    const int qx1 = x + static_cast<int>(std::lround(v2[0])) * s - 1;
    const int qy1 = y + static_cast<int>(std::lround(v2[1])) * s - 1;
    if (qx1 >= qx0 && qy1 >= qy0) fill_rect(image, qx0, qy0, qx1, qy1, c);
  }
}

void draw_label(Image& image, int x, int y, std::string_view text, Rgb background,
                int scale) noexcept {
  const TextSize size = measure_text(text, scale);
  const int margin = std::max(scale, 1) * 2;
  const int box_h = size.height + 2 * margin;
  const int box_w = size.width + 2 * margin;
  int top = y - box_h;
  if (top < 0) top = y;  // no room above: put it inside/below the anchor
  int left = std::clamp(x, 0, std::max(image.width() - box_w, 0));
  fill_rect(image, left, top, left + box_w - 1, top + box_h - 1, background);
  const int luma = (299 * background.r + 587 * background.g + 114 * background.b) / 1000;
  const Rgb ink = luma > 140 ? Rgb{0, 0, 0} : Rgb{255, 255, 255};
  draw_text(image, left + margin, top + margin, text, ink, scale);
}

Result<void> blend_images(Image& dst, const Image& src, float alpha) {
  if (dst.width() != src.width() || dst.height() != src.height() ||
      dst.channels() != src.channels()) {
    return Error(ErrorCode::InvalidArgument,
                 "blend_images: sizes differ (" + std::to_string(dst.width()) + "x" +
                     std::to_string(dst.height()) + "x" + std::to_string(dst.channels()) + " vs " +
                     std::to_string(src.width()) + "x" + std::to_string(src.height()) + "x" +
                     std::to_string(src.channels()) + ")");
  }
  alpha = std::clamp(alpha, 0.0f, 1.0f);
  auto d = dst.pixels();
  auto s = src.pixels();
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = mix(d[i], s[i], alpha);
  return {};
}

}  // namespace aegisrt::vision
