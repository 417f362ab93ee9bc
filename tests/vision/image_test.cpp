#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "aegisrt/vision/image.h"

namespace aegisrt::vision {
namespace {

namespace fs = std::filesystem;

class ImageFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("aegisrt_image_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& p, const void* data, std::size_t n) {
    std::ofstream(p, std::ios::binary).write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  }
  fs::path dir_;
};

Image make_pattern(int w, int h, int c) {
  auto img = Image::create(w, h, c);
  EXPECT_TRUE(img.ok());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) img->at(x, y)[k] = static_cast<std::uint8_t>(x * 20 + y * 7 + k * 50);
  return std::move(img).value();
}

TEST(Image, CreateRejectsBadSizes) {
  EXPECT_EQ(Image::create(0, 4, 3).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(Image::create(4, 4, 2).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(Image::create(1 << 30, 1 << 30, 4).error().code(), ErrorCode::InvalidArgument);
  std::vector<std::uint8_t> px(11);
  EXPECT_EQ(Image::from_pixels(2, 2, 3, px).error().code(), ErrorCode::InvalidArgument);
}

TEST(Image, ViewIsHwcUint8) {
  const Image img = make_pattern(5, 3, 3);
  const TensorView v = img.view();
  EXPECT_EQ(v.shape(), (Shape{3, 5, 3}));
  EXPECT_EQ(v.dtype(), DType::UInt8);
  EXPECT_EQ(v.data_as<std::uint8_t>()[(2 * 5 + 4) * 3 + 1], img.at(4, 2)[1]);
}

TEST(Image, ConvertChannels) {
  auto rgb = Image::from_pixels(1, 1, 3, std::vector<std::uint8_t>{255, 0, 0});
  ASSERT_TRUE(rgb.ok());
  auto grey = rgb->convert(1);
  ASSERT_TRUE(grey.ok());
  EXPECT_EQ(grey->at(0, 0)[0], 76);  // 0.299 * 255 = 76.2
  auto rgba = grey->convert(4);
  ASSERT_TRUE(rgba.ok());
  EXPECT_EQ(rgba->at(0, 0)[0], 76);
  EXPECT_EQ(rgba->at(0, 0)[2], 76);
  EXPECT_EQ(rgba->at(0, 0)[3], 255);
}

TEST_F(ImageFiles, PngRoundTripIsLossless) {
  for (int c : {1, 3, 4}) {
    const Image img = make_pattern(7, 5, c);
    const fs::path p = dir_ / ("rt" + std::to_string(c) + ".png");
    ASSERT_TRUE(save_png(img, p).ok());
    auto back = load_image(p, 0);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->channels(), c);
    EXPECT_EQ(back->width(), 7);
    EXPECT_EQ(back->height(), 5);
    EXPECT_TRUE(std::equal(img.pixels().begin(), img.pixels().end(), back->pixels().begin()));
  }
  // Default load converts to RGB.
  auto rgb = load_image(dir_ / "rt1.png");
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->channels(), 3);
}

TEST_F(ImageFiles, MissingFileIsNotFoundNamingIt) {
  auto r = load_image(dir_ / "nope.png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().message().find("nope.png"), std::string::npos);
}

TEST_F(ImageFiles, DirectoryIsIoError) {
  auto r = load_image(dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::IoError);
}

TEST_F(ImageFiles, TruncatedPngIsCorrupt) {
  auto png = encode_png(make_pattern(64, 64, 3));
  ASSERT_TRUE(png.ok());
  const fs::path p = dir_ / "trunc.png";
  write(p, png->data(), png->size() / 2);
  auto r = load_image(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(r.error().message().find("trunc.png"), std::string::npos);
}

TEST_F(ImageFiles, TextFileIsCorrupt) {
  const fs::path p = dir_ / "notes.jpg";
  const std::string text = "this is not an image\n";
  write(p, text.data(), text.size());
  auto r = load_image(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Corrupt);
  EXPECT_NE(r.error().message().find("notes.jpg"), std::string::npos);
}

TEST_F(ImageFiles, EmptyFileIsCorrupt) {
  const fs::path p = dir_ / "empty.png";
  write(p, "", 0);
  EXPECT_EQ(load_image(p).error().code(), ErrorCode::Corrupt);
}

TEST_F(ImageFiles, SaveIntoMissingFolderIsIoError) {
  auto r = save_png(make_pattern(2, 2, 3), dir_ / "no" / "such" / "dir" / "x.png");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::IoError);
  EXPECT_NE(r.error().message().find("x.png"), std::string::npos);
}

}  // namespace
}  // namespace aegisrt::vision
