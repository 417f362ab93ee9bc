// keep_aspect_input_size / keep_aspect_config: the reference processors'
// aspect-keeping input size (transformers' get_resize_output_image_size with
// keep_aspect_ratio=True), against values worked out by hand from that
// function's source. The pipeline golden tests (pipeline_golden_depth_test)
// also check it against a table the generators recorded by calling the
// processors themselves.
#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "aegisrt/vision/keep_aspect.h"

namespace aegisrt::vision {
namespace {

TEST(KeepAspect, FitsTheSideThatScalesLeastAndRoundsToTheNearestMultiple) {
  // 640x480 to 518x518: scale_h = 518/480 = 1.079 is closer to 1 than
  // scale_w = 0.809, so both sides scale by 1.079: 518 x 690.67 -> 49.33 * 14 -> 686.
  auto s = keep_aspect_input_size(640, 480, 518, 518, 14);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(*s, (InputSize{686, 518}));
  // 720x1280: scale_w = 0.719 wins; height 1280 * 518/720 = 920.9 = 65.78 * 14
  // -> 66 * 14 = 924 (nearest, not 910 as a floor would give).
  s = keep_aspect_input_size(720, 1280, 518, 518, 14);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(*s, (InputSize{518, 924}));
  // Upscaling works the same way: 100x37 (w x h) -> scale_w 5.18 is nearer
  // 1 than 14: 518 x 191.66 -> 13.69 * 14 -> 196.
  s = keep_aspect_input_size(37, 100, 518, 518, 14);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(*s, (InputSize{196, 518}));
}

TEST(KeepAspect, HalvesRoundToEven) {
  // 518x259: scale_w = 1 (exact), height 259 / 14 = 18.5 -> 18 (even) -> 252,
  // not 266 (Python's round and numpy's np.round).
  auto s = keep_aspect_input_size(518, 259, 518, 518, 14);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(*s, (InputSize{518, 252}));
  // 27.5 * 32 = 880 -> 28 (even) * 32 = 896 (ZoeDepth's bordered portrait below).
  s = keep_aspect_input_size(832, 1430, 512, 384, 32);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(*s, (InputSize{512, 896}));
  // 25.5 -> 26: the even neighbour is the upper one here.
  s = keep_aspect_input_size(10, 51, 10, 51, 2);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(*s, (InputSize{10, 52}));
}

TEST(KeepAspect, TheBorderIsPartOfTheImageItSizes) {
  // ZoeDepth: 720x1280 plus a reflect border of int(sqrt(side / 2) * 3) =
  // 56 columns / 75 rows each side is 832x1430, which keeps its aspect at 512x896.
  PreprocessConfig c;
  c.width = 512;
  c.height = 384;
  c.resize = ResizeMode::Stretch;
  c.border = BorderMode::Reflect;
  c.border_factor = 3.0;
  auto k = keep_aspect_config(720, 1280, c, 32);
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->width, 512);
  EXPECT_EQ(k->height, 896);
  // A 37x100 image: bordered 12 / 21 pixels each side it is 61x142, which
  // fits its height (scale 384/142 = 2.70 is nearer 1 than 512/61 = 8.39):
  // width 61 * 2.70 = 164.96 = 5.15 * 32 -> 160. Without the border: 37 *
  // 3.84 = 142.08 = 4.44 * 32 -> 128.
  k = keep_aspect_config(37, 100, c, 32);
  ASSERT_TRUE(k.ok()) << k.error();
  EXPECT_EQ(k->width, 160);
  EXPECT_EQ(k->height, 384);
  auto plain = keep_aspect_input_size(37, 100, 512, 384, 32);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(*plain, (InputSize{128, 384}));
  // Everything else of the config is kept.
  EXPECT_EQ(k->resize, ResizeMode::Stretch);
  EXPECT_EQ(k->border, BorderMode::Reflect);
  EXPECT_EQ(k->border_factor, 3.0);
}

TEST(KeepAspect, RefusesSizesTheReferenceRefuses) {
  // 2000x14: scale_w = 0.259 wins; height 14 * 0.259 = 3.6 rounds to 0 * 14.
  auto s = keep_aspect_input_size(2000, 14, 518, 518, 14);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(s.error().message().find("2000x14"), std::string::npos) << s.error();
  for (auto [w, h, m] : {std::tuple{0, 10, 14}, std::tuple{10, -1, 14}, std::tuple{10, 10, 0}}) {
    EXPECT_EQ(keep_aspect_input_size(w, h, 518, 518, m).error().code(), ErrorCode::InvalidArgument);
  }
  // Far beyond any model input: refused, not allocated.
  EXPECT_FALSE(keep_aspect_input_size(518, 1000000, 518, 518, 14).ok());
  PreprocessConfig letterbox;
  letterbox.resize = ResizeMode::Letterbox;
  auto k = keep_aspect_config(640, 480, letterbox, 32);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error().code(), ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace aegisrt::vision
