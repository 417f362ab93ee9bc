#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision {
namespace {

PreprocessConfig raw_config(int w, int h, ResizeMode mode = ResizeMode::Stretch) {
  PreprocessConfig c;
  c.width = w;
  c.height = h;
  c.resize = mode;
  c.scale = 1.0f;  // raw 0..255 values, easy to check by hand
  return c;
}

Image grey_from(int w, int h, const std::vector<int>& values) {
  std::vector<std::uint8_t> px(values.begin(), values.end());
  return Image::from_pixels(w, h, 1, px).value();
}

TEST(Letterbox, Geometry640x480To320) {
  PreprocessConfig c;
  c.width = c.height = 320;
  auto t = compute_transform(640, 480, c);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->scale_x, 0.5f);
  EXPECT_EQ(t->scale_y, 0.5f);
  EXPECT_EQ(t->resized_width, 320);
  EXPECT_EQ(t->resized_height, 240);
  EXPECT_EQ(t->pad_x, 0);
  EXPECT_EQ(t->pad_y, 40);
  // A box in model pixels maps back exactly: x / 0.5, (y - 40) / 0.5.
  const Box back = t->to_original(Box{10, 50, 110, 150});
  EXPECT_EQ(back, (Box{20, 20, 220, 220}));
  EXPECT_EQ(t->to_model(back), (Box{10, 50, 110, 150}));
}

TEST(Letterbox, PortraitPadsX) {
  PreprocessConfig c;
  c.width = c.height = 640;
  auto t = compute_transform(480, 640, c);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->scale_x, 1.0f);
  EXPECT_EQ(t->pad_x, 80);
  EXPECT_EQ(t->pad_y, 0);
  EXPECT_EQ(t->to_original(Point{80, 0}), (Point{0, 0}));
  EXPECT_EQ(t->to_original(Point{560, 640}), (Point{480, 640}));
}

TEST(Letterbox, OddPaddingFloorsLikeUltralytics) {
  PreprocessConfig c;
  c.width = c.height = 4;
  auto t = compute_transform(3, 1, c);  // r = 4/3: 4x1 content, 3 rows of padding
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->resized_width, 4);
  EXPECT_EQ(t->resized_height, 1);
  EXPECT_EQ(t->pad_y, 1);  // floor(3 / 2): 1 row above, 2 below
  EXPECT_FLOAT_EQ(t->scale_x, 4.0f / 3.0f);
  EXPECT_EQ(t->scale_y, 1.0f);
}

TEST(Letterbox, StretchHasNoPadAndPerAxisScale) {
  auto t = compute_transform(640, 480, raw_config(320, 320));
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->pad_x, 0);
  EXPECT_EQ(t->pad_y, 0);
  EXPECT_EQ(t->scale_x, 0.5f);
  EXPECT_FLOAT_EQ(t->scale_y, 320.0f / 480.0f);
}

TEST(Resize, UpscaleGradientHalfPixelCentres) {
  // 4 -> 8: source x = (d + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, ... 3.25 (clamped).
  const Image img = grey_from(4, 1, {0, 40, 80, 120});
  auto r = preprocess(img, raw_config(8, 1));
  ASSERT_TRUE(r.ok()) << r.error();
  const float expect[8] = {0, 10, 30, 50, 70, 90, 110, 120};
  const auto v = r->tensor.span<float>();
  for (int c = 0; c < 3; ++c)  // grey replicated into 3 channels
    for (int x = 0; x < 8; ++x) EXPECT_FLOAT_EQ(v[static_cast<std::size_t>(c * 8 + x)], expect[x]) << x;
}

