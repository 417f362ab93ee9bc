// Image decoding through libjpeg-turbo / libpng: EXIF orientation (parser and
// pixel placement against hand-computed layouts), channel handling, and a
// crafted corpus of broken JPEG/PNG files that must give typed errors (run in
// the asan preset too). JPEGs are written here with TurboJPEG and a hand-made
// APP1 Exif segment; PNG chunks are re-checksummed with zlib's crc32.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

#include "aegisrt/vision/image.h"
#include "vision/jpeg_test_util.h"

namespace aegisrt::vision {
namespace {

namespace fs = std::filesystem;
using namespace aegisrt::testing;

// ------------------------------------------------------------ EXIF parser

TEST(ExifOrientation, ReadsEveryValueInBothByteOrders) {
  Image img = Image::create(16, 16, 3).value();
  const Bytes jpeg = encode_jpeg(img);
  EXPECT_EQ(jpeg_exif_orientation(jpeg), 0) << "plain TurboJPEG output has no Exif";
  for (int v = 1; v <= 8; ++v) {
    EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, exif_app1(v, true))), v);
    EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, exif_app1(v, false))), v);
  }
}

TEST(ExifOrientation, FindsExifAfterOtherAppSegments) {
  const Bytes jpeg = encode_jpeg(Image::create(16, 16, 3).value());  // starts with APP0 JFIF
  Bytes xmp = to_bytes({0xFF, 0xE1, 0x00, 0x0A, 'h', 't', 't', 'p', ':', '/', '/', '/'});
  Bytes seg = xmp;
  append(seg, exif_app1(6));
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, seg)), 6);
}

TEST(ExifOrientation, RejectsInvalidOrMalformedTags) {
  const Bytes jpeg = encode_jpeg(Image::create(16, 16, 3).value());
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, exif_app1(0))), 0);
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, exif_app1(9))), 0);
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, exif_app1(6, true, /*LONG*/ 4))), 0);
  // The segment claims more bytes than the file has.
  Bytes cut = to_bytes({0xFF, 0xD8});
  Bytes seg = exif_app1(6);
  seg.resize(seg.size() - 10);
  append(cut, seg);
  EXPECT_EQ(jpeg_exif_orientation(cut), 0);
  // IFD0 offset far outside the segment.
  Bytes far = exif_app1(6);
  far[4 + 6 + 4] = std::byte{0x7F};
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, far)), 0);
  // Entry count larger than the segment: entries past its end are not read.
  Bytes many = exif_app1(6);
  many[4 + 6 + 8] = std::byte{0xFF};
  many[4 + 6 + 9] = std::byte{0xFF};
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, many)), 6) << "the tag is still among the real entries";
  many[4 + 6 + 10 + 12] = std::byte{0x00};  // break the Orientation tag id: now only garbage remains
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, many)), 0);
  // Zero-length segment, not a JPEG, empty.
  EXPECT_EQ(jpeg_exif_orientation(with_segment(jpeg, to_bytes({0xFF, 0xE1, 0x00, 0x00}))), 0);
  EXPECT_EQ(jpeg_exif_orientation(to_bytes({'M', 'M', 0, 42})), 0);
  EXPECT_EQ(jpeg_exif_orientation({}), 0);
  // After the scan starts nothing is read: an Exif block there is ignored.
  Bytes late = jpeg;
  late.resize(late.size() - 2);  // drop EOI
  append(late, exif_app1(6));
  EXPECT_EQ(jpeg_exif_orientation(late), 0);
}

// ------------------------------------------------------------ orientation placement

// Source: 2 rows x 3 columns of 16x16 blocks (48x32 pixels):
//   R G B
//   Y M C
constexpr int kBlock = 16;
const Rgb kR{255, 0, 0}, kG{0, 255, 0}, kB{0, 0, 255}, kY{255, 255, 0}, kM{255, 0, 255}, kC{0, 255, 255};

