#include <gtest/gtest.h>

#include <cmath>

#include "aegisrt/vision/depth.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision {
namespace {

float luma(Rgb c) { return 0.299f * c.r + 0.587f * c.g + 0.114f * c.b; }

TEST(Depth, UndoesLetterboxExactly) {
  // 4x2 image letterboxed into 4x4 (pad_y 1, scale 1). Depth in model space
  // d(u, v) = 10 v + u; original pixel (x, y) sits at model (x, y + 1).
  PreprocessConfig c;
  c.width = c.height = 4;
  const auto t = compute_transform(4, 2, c).value();
  std::vector<float> d(16);
  for (int v = 0; v < 4; ++v)
    for (int u = 0; u < 4; ++u) d[static_cast<std::size_t>(v * 4 + u)] = static_cast<float>(10 * v + u);
  auto m = depth_to_original(TensorView(d.data(), {1, 1, 4, 4}, DType::Float32), t);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->width, 4);
  EXPECT_EQ(m->height, 2);
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 4; ++x)
      EXPECT_FLOAT_EQ(m->values[static_cast<std::size_t>(y * 4 + x)], static_cast<float>(10 * (y + 1) + x));
}

TEST(Depth, BorderIsCroppedAfterResamplingToThePaddedSize) {
  // 6x4 image with a border of 2 columns and 1 row was stretched into a
  // 10x6 input (the padded size: scale 1). Depth d(u, v) = 10 v + u; image
  // pixel (x, y) is padded pixel (x + 2, y + 1).
  PreprocessConfig c;
  c.width = 10;
  c.height = 6;
  c.resize = ResizeMode::Stretch;
  const auto t = compute_transform(6, 4, c).value();
  std::vector<float> d(60);
  for (int v = 0; v < 6; ++v)
    for (int u = 0; u < 10; ++u) d[static_cast<std::size_t>(v * 10 + u)] = static_cast<float>(10 * v + u);
  for (auto filter : {Interpolation::Bilinear, Interpolation::Bicubic}) {
    auto m = depth_to_original_unpadded(TensorView(d.data(), {1, 6, 10}, DType::Float32), t, 2, 1, 0, filter);
    ASSERT_TRUE(m.ok()) << m.error();
    ASSERT_EQ(m->width, 6);
    ASSERT_EQ(m->height, 4);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 6; ++x)
        EXPECT_FLOAT_EQ(m->values[static_cast<std::size_t>(y * 6 + x)], static_cast<float>(10 * (y + 1) + x + 2));
  }
  // A map at half the padded resolution (5x3): image pixel (0, 0) is padded
  // (2, 1), whose centre maps to map u = 2.5 / 2 - 0.5 = 0.75, v = 0.25.
  std::vector<float> half(15);
  for (int v = 0; v < 3; ++v)
    for (int u = 0; u < 5; ++u) half[static_cast<std::size_t>(v * 5 + u)] = static_cast<float>(10 * v + u);
  auto m = depth_to_original_unpadded(TensorView(half.data(), {1, 3, 5}, DType::Float32), t, 2, 1);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FLOAT_EQ(m->values[0], 10 * 0.25f + 0.75f);
  // Only after a plain resize.
  PreprocessConfig lb;
  lb.width = lb.height = 8;
  const auto tl = compute_transform(6, 4, lb).value();
  EXPECT_EQ(depth_to_original_unpadded(TensorView(d.data(), {1, 6, 10}, DType::Float32), tl, 2, 1).error().code(),
            ErrorCode::InvalidArgument);
}

TEST(Depth, LowerResolutionMapIsInterpolated) {
  // 2x2 depth covering a 4x4 input (stretch, identity scale): x samples at
  // u = (x + 0.5) / 2 - 0.5 = -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  PreprocessConfig c;
  c.width = c.height = 4;
  c.resize = ResizeMode::Stretch;
  const auto t = compute_transform(4, 4, c).value();
  std::vector<float> d{0, 10, 20, 30};
  auto m = depth_to_original(TensorView(d.data(), {2, 2}, DType::Float32), t);
  ASSERT_TRUE(m.ok());
  const float row0[] = {0, 2.5f, 7.5f, 10};
  for (int x = 0; x < 4; ++x) EXPECT_FLOAT_EQ(m->values[static_cast<std::size_t>(x)], row0[x]);
  EXPECT_FLOAT_EQ(m->values[15], 30.0f);
}

TEST(Depth, NormalizeMinMax) {
  std::vector<float> v{2, 4, 6, NAN};
  const auto [lo, hi] = normalize_min_max(v);
  EXPECT_EQ(lo, 2.0f);
  EXPECT_EQ(hi, 6.0f);
  EXPECT_EQ(v, (std::vector<float>{0, 0.5f, 1, 0}));
  std::vector<float> flat{3, 3};
  normalize_min_max(flat);
  EXPECT_EQ(flat, (std::vector<float>{0, 0}));
}