TEST(Resize, DownscaleGradient) {
  // 4 -> 2: source x = 0.5 and 2.5.
  const Image img = grey_from(4, 1, {0, 40, 80, 120});
  auto r = preprocess(img, raw_config(2, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_FLOAT_EQ(r->tensor.span<float>()[0], 20.0f);
  EXPECT_FLOAT_EQ(r->tensor.span<float>()[1], 100.0f);
}

TEST(Resize, BilinearReproducesAPlaneExactly) {
  // f(x, y) = 10x + 3y is reproduced exactly by bilinear sampling at the
  // (clamped) source coordinates, for any scale factor.
  const int W = 7, H = 5, OW = 11, OH = 9;
  std::vector<int> vals;
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) vals.push_back(10 * x + 3 * y);
  auto r = preprocess(grey_from(W, H, vals), raw_config(OW, OH));
  ASSERT_TRUE(r.ok());
  const auto v = r->tensor.span<float>();
  for (int y = 0; y < OH; ++y)
    for (int x = 0; x < OW; ++x) {
      const double sx = std::clamp((x + 0.5) * W / OW - 0.5, 0.0, W - 1.0);
      const double sy = std::clamp((y + 0.5) * H / OH - 0.5, 0.0, H - 1.0);
      EXPECT_NEAR(v[static_cast<std::size_t>(y * OW + x)], 10 * sx + 3 * sy, 1e-4) << x << "," << y;
    }
}

TEST(Resize, Uint8ResizeRounds) {
  auto out = resize_bilinear(grey_from(4, 1, {0, 40, 80, 121}), 8, 1);
  ASSERT_TRUE(out.ok());
  const std::uint8_t expect[8] = {0, 10, 30, 50, 70, 90, 111, 121};
  // 2.25 -> 80 + 0.25 * 41 = 90.25 -> 90; 2.75 -> 110.75 -> 111; 3.25 clamps to 121.
  for (int x = 0; x < 8; ++x) EXPECT_EQ(out->at(x, 0)[0], expect[x]) << x;
}

TEST(Normalize, MeanStdScaleAndColourOrder) {
  const Image px = Image::from_pixels(1, 1, 3, std::vector<std::uint8_t>{10, 20, 30}).value();
  PreprocessConfig c;
  c.width = c.height = 1;
  c.scale = 1.0f / 255.0f;
  c.mean = {0.485f, 0.456f, 0.406f};
  c.std = {0.229f, 0.224f, 0.225f};
  auto rgb = preprocess(px, c);
  ASSERT_TRUE(rgb.ok());
  EXPECT_NEAR(rgb->tensor.span<float>()[0], (10 / 255.0 - 0.485) / 0.229, 1e-5);  // -1.9467
  EXPECT_NEAR(rgb->tensor.span<float>()[1], (20 / 255.0 - 0.456) / 0.224, 1e-5);
  EXPECT_NEAR(rgb->tensor.span<float>()[2], (30 / 255.0 - 0.406) / 0.225, 1e-5);
  c.color_order = ColorOrder::BGR;  // output channel 0 is blue; mean/std per output channel
  auto bgr = preprocess(px, c);
  ASSERT_TRUE(bgr.ok());
  EXPECT_NEAR(bgr->tensor.span<float>()[0], (30 / 255.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(bgr->tensor.span<float>()[2], (10 / 255.0 - 0.406) / 0.225, 1e-5);
}

TEST(Layout, NchwAndNhwc) {
  // 2x2 RGB, pixel (x, y) = (10x + y, 100 + 10x + y, 200 + 10x + y).
  std::vector<std::uint8_t> px;
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x)
      for (int c = 0; c < 3; ++c) px.push_back(static_cast<std::uint8_t>(100 * c + 10 * x + y));
  const Image img = Image::from_pixels(2, 2, 3, px).value();
  auto chw = preprocess(img, raw_config(2, 2));
  ASSERT_TRUE(chw.ok());
  EXPECT_EQ(chw->tensor.shape(), (Shape{1, 3, 2, 2}));
  auto cfg = raw_config(2, 2);
  cfg.layout = Layout::NHWC;
  auto hwc = preprocess(img, cfg);
  ASSERT_TRUE(hwc.ok());
  EXPECT_EQ(hwc->tensor.shape(), (Shape{1, 2, 2, 3}));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x) {
        const float want = static_cast<float>(100 * c + 10 * x + y);
        EXPECT_EQ(chw->tensor.span<float>()[static_cast<std::size_t>((c * 2 + y) * 2 + x)], want);
        EXPECT_EQ(hwc->tensor.span<float>()[static_cast<std::size_t>((y * 2 + x) * 3 + c)], want);
      }
}

TEST(Letterbox, PadValueIsNormalisedAndContentPlaced) {
  // 4x2 -> 4x4: one pad row above, one below.
  const Image img = grey_from(4, 2, {1, 2, 3, 4, 5, 6, 7, 8});
  PreprocessConfig c = raw_config(4, 4, ResizeMode::Letterbox);
  c.pad_value = 114;
  c.scale = 0.5f;
  c.mean = {1.0f, 1.0f, 1.0f};
  auto r = preprocess(img, c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->transforms[0].pad_y, 1);
  const auto v = r->tensor.span<float>();
  for (int ch = 0; ch < 3; ++ch)
    for (int x = 0; x < 4; ++x) {
      const std::size_t plane = static_cast<std::size_t>(ch) * 16;
      EXPECT_EQ(v[plane + static_cast<std::size_t>(x)], 56.0f);       // 114 * 0.5 - 1
      EXPECT_EQ(v[plane + 12 + static_cast<std::size_t>(x)], 56.0f);  // last row
      EXPECT_EQ(v[plane + 4 + static_cast<std::size_t>(x)], (x + 1) * 0.5f - 1.0f);
      EXPECT_EQ(v[plane + 8 + static_cast<std::size_t>(x)], (x + 5) * 0.5f - 1.0f);
    }
}

TEST(Batch, SlotsEqualSingleImageResults) {
  const Image a = grey_from(4, 2, {1, 2, 3, 4, 5, 6, 7, 8});
  std::vector<std::uint8_t> px(6 * 3 * 3);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<std::uint8_t>(i * 5);
  const Image b = Image::from_pixels(6, 3, 3, px).value();
  PreprocessConfig c;
  c.width = 8;
  c.height = 8;
  const Image* both[] = {&a, &b};
  auto batch = preprocess_batch(both, c);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->tensor.shape(), (Shape{2, 3, 8, 8}));
  ASSERT_EQ(batch->transforms.size(), 2u);
  auto single = preprocess(b, c);
  ASSERT_TRUE(single.ok());
  const auto all = batch->tensor.span<float>();
  const auto one = single->tensor.span<float>();
  EXPECT_TRUE(std::equal(one.begin(), one.end(), all.begin() + 192));
  EXPECT_EQ(batch->transforms[1].pad_y, single->transforms[0].pad_y);
}