Image block_image(const std::vector<std::vector<Rgb>>& grid) {
  const int rows = static_cast<int>(grid.size());
  const int cols = static_cast<int>(grid[0].size());
  Image img = Image::create(cols * kBlock, rows * kBlock, 3).value();
  for (int y = 0; y < img.height(); ++y) {
    for (int x = 0; x < img.width(); ++x) {
      const Rgb c = grid[static_cast<std::size_t>(y / kBlock)][static_cast<std::size_t>(x / kBlock)];
      img.at(x, y)[0] = c.r;
      img.at(x, y)[1] = c.g;
      img.at(x, y)[2] = c.b;
    }
  }
  return img;
}

// Displayed layouts, worked out by hand from the Exif definition of each tag.
const std::array<std::vector<std::vector<Rgb>>, 9> kExpected = {{
    {},
    {{kR, kG, kB}, {kY, kM, kC}},        // 1 as stored
    {{kB, kG, kR}, {kC, kM, kY}},        // 2 mirrored left-right
    {{kC, kM, kY}, {kB, kG, kR}},        // 3 rotated 180
    {{kY, kM, kC}, {kR, kG, kB}},        // 4 mirrored top-bottom
    {{kR, kY}, {kG, kM}, {kB, kC}},      // 5 transposed
    {{kY, kR}, {kM, kG}, {kC, kB}},      // 6 rotated 90 clockwise
    {{kC, kB}, {kM, kG}, {kY, kR}},      // 7 transverse
    {{kB, kC}, {kG, kM}, {kR, kY}},      // 8 rotated 90 counter-clockwise
}};

/// Every block's centre pixel within `tol` of the expected colour.
void expect_blocks(const Image& img, const std::vector<std::vector<Rgb>>& grid, int tol, const std::string& what) {
  ASSERT_EQ(img.height(), static_cast<int>(grid.size()) * kBlock) << what;
  ASSERT_EQ(img.width(), static_cast<int>(grid[0].size()) * kBlock) << what;
  for (std::size_t r = 0; r < grid.size(); ++r) {
    for (std::size_t c = 0; c < grid[r].size(); ++c) {
      const std::uint8_t* p = img.at(static_cast<int>(c) * kBlock + kBlock / 2, static_cast<int>(r) * kBlock + kBlock / 2);
      EXPECT_NEAR(p[0], grid[r][c].r, tol) << what << " block (" << r << "," << c << ")";
      EXPECT_NEAR(p[1], grid[r][c].g, tol) << what << " block (" << r << "," << c << ")";
      EXPECT_NEAR(p[2], grid[r][c].b, tol) << what << " block (" << r << "," << c << ")";
    }
  }
}

TEST(ExifOrientation, ApplyPlacesPixelsExactly) {
  const Image src = block_image(kExpected[1]);
  for (int tag = 1; tag <= 8; ++tag) {
    auto out = apply_exif_orientation(src, tag);
    ASSERT_TRUE(out.ok()) << out.error();
    expect_blocks(*out, kExpected[static_cast<std::size_t>(tag)], 0, "tag " + std::to_string(tag));
    EXPECT_EQ(out->exif_orientation(), tag);
    EXPECT_EQ(out->orientation_applied(), tag > 1);
  }
  // Pixel-exact on a tiny image (3x2, values 0..5): tag 6 puts the bottom-left on top-left.
  const std::array<std::uint8_t, 6> px = {0, 1, 2, 3, 4, 5};
  const Image tiny = Image::from_pixels(3, 2, 1, px).value();
  const Image r6 = apply_exif_orientation(tiny, 6).value();
  ASSERT_EQ(r6.width(), 2);
  ASSERT_EQ(r6.height(), 3);
  EXPECT_EQ(std::vector<std::uint8_t>(r6.pixels().begin(), r6.pixels().end()),
            (std::vector<std::uint8_t>{3, 0, 4, 1, 5, 2}));
  const Image r8 = apply_exif_orientation(tiny, 8).value();
  EXPECT_EQ(std::vector<std::uint8_t>(r8.pixels().begin(), r8.pixels().end()),
            (std::vector<std::uint8_t>{2, 5, 1, 4, 0, 3}));
  EXPECT_EQ(apply_exif_orientation(tiny, 9).error().code(), ErrorCode::InvalidArgument);
}

