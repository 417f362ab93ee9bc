// Test helpers: JPEG bytes written with TurboJPEG, and a hand-made APP1 Exif
// segment carrying an Orientation tag (IFD0 0x0112), spliced in after SOI.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <initializer_list>
#include <vector>

#include <turbojpeg.h>

#include "aegisrt/vision/image.h"

namespace aegisrt::testing {

using Bytes = std::vector<std::byte>;
using vision::Image;

inline Bytes to_bytes(std::initializer_list<int> v) {
  Bytes b;
  for (int x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

inline void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

/// JPEG of `img` (1 or 3 channels) at quality 95, 4:4:4 (no chroma blur).
inline Bytes encode_jpeg(const Image& img, int subsamp = TJSAMP_444, bool progressive = false) {
  tjhandle tj = tjInitCompress();
  EXPECT_NE(tj, nullptr);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int pf = img.channels() == 1 ? TJPF_GRAY : img.channels() == 4 ? TJPF_CMYK : TJPF_RGB;
  const int ss = img.channels() == 1 ? TJSAMP_GRAY : subsamp;
  const int rc = tjCompress2(tj, img.data(), img.width(), static_cast<int>(img.row_bytes()), img.height(), pf, &out,
                             &size, ss, 95, TJFLAG_ACCURATEDCT | (progressive ? TJFLAG_PROGRESSIVE : 0));
  EXPECT_EQ(rc, 0) << tjGetErrorStr2(tj);
  Bytes b(reinterpret_cast<std::byte*>(out), reinterpret_cast<std::byte*>(out) + size);
  tjFree(out);
  tjDestroy(tj);
  return b;
}

/// An APP1 "Exif" segment whose IFD0 holds one Orientation entry.
inline Bytes exif_app1(int orientation, bool big_endian = true, int type = 3) {
  Bytes tiff;
  auto u16 = [&](unsigned v) {
    if (big_endian) {
      tiff.push_back(static_cast<std::byte>(v >> 8));
      tiff.push_back(static_cast<std::byte>(v & 0xFF));
    } else {
      tiff.push_back(static_cast<std::byte>(v & 0xFF));
      tiff.push_back(static_cast<std::byte>(v >> 8));
    }
  };
  auto u32 = [&](unsigned v) {
    if (big_endian) {
      u16(v >> 16);
      u16(v & 0xFFFF);
    } else {
      u16(v & 0xFFFF);
      u16(v >> 16);
    }
  };
  append(tiff, big_endian ? to_bytes({'M', 'M'}) : to_bytes({'I', 'I'}));
  u16(42);
  u32(8);        // IFD0 right after the header
  u16(2);        // two entries: ImageDescription-ish filler, then Orientation
  u16(0x010F);   // Make, ASCII, 4 bytes inline "AEG"
  u16(2);
  u32(4);
  append(tiff, to_bytes({'A', 'E', 'G', 0}));
  u16(0x0112);   // Orientation
  u16(static_cast<unsigned>(type));
  u32(1);
  u16(static_cast<unsigned>(orientation));
  u16(0);        // padding of the 4-byte value field
  u32(0);        // no next IFD
  Bytes seg = to_bytes({0xFF, 0xE1});
  const std::size_t len = 2 + 6 + tiff.size();
  append(seg, to_bytes({static_cast<int>(len >> 8), static_cast<int>(len & 0xFF), 'E', 'x', 'i', 'f', 0, 0}));
  append(seg, tiff);
  return seg;
}

/// `jpeg` with `segment` inserted right after SOI.
inline Bytes with_segment(const Bytes& jpeg, const Bytes& segment) {
  Bytes out(jpeg.begin(), jpeg.begin() + 2);
  append(out, segment);
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

}  // namespace aegisrt::testing