TEST(Preprocess, RgbaDropsAlpha) {
  const Image rgba = Image::from_pixels(1, 1, 4, std::vector<std::uint8_t>{1, 2, 3, 99}).value();
  auto r = preprocess(rgba, raw_config(1, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tensor.span<float>()[0], 1.0f);
  EXPECT_EQ(r->tensor.span<float>()[2], 3.0f);
}

TEST(Preprocess, RejectsBadConfigNamingTheField) {
  const Image img = grey_from(1, 1, {0});
  PreprocessConfig c;
  c.std = {1.0f, 0.0f, 1.0f};
  auto r = preprocess(img, c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().to_string().find("std"), std::string::npos);
  c = PreprocessConfig{};
  c.width = 0;
  EXPECT_EQ(preprocess(img, c).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(preprocess(Image{}, PreprocessConfig{}).error().code(), ErrorCode::InvalidArgument);
  std::vector<float> small(10);
  EXPECT_EQ(preprocess_into(img, PreprocessConfig{}, small).error().code(), ErrorCode::InvalidArgument);
}

// ---- ZoeDepth: reflect border before the resize, align_corners bilinear

TEST(Border, SizeIsTransformersIntSqrtHalfTimesFactor) {
  // int(np.sqrt(side / 2) * 3), as python/gen_golden_zoedepth.py recorded it
  // for the golden images (480x640 and 1280x720).
  EXPECT_EQ(border_size(480, 3.0), 46);
  EXPECT_EQ(border_size(640, 3.0), 53);
  EXPECT_EQ(border_size(1280, 3.0), 75);
  EXPECT_EQ(border_size(720, 3.0), 56);
  EXPECT_EQ(border_size(8, 1.0), 2);  // sqrt(4) = 2 exactly
  EXPECT_EQ(border_size(5, 1.0), 1);  // sqrt(2.5) = 1.58
}

TEST(Border, ReflectPaddingWithoutResizeIsNumpyReflect) {
  // 8x5 grey image v(x, y) = 10 y + x, factor 1: border 2 columns, 1 row;
  // the output is the padded size (12x7), so align_corners maps 1:1 and the
  // output IS the padded image. numpy.pad(mode="reflect") by hand:
  // columns [2 1 | 0 1 2 3 4 5 6 7 | 6 5], rows [1 | 0 1 2 3 4 | 3].
  std::vector<int> v;
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 8; ++x) v.push_back(10 * y + x);
  const Image img = grey_from(8, 5, v);
  PreprocessConfig c = raw_config(12, 7);
  c.border = BorderMode::Reflect;
  c.border_factor = 1.0;
  c.align_corners = true;
  auto r = preprocess(img, c);
  ASSERT_TRUE(r.ok()) << r.error();
  const int cols[12] = {2, 1, 0, 1, 2, 3, 4, 5, 6, 7, 6, 5};
  const int rows[7] = {1, 0, 1, 2, 3, 4, 3};
  const auto out = r->tensor.span<const float>();
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 12; ++x)
      EXPECT_FLOAT_EQ(out[static_cast<std::size_t>(y * 12 + x)], static_cast<float>(10 * rows[y] + cols[x]))
          << x << "," << y;
  // The transform is the stretch of the image itself (the border is the
  // depth decoder's business).
  EXPECT_EQ(r->transforms[0].src_width, 8);
  EXPECT_EQ(r->transforms[0].resized_width, 12);
  EXPECT_EQ(r->transforms[0].pad_x, 0);
}