TEST(ExifOrientation, DecodeAppliesEachOrientationLikeOpenCv) {
  const Bytes jpeg = encode_jpeg(block_image(kExpected[1]));
  for (int tag = 1; tag <= 8; ++tag) {
    for (bool be : {true, false}) {
      const Bytes file = with_segment(jpeg, exif_app1(tag, be));
      auto img = decode_image(file, "tag" + std::to_string(tag) + ".jpg");
      ASSERT_TRUE(img.ok()) << img.error();
      expect_blocks(*img, kExpected[static_cast<std::size_t>(tag)], 12, "decoded tag " + std::to_string(tag));
      EXPECT_EQ(img->exif_orientation(), tag);
      EXPECT_EQ(img->orientation_applied(), tag > 1);
    }
  }
}

TEST(ExifOrientation, CanBeIgnoredButIsStillRecorded) {
  const Bytes file = with_segment(encode_jpeg(block_image(kExpected[1])), exif_app1(6));
  DecodeOptions o;
  o.apply_exif_orientation = false;
  auto img = decode_image(file, "raw.jpg", o);
  ASSERT_TRUE(img.ok()) << img.error();
  expect_blocks(*img, kExpected[1], 12, "stored order");
  EXPECT_EQ(img->exif_orientation(), 6);
  EXPECT_FALSE(img->orientation_applied());
  // The record survives a channel conversion.
  EXPECT_EQ(img->convert(1)->exif_orientation(), 6);
}

// ------------------------------------------------------------ channels and formats

TEST(ImageCodec, JpegChannels) {
  const Image src = block_image(kExpected[1]);
  const Bytes jpeg = encode_jpeg(src);
  auto rgba = decode_image(jpeg, "a.jpg", 4);
  ASSERT_TRUE(rgba.ok()) << rgba.error();
  EXPECT_EQ(rgba->channels(), 4);
  EXPECT_EQ(rgba->at(5, 5)[3], 255);
  EXPECT_NEAR(rgba->at(5, 5)[0], 255, 12);
  auto grey = decode_image(jpeg, "a.jpg", 1);
  ASSERT_TRUE(grey.ok()) << grey.error();
  EXPECT_EQ(grey->channels(), 1);
  // BT.601 luma of pure red: 0.299 * 255 = 76.
  EXPECT_NEAR(grey->at(5, 5)[0], 76, 6);
  // A greyscale JPEG keeps one channel with channels = 0.
  Image g = Image::create(16, 16, 1).value();
  std::memset(g.data(), 200, g.byte_size());
  auto g0 = decode_image(encode_jpeg(g), "g.jpg", 0);
  ASSERT_TRUE(g0.ok()) << g0.error();
  EXPECT_EQ(g0->channels(), 1);
  EXPECT_NEAR(g0->at(3, 3)[0], 200, 2);
}

TEST(ImageCodec, ProgressiveAndSubsampledJpeg) {
  const Image src = block_image(kExpected[1]);
  for (int ss : {TJSAMP_420, TJSAMP_422}) {
    auto img = decode_image(encode_jpeg(src, ss, /*progressive=*/true), "p.jpg");
    ASSERT_TRUE(img.ok()) << img.error();
    expect_blocks(*img, kExpected[1], 24, "progressive");
  }
}

TEST(ImageCodec, CmykJpegBecomesRgb) {
  // Inverted (Adobe) CMYK as libjpeg-turbo stores it: channel = value * K / 255.
  Image cmyk = Image::create(16, 16, 4).value();
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x) {
      std::uint8_t* p = cmyk.at(x, y);
      p[0] = 255; p[1] = 128; p[2] = 0; p[3] = 200;
    }
  auto img = decode_image(encode_jpeg(cmyk), "cmyk.jpg");
  ASSERT_TRUE(img.ok()) << img.error();
  EXPECT_EQ(img->channels(), 3);
  EXPECT_NEAR(img->at(8, 8)[0], 200, 4);        // 255 * 200 / 255
  EXPECT_NEAR(img->at(8, 8)[1], 100, 4);        // 128 * 200 / 255
  EXPECT_NEAR(img->at(8, 8)[2], 0, 4);
}

