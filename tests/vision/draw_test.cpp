#include <gtest/gtest.h>

#include "aegisrt/vision/draw.h"
#include "aegisrt/vision/vision.h"  // the umbrella header compiles on its own

namespace aegisrt::vision {
namespace {

Image blank(int w, int h, int c = 3) { return Image::create(w, h, c).value(); }

int count_color(const Image& img, Rgb c) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const auto* p = img.at(x, y);
      n += (p[0] == c.r && p[1] == c.g && p[2] == c.b) ? 1 : 0;
    }
  return n;
}

TEST(Draw, RectOutlineHasExpectedPixelCount) {
  Image img = blank(20, 20);
  draw_rect(img, 2, 3, 11, 8, {255, 0, 0}, 1);
  // Perimeter of a 10x6 rectangle: 2*10 + 2*(6-2) = 28 pixels.
  EXPECT_EQ(count_color(img, {255, 0, 0}), 28);
  EXPECT_EQ(img.at(2, 3)[0], 255);
  EXPECT_EQ(img.at(5, 5)[0], 0);  // inside untouched
}

TEST(Draw, FillRectClipsToImage) {
  Image img = blank(10, 10);
  fill_rect(img, -5, -5, 2, 2, {0, 255, 0});
  EXPECT_EQ(count_color(img, {0, 255, 0}), 9);
  fill_rect(img, 100, 100, 200, 200, {0, 0, 255});  // fully outside: nothing
  EXPECT_EQ(count_color(img, {0, 0, 255}), 0);
}

TEST(Draw, AlphaBlendHalf) {
  Image img = blank(1, 1);
  blend_pixel(img, 0, 0, {200, 100, 50}, 0.5f);
  EXPECT_EQ(img.at(0, 0)[0], 100);
  EXPECT_EQ(img.at(0, 0)[1], 50);
  EXPECT_EQ(img.at(0, 0)[2], 25);
}

TEST(Draw, LineEndpointsAndDiagonal) {
  Image img = blank(10, 10);
  draw_line(img, 0, 0, 9, 9, {255, 255, 255}, 1);
  EXPECT_EQ(count_color(img, {255, 255, 255}), 10);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(img.at(i, i)[0], 255);
}

TEST(Draw, FilledCircleArea) {
  Image img = blank(21, 21);
  draw_circle(img, 10, 10, 3, {9, 9, 9});
  // Lattice points with x^2 + y^2 <= 9: 29.
  EXPECT_EQ(count_color(img, {9, 9, 9}), 29);
}

TEST(Draw, TextAndLabelPutInkInsideTheirBox) {
  Image img = blank(200, 60);
  const TextSize size = measure_text("person 0.91", 2);
  EXPECT_GT(size.width, 40);
  EXPECT_GT(size.height, 10);
  draw_label(img, 10, 40, "person 0.91", {255, 255, 0}, 2);
  // Background filled and black ink present, nothing drawn below the anchor.
  EXPECT_GT(count_color(img, {255, 255, 0}), 0);
  EXPECT_GT(count_color(img, {0, 0, 0}) - (200 * 60 - (size.width + 8) * (size.height + 8)), 0);
  for (int x = 0; x < 200; ++x) EXPECT_EQ(img.at(x, 50)[0], 0);
}

TEST(Draw, BlendImagesChecksSize) {
  Image a = blank(2, 2), b = blank(3, 2);
  EXPECT_EQ(blend_images(a, b, 0.5f).error().code(), ErrorCode::InvalidArgument);
  Image c = blank(2, 2);
  fill_rect(c, 0, 0, 1, 1, {100, 100, 100});
  ASSERT_TRUE(blend_images(a, c, 0.25f).ok());
  EXPECT_EQ(a.at(1, 1)[0], 25);
}

}  // namespace
}  // namespace aegisrt::vision