TEST(ColorMap, GreyEndpoints) {
  EXPECT_EQ(colormap_color(ColorMap::Grey, 0.0f), (Rgb{0, 0, 0}));
  EXPECT_EQ(colormap_color(ColorMap::Grey, 1.0f), (Rgb{255, 255, 255}));
  EXPECT_EQ(colormap_color(ColorMap::Grey, 2.0f), (Rgb{255, 255, 255}));  // clamped
}

TEST(ColorMap, InfernoIsMonotonicFromBlackToPaleYellow) {
  const Rgb lo = colormap_color(ColorMap::Inferno, 0.0f);
  const Rgb hi = colormap_color(ColorMap::Inferno, 1.0f);
  EXPECT_LE(luma(lo), 6.0f);  // matplotlib: (0, 0, 4)
  // matplotlib's last entry: (252, 255, 164)
  EXPECT_NEAR(hi.r, 252, 6);
  EXPECT_NEAR(hi.g, 255, 6);
  EXPECT_NEAR(hi.b, 164, 8);
  float prev = -1.0f;
  for (int i = 0; i <= 20; ++i) {
    const float l = luma(colormap_color(ColorMap::Inferno, static_cast<float>(i) / 20.0f));
    EXPECT_GT(l, prev) << i;
    prev = l;
  }
}

TEST(ColorMap, TurboRunsBlueGreenRedAndIsDarkAtTheEnds) {
  int peak_r = 0, peak_g = 0, peak_b = 0;
  Rgb best{0, 0, 0};
  for (int i = 0; i <= 100; ++i) {
    const Rgb c = colormap_color(ColorMap::Turbo, static_cast<float>(i) / 100.0f);
    if (c.r > best.r) best.r = c.r, peak_r = i;
    if (c.g > best.g) best.g = c.g, peak_g = i;
    if (c.b > best.b) best.b = c.b, peak_b = i;
  }
  EXPECT_LT(peak_b, peak_g);
  EXPECT_LT(peak_g, peak_r);
  EXPECT_LT(peak_b, 30);
  EXPECT_GT(peak_r, 55);  // turbo's red saturates around 0.65-0.75
  EXPECT_LT(luma(colormap_color(ColorMap::Turbo, 0.0f)), 60.0f);
  EXPECT_LT(luma(colormap_color(ColorMap::Turbo, 1.0f)), 80.0f);
  EXPECT_GT(luma(colormap_color(ColorMap::Turbo, 0.5f)), 150.0f);
  const Rgb end = colormap_color(ColorMap::Turbo, 1.0f);  // dark red
  EXPECT_GT(end.r, 3 * end.g);
  EXPECT_GT(end.r, 3 * end.b);
}

TEST(ColorizeDepth, EndpointsMapToColourMapEnds) {
  PreprocessConfig c;
  c.width = 4;
  c.height = 1;
  c.resize = ResizeMode::Stretch;
  const auto t = compute_transform(4, 1, c).value();
  // Normalised to 0, 0.2, 0.4, 1 (8-bit table entries 0, 51, 102, 255).
  std::vector<float> d{10, 61, 112, 265};
  auto img = colorize_depth(TensorView(d.data(), {1, 4}, DType::Float32), t, ColorMap::Turbo);
  ASSERT_TRUE(img.ok()) << img.error();
  EXPECT_EQ(img->channels(), 3);
  const auto px = [&](int x) { const auto* p = img->at(x, 0); return Rgb{p[0], p[1], p[2]}; };
  EXPECT_EQ(px(0), colormap_color(ColorMap::Turbo, 0.0f));
  EXPECT_EQ(px(3), colormap_color(ColorMap::Turbo, 1.0f));
  EXPECT_EQ(px(1), colormap_color(ColorMap::Turbo, 51.0f / 255.0f));
  EXPECT_EQ(px(2), colormap_color(ColorMap::Turbo, 102.0f / 255.0f));
  auto inv = colorize_depth(TensorView(d.data(), {1, 4}, DType::Float32), t, ColorMap::Grey, true);
  ASSERT_TRUE(inv.ok());
  EXPECT_EQ(inv->at(0, 0)[0], 255);
  EXPECT_EQ(inv->at(3, 0)[0], 0);
}

TEST(Depth, BadShapesAndNames) {
  PreprocessConfig c;
  const auto t = compute_transform(4, 4, c).value();
  std::vector<float> d(32);
  auto r = depth_to_original(TensorView(d.data(), {1, 2, 4, 4}, DType::Float32), t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("depth output"), std::string::npos);
  std::vector<std::int64_t> ints(16);
  EXPECT_EQ(depth_to_original(TensorView(ints.data(), {4, 4}, DType::Int64), t).error().code(),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(parse_colormap("jet").error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(parse_colormap("gray").value(), ColorMap::Grey);
}

}  // namespace
}  // namespace aegisrt::vision