TEST(ImageCodec, PngGreyAlphaAndRoundTrip) {
  // Grey+alpha PNG written by libpng through encode_png is not possible (1/3/4
  // only), so check the RGBA round trip and the grey one instead.
  Image rgba = Image::create(5, 3, 4).value();
  for (std::size_t i = 0; i < rgba.byte_size(); ++i) rgba.data()[i] = static_cast<std::uint8_t>(i * 37);
  auto png = encode_png(rgba);
  ASSERT_TRUE(png.ok()) << png.error();
  auto back = decode_image(*png, "rgba.png", 0);
  ASSERT_TRUE(back.ok()) << back.error();
  ASSERT_EQ(back->channels(), 4);
  EXPECT_TRUE(std::equal(rgba.pixels().begin(), rgba.pixels().end(), back->pixels().begin()));
  EXPECT_EQ(back->exif_orientation(), 0);
  auto rgb = decode_image(*png, "rgba.png", 3);
  ASSERT_TRUE(rgb.ok());
  EXPECT_EQ(rgb->at(1, 0)[0], rgba.at(1, 0)[0]);
}

// ------------------------------------------------------------ crafted corpus

std::uint32_t be32(const Bytes& b, std::size_t at) {
  return (std::to_integer<std::uint32_t>(b[at]) << 24) | (std::to_integer<std::uint32_t>(b[at + 1]) << 16) |
         (std::to_integer<std::uint32_t>(b[at + 2]) << 8) | std::to_integer<std::uint32_t>(b[at + 3]);
}
void put_be32(Bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::byte>((v >> (24 - 8 * i)) & 0xFF);
}
/// Recomputes the CRC of the PNG chunk starting at `at` (its length field).
void fix_crc(Bytes& png, std::size_t at) {
  const std::uint32_t len = be32(png, at);
  const auto* p = reinterpret_cast<const Bytef*>(png.data() + at + 4);
  put_be32(png, at + 8 + len, static_cast<std::uint32_t>(crc32(0, p, 4 + len)));
}
/// Offset of the first JPEG marker `m` (0xFF m), or npos.
std::size_t find_marker(const Bytes& b, int m) {
  for (std::size_t i = 0; i + 1 < b.size(); ++i)
    if (b[i] == std::byte{0xFF} && std::to_integer<int>(b[i + 1]) == m) return i;
  return std::string::npos;
}

struct Case {
  std::string name;
  Bytes bytes;
  ErrorCode expected;
};