TEST(Border, AlignCornersSamplesTheCornerPixelCentres) {
  // Same 8-wide image, columns only (v = x on every row), padded to 12 and
  // resized to 4 with align_corners: source x = d * 11 / 3 = 0, 3.667,
  // 7.333, 11 over the padded row [2 1 0 1 2 3 4 5 6 7 6 5]:
  // 2, 1 + 2/3, 5 + 1/3, 5.
  std::vector<int> v;
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 8; ++x) v.push_back(x);
  PreprocessConfig c = raw_config(4, 7);
  c.border = BorderMode::Reflect;
  c.border_factor = 1.0;
  c.align_corners = true;
  auto r = preprocess(grey_from(8, 5, v), c);
  ASSERT_TRUE(r.ok()) << r.error();
  const float want[4] = {2.0f, 1.0f + 2.0f / 3.0f, 5.0f + 1.0f / 3.0f, 5.0f};
  const auto out = r->tensor.span<const float>();
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_NEAR(out[static_cast<std::size_t>(y * 4 + x)], want[x], 1e-5f) << x;
  // align_corners alone (no border), 8 -> 3: x = 0, 3.5, 7.
  PreprocessConfig a = raw_config(3, 5);
  a.align_corners = true;
  auto ra = preprocess(grey_from(8, 5, v), a);
  ASSERT_TRUE(ra.ok()) << ra.error();
  EXPECT_NEAR(ra->tensor.span<const float>()[0], 0.0f, 1e-6f);
  EXPECT_NEAR(ra->tensor.span<const float>()[1], 3.5f, 1e-6f);
  EXPECT_NEAR(ra->tensor.span<const float>()[2], 7.0f, 1e-6f);
}

TEST(Border, RejectsWhatItCannotDoNamingTheField) {
  PreprocessConfig c = raw_config(4, 4);
  c.border = BorderMode::Reflect;
  // int(sqrt(4 / 2) * 3) = 4 is not smaller than the 4-pixel side.
  auto small = preprocess(grey_from(4, 4, std::vector<int>(16, 0)), c);
  ASSERT_FALSE(small.ok());
  EXPECT_EQ(small.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(small.error().to_string().find("preprocess.border"), std::string::npos) << small.error();
  PreprocessConfig lb = raw_config(4, 4, ResizeMode::Letterbox);
  lb.border = BorderMode::Reflect;
  EXPECT_EQ(lb.validate().error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(lb.validate().error().to_string().find("preprocess.border"), std::string::npos);
  PreprocessConfig bc = raw_config(4, 4);
  bc.interpolation = Interpolation::Bicubic;
  bc.align_corners = true;
  EXPECT_NE(bc.validate().error().to_string().find("preprocess.align_corners"), std::string::npos);
  PreprocessConfig f = raw_config(4, 4);
  f.border = BorderMode::Reflect;
  f.border_factor = 0.0;
  EXPECT_EQ(f.validate().error().code(), ErrorCode::InvalidArgument);
}

TEST(Preprocess, ParsesManifestSpellings) {
  EXPECT_EQ(parse_resize_mode("letterbox").value(), ResizeMode::Letterbox);
  EXPECT_EQ(parse_resize_mode("stretch").value(), ResizeMode::Stretch);
  EXPECT_EQ(parse_color_order("BGR").value(), ColorOrder::BGR);
  EXPECT_EQ(parse_layout("nhwc").value(), Layout::NHWC);
  auto bad = parse_layout("chwn");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("chwn"), std::string::npos);
  EXPECT_EQ(parse_resize_mode("crop").error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace aegisrt::vision
