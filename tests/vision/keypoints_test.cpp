#include <gtest/gtest.h>

#include "aegisrt/vision/keypoints.h"
#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision {
namespace {

struct Simcc {
  // K = 3 keypoints; input 4x3 with split ratio 2 -> Wx = 8, Hy = 6.
  std::vector<float> x = std::vector<float>(3 * 8, 0.0f);
  std::vector<float> y = std::vector<float>(3 * 6, 0.0f);
  Simcc() {
    x[0 * 8 + 5] = 0.8f;  // kp0: x bin 5 -> 2.5
    x[0 * 8 + 1] = 0.3f;
    y[0 * 6 + 3] = 0.6f;  // kp0: y bin 3 -> 1.5; score min(0.8, 0.6)
    x[1 * 8 + 2] = 0.7f;  // kp1: tie in y, first maximum wins (bin 1)
    y[1 * 6 + 1] = 0.9f;
    y[1 * 6 + 4] = 0.9f;
    // kp2: all zero -> not found
  }
  TensorView xv() const { return TensorView(x.data(), {1, 3, 8}, DType::Float32); }
  TensorView yv() const { return TensorView(y.data(), {1, 3, 6}, DType::Float32); }
};

TEST(Simcc, DecodeThroughLetterbox) {
  // 8x4 image into a 4x3 input: scale 0.5, content 4x2, pad_y 0 (floor(1/2)).
  PreprocessConfig c;
  c.width = 4;
  c.height = 3;
  const auto t = compute_transform(8, 4, c).value();
  ASSERT_EQ(t.pad_y, 0);
  Simcc s;
  auto k = decode_simcc(s.xv(), s.yv(), SimccConfig{2.0f}, t);
  ASSERT_TRUE(k.ok()) << k.error();
  ASSERT_EQ(k->size(), 3u);
  EXPECT_FLOAT_EQ((*k)[0].x, 5.0f);  // 2.5 / 0.5
  EXPECT_FLOAT_EQ((*k)[0].y, 3.0f);  // 1.5 / 0.5
  EXPECT_FLOAT_EQ((*k)[0].score, 0.6f);
  EXPECT_FLOAT_EQ((*k)[1].x, 2.0f);  // bin 2 -> 1.0 -> 2.0
  EXPECT_FLOAT_EQ((*k)[1].y, 1.0f);  // bin 1 -> 0.5 -> 1.0
  EXPECT_FLOAT_EQ((*k)[1].score, 0.7f);
  EXPECT_EQ((*k)[2].score, 0.0f);
  EXPECT_EQ((*k)[2].x, -1.0f);
}

TEST(Simcc, DecodeThroughAffineCrop) {
  // A top-down crop: model = (orig - (100, 50)) / 2, i.e. orig = 2 * model + (100, 50).
  AffineTransform crop_to_orig{2, 0, 100, 0, 2, 50};
  Simcc s;
  auto k = decode_simcc(s.xv(), s.yv(), SimccConfig{2.0f}, crop_to_orig);
  ASSERT_TRUE(k.ok());
  EXPECT_FLOAT_EQ((*k)[0].x, 105.0f);
  EXPECT_FLOAT_EQ((*k)[0].y, 53.0f);
  // The inverse really inverts.
  const Point back = crop_to_orig.inverse().apply(Point{105, 53});
  EXPECT_FLOAT_EQ(back.x, 2.5f);
  EXPECT_FLOAT_EQ(back.y, 1.5f);
}

TEST(Simcc, RejectsMismatchedOutputs) {
  Simcc s;
  TensorView bad_y(s.y.data(), {1, 2, 9}, DType::Float32);
  auto r = decode_simcc(s.xv(), bad_y, SimccConfig{}, AffineTransform{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("simcc_y"), std::string::npos);
  EXPECT_EQ(decode_simcc(s.xv(), s.yv(), SimccConfig{0.0f}, AffineTransform{}).error().code(),
            ErrorCode::InvalidArgument);
}

TEST(Simcc, SkeletonIndicesAreCoco17) {
  for (auto [a, b] : coco17_skeleton()) {
    EXPECT_GE(a, 0);
    EXPECT_LT(a, 17);
    EXPECT_GE(b, 0);
    EXPECT_LT(b, 17);
  }
  EXPECT_EQ(coco17_skeleton().size(), 19u);
}

}  // namespace
}  // namespace aegisrt::vision