std::vector<Case> crafted_corpus() {
  std::vector<Case> cases;
  const Bytes jpeg = encode_jpeg(block_image(kExpected[1]));
  const Bytes prog = encode_jpeg(block_image(kExpected[1]), TJSAMP_420, true);
  Image small = Image::create(7, 5, 3).value();
  const Bytes png = encode_png(small).value();

  // JPEG truncated at many lengths (headers, tables, inside the scan).
  for (std::size_t n : {std::size_t{3}, std::size_t{20}, std::size_t{100}, jpeg.size() / 2, jpeg.size() - 2}) {
    cases.push_back({"truncated_" + std::to_string(n) + ".jpg", Bytes(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(n)),
                     ErrorCode::Corrupt});
  }
  cases.push_back({"truncated_progressive.jpg", Bytes(prog.begin(), prog.begin() + static_cast<std::ptrdiff_t>(prog.size() * 2 / 3)),
                   ErrorCode::Corrupt});
  {  // DHT whose 16 code-length counts add up to 16 * 255 > 256 (stb_image wrote out of bounds here)
    Bytes b = jpeg;
    const std::size_t dht = find_marker(b, 0xC4);
    for (std::size_t i = 0; i < 16; ++i) b[dht + 5 + i] = std::byte{0xFF};
    cases.push_back({"dht_counts_over_256.jpg", b, ErrorCode::Corrupt});
  }
  {  // DHT counts just over 256 while the segment is long enough to hold them
    Bytes b = jpeg;
    const std::size_t dht = find_marker(b, 0xC4);
    for (std::size_t i = 0; i < 16; ++i) b[dht + 5 + i] = std::byte{0};
    b[dht + 5 + 15] = std::byte{0x01};
    b[dht + 5 + 14] = std::byte{0x01};
    b[dht + 5 + 7] = std::byte{0xFF};
    cases.push_back({"dht_counts_257.jpg", b, ErrorCode::Corrupt});
  }
  {  // SOF claiming 65000 x 65000 (4.2e9 pixels): refused from the header, before allocating
    Bytes b = jpeg;
    const std::size_t sof = find_marker(b, 0xC0);
    for (std::size_t i = 5; i < 9; i += 2) {
      b[sof + i] = std::byte{0xFD};  // 0xFDE8 = 65000
      b[sof + i + 1] = std::byte{0xE8};
    }
    cases.push_back({"sof_65000x65000.jpg", b, ErrorCode::Unsupported});
  }
  {  // SOF claiming 65535 x 65535: beyond JPEG_MAX_DIMENSION, libjpeg-turbo's own refusal
    Bytes b = jpeg;
    const std::size_t sof = find_marker(b, 0xC0);
    for (std::size_t i = 5; i < 9; ++i) b[sof + i] = std::byte{0xFF};
    cases.push_back({"sof_65535x65535.jpg", b, ErrorCode::Corrupt});
  }
  {  // SOF with a zero width
    Bytes b = jpeg;
    const std::size_t sof = find_marker(b, 0xC0);
    b[sof + 7] = std::byte{0};
    b[sof + 8] = std::byte{0};
    cases.push_back({"sof_zero_width.jpg", b, ErrorCode::Corrupt});
  }
  {  // SOF with 200 components in a segment that holds 3
    Bytes b = jpeg;
    b[find_marker(b, 0xC0) + 9] = std::byte{200};
    cases.push_back({"sof_200_components.jpg", b, ErrorCode::Corrupt});
  }
  // Zero-length DQT (length field 0: shorter than the field itself). A
  // zero-length APPn is skipped by libjpeg-turbo: see ZeroLengthAppSegmentIsSkipped.
  cases.push_back({"zero_length_dqt.jpg", with_segment(jpeg, to_bytes({0xFF, 0xDB, 0x00, 0x00})), ErrorCode::Corrupt});
  {  // DQT table id 7 (only 0..3 exist)
    Bytes b = jpeg;
    b[find_marker(b, 0xDB) + 4] = std::byte{0x07};
    cases.push_back({"dqt_bad_table_id.jpg", b, ErrorCode::Corrupt});
  }
  {  // SOS pointing at a Huffman table that was never defined
    Bytes b = jpeg;
    const std::size_t sos = find_marker(b, 0xDA);
    b[sos + 6] = std::byte{0x33};
    cases.push_back({"sos_undefined_table.jpg", b, ErrorCode::Corrupt});
  }
  {  // garbage inside the entropy-coded data
    Bytes b = jpeg;
    const std::size_t sos = find_marker(b, 0xDA);
    for (std::size_t i = sos + 20; i < b.size() - 2 && i < sos + 60; ++i) b[i] = std::byte{0xFF};
    cases.push_back({"scan_garbage.jpg", b, ErrorCode::Corrupt});
  }
  cases.push_back({"soi_only.jpg", to_bytes({0xFF, 0xD8, 0xFF}), ErrorCode::Corrupt});

  // PNG: bad CRC, bad IHDR fields (with a correct CRC), huge IHDR, truncation, broken zlib.
  {
    Bytes b = png;
    b[8 + 8 + 13] ^= std::byte{0x01};  // IHDR CRC
    cases.push_back({"ihdr_bad_crc.png", b, ErrorCode::Corrupt});
  }
  auto ihdr = [&](std::size_t field, std::initializer_list<int> v, const std::string& name, ErrorCode code) {
    Bytes b = png;
    std::size_t i = 8 + 8 + field;
    for (int x : v) b[i++] = static_cast<std::byte>(x);
    fix_crc(b, 8);
    cases.push_back({name, b, code});
  };
  ihdr(8, {3}, "ihdr_bit_depth_3.png", ErrorCode::Corrupt);
  ihdr(9, {7}, "ihdr_color_type_7.png", ErrorCode::Corrupt);
  ihdr(0, {0, 0, 0, 0}, "ihdr_zero_width.png", ErrorCode::Corrupt);
  ihdr(0, {0x80, 0, 0, 0}, "ihdr_width_2pow31.png", ErrorCode::Corrupt);
  ihdr(12, {9}, "ihdr_interlace_9.png", ErrorCode::Corrupt);
  ihdr(0, {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0}, "ihdr_100000x100000.png", ErrorCode::Unsupported);
  for (std::size_t n : {std::size_t{8}, std::size_t{20}, std::size_t{40}, png.size() - 12, png.size() - 1}) {
    cases.push_back({"truncated_" + std::to_string(n) + ".png", Bytes(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(n)),
                     ErrorCode::Corrupt});
  }
  {  // IDAT payload overwritten (CRC fixed so zlib sees the garbage)
    Bytes b = png;
    const std::size_t idat = 8 + 25;
    const std::uint32_t len = be32(b, idat);
    for (std::uint32_t i = 2; i < len; ++i) b[idat + 8 + i] = std::byte{0xA5};
    fix_crc(b, idat);
    cases.push_back({"idat_garbage.png", b, ErrorCode::Corrupt});
  }
  // Not PNG/JPEG at all.
  cases.push_back({"text.jpg", to_bytes({'h', 'e', 'l', 'l', 'o'}), ErrorCode::Corrupt});
  cases.push_back({"empty.png", {}, ErrorCode::Corrupt});
  cases.push_back({"bitmap.bmp", to_bytes({'B', 'M', 0x3A, 0, 0, 0, 0, 0, 0, 0, 0x36, 0, 0, 0}), ErrorCode::Unsupported});
  cases.push_back({"anim.gif", to_bytes({'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0}), ErrorCode::Unsupported});
  return cases;
}

class CraftedCorpus : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("aegisrt_image_corpus_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CraftedCorpus, EveryFileGivesATypedErrorNamingIt) {
  const auto cases = crafted_corpus();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    const fs::path p = dir_ / c.name;
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(c.bytes.data()),
                                             static_cast<std::streamsize>(c.bytes.size()));
    for (int channels : {0, 3}) {
      auto r = load_image(p, channels);
      ASSERT_FALSE(r.ok()) << c.name << " decoded as " << r->width() << "x" << r->height();
      EXPECT_EQ(r.error().code(), c.expected) << c.name << ": " << r.error();
      EXPECT_NE(r.error().to_string().find(p.string()), std::string::npos) << c.name << ": " << r.error();
    }
  }
}

TEST_F(CraftedCorpus, OversizedImagesAreRefusedByTheLimit) {
  // 48x32 = 1536 pixels: a limit of 1000 refuses it with the numbers in the message.
  DecodeOptions o;
  o.max_pixels = 1000;
  const Bytes jpeg = encode_jpeg(block_image(kExpected[1]));
  auto r = decode_image(jpeg, "big.jpg", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
  EXPECT_NE(r.error().message().find("48x32 = 1536 pixels"), std::string::npos) << r.error();
  const Bytes png = encode_png(block_image(kExpected[1])).value();
  EXPECT_EQ(decode_image(png, "big.png", o).error().code(), ErrorCode::Unsupported);
  o.max_pixels = 1536;
  EXPECT_TRUE(decode_image(png, "fits.png", o).ok());
}

TEST_F(CraftedCorpus, BrokenExifDoesNotBreakDecoding) {
  const Bytes jpeg = encode_jpeg(block_image(kExpected[1]));
  Bytes far = exif_app1(6);
  far[4 + 6 + 4] = std::byte{0x7F};  // IFD0 outside the segment
  auto r = decode_image(with_segment(jpeg, far), "badexif.jpg");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->exif_orientation(), 0);
  expect_blocks(*r, kExpected[1], 12, "unrotated");
}

TEST_F(CraftedCorpus, ZeroLengthAppSegmentIsSkipped) {
  // libjpeg-turbo steps over an APPn whose length field is 0 (nothing is read
  // from it); the image must come out exactly as without the segment.
  const Bytes jpeg = encode_jpeg(block_image(kExpected[1]));
  auto clean = decode_image(jpeg, "clean.jpg");
  auto odd = decode_image(with_segment(jpeg, to_bytes({0xFF, 0xE1, 0x00, 0x00})), "zero_app1.jpg");
  ASSERT_TRUE(clean.ok() && odd.ok());
  EXPECT_TRUE(std::equal(clean->pixels().begin(), clean->pixels().end(), odd->pixels().begin(), odd->pixels().end()));
  EXPECT_EQ(odd->exif_orientation(), 0);
}

TEST_F(CraftedCorpus, FifoIsRefusedWithoutBlocking) {
  const fs::path p = dir_ / "fifo.jpg";
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto r = load_image(p);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument) << r.error();
}

}  // namespace
}  // namespace aegisrt::vision

