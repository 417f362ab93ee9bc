// Drawing helpers for annotated output images: rectangles, lines, circles,
// text (stb_easy_font's 7-segment-ish vector font, rasterised), label boxes
// and alpha blending. Everything clips to the image; nothing fails.
#pragma once

#include <span>
#include <string_view>

#include "aegisrt/vision/image.h"

namespace aegisrt::vision {

/// Distinct colour for class / track id `index` (stable palette).
Rgb palette_color(int index) noexcept;

/// Pixel (x, y) = c blended with weight alpha in [0, 1] (1 = opaque).
/// Works for 1 (luma of c), 3 and 4 (alpha channel untouched) channels.
void blend_pixel(Image& image, int x, int y, Rgb c, float alpha = 1.0f) noexcept;

/// Axis-aligned rectangle outline with corners (x0, y0), (x1, y1) inclusive.
void draw_rect(Image& image, int x0, int y0, int x1, int y1, Rgb c, int thickness = 2,
               float alpha = 1.0f) noexcept;
/// Filled rectangle, corners inclusive.
void fill_rect(Image& image, int x0, int y0, int x1, int y1, Rgb c, float alpha = 1.0f) noexcept;
/// Line segment (Bresenham) with a square brush of `thickness` pixels.
void draw_line(Image& image, int x0, int y0, int x1, int y1, Rgb c, int thickness = 2,
               float alpha = 1.0f) noexcept;
/// Circle outline (thickness > 0) or filled disc (thickness <= 0).
void draw_circle(Image& image, int cx, int cy, int radius, Rgb c, int thickness = 0,
                 float alpha = 1.0f) noexcept;

/// Size in pixels of `text` drawn at `scale` (1 = ~7 px high glyphs).
struct TextSize {
  int width = 0;
  int height = 0;
};
TextSize measure_text(std::string_view text, int scale = 2) noexcept;
/// Draws `text` with its top-left corner at (x, y).
void draw_text(Image& image, int x, int y, std::string_view text, Rgb c, int scale = 2) noexcept;

/// Filled box with `text` in it, placed just above (x, y) (below if there is
/// no room): how detection labels are drawn. Text colour is black or white,
/// whichever contrasts with `background`.
void draw_label(Image& image, int x, int y, std::string_view text, Rgb background,
                int scale = 2) noexcept;

/// dst = dst * (1 - alpha) + src * alpha over the whole image (same size and
/// channel count, else InvalidArgument).
Result<void> blend_images(Image& dst, const Image& src, float alpha);

}  // namespace aegisrt::vision