// ------------------------------------------------------------ OpenCV agreement

namespace aegisrt::vision {
namespace {

// OpenCV's cv2.imread (IMREAD_COLOR applies EXIF orientation) is what users
// compare with: for every orientation our pixels must equal its pixels up to
// +-2 (its wheel bundles another libjpeg-turbo build). Skipped when the test
// Python has no cv2 (scripts/setup.sh installs opencv-python in .venv).
TEST(ExifOrientation, MatchesOpenCvImread) {
  const std::string py = AEGISRT_TEST_PYTHON;
  if (py.empty() || std::system((py + " -c 'import cv2' >/dev/null 2>&1").c_str()) != 0) {
    GTEST_SKIP() << "no cv2 in " << py;
  }
  const fs::path dir = fs::temp_directory_path() / ("aegisrt_image_cv2_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A photo-like pattern, 4:2:0 like a camera, so chroma upsampling is compared too.
  Image src = Image::create(40, 24, 3).value();
  for (int y = 0; y < src.height(); ++y)
    for (int x = 0; x < src.width(); ++x)
      for (int c = 0; c < 3; ++c) src.at(x, y)[c] = static_cast<std::uint8_t>((x * 6 + y * 9 + c * 80) % 256);
  const Bytes jpeg = encode_jpeg(src, TJSAMP_420);
  for (int tag = 1; tag <= 8; ++tag) {
    const Bytes file = with_segment(jpeg, exif_app1(tag, tag % 2 == 0));
    std::ofstream(dir / ("t" + std::to_string(tag) + ".jpg"), std::ios::binary)
        .write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
  }
  const std::string script =
      "import sys, cv2\n"
      "for t in range(1, 9):\n"
      "    a = cv2.imread(sys.argv[1] + f'/t{t}.jpg', cv2.IMREAD_COLOR)[:, :, ::-1].copy()\n"
      "    open(sys.argv[1] + f'/t{t}.rgb', 'wb').write(b'%d %d\\n' % (a.shape[1], a.shape[0]) + a.tobytes())\n";
  std::ofstream(dir / "cv2_read.py") << script;
  ASSERT_EQ(std::system((py + " " + (dir / "cv2_read.py").string() + " " + dir.string()).c_str()), 0);
  for (int tag = 1; tag <= 8; ++tag) {
    SCOPED_TRACE("tag " + std::to_string(tag));
    auto ours = load_image(dir / ("t" + std::to_string(tag) + ".jpg"));
    ASSERT_TRUE(ours.ok()) << ours.error();
    std::ifstream in(dir / ("t" + std::to_string(tag) + ".rgb"), std::ios::binary);
    int w = 0, h = 0;
    in >> w >> h;
    in.get();
    std::vector<char> cv(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3);
    in.read(cv.data(), static_cast<std::streamsize>(cv.size()));
    ASSERT_TRUE(in.good());
    ASSERT_EQ(ours->width(), w);
    ASSERT_EQ(ours->height(), h);
    EXPECT_EQ(w, tag >= 5 ? 24 : 40);
    int worst = 0;
    for (std::size_t i = 0; i < cv.size(); ++i) {
      worst = std::max(worst, std::abs(static_cast<int>(ours->data()[i]) - static_cast<int>(static_cast<unsigned char>(cv[i]))));
    }
    EXPECT_LE(worst, 2);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace aegisrt::vision
