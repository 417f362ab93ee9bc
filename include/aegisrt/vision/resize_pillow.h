// Pillow's Image.resize(size, Image.BILINEAR) on a uint8 image, bit for bit:
// the same Resample.c path as vision::resize_bicubic (preprocess.h) with the
// triangle filter of support 1 (antialiased when shrinking: the support is
// scaled by the shrink factor), weights normalised per output pixel and
// rounded to 22-bit fixed point, the horizontal pass into a uint8 image
// first, then the vertical pass; a pass whose size does not change is
// skipped. Channels preserved. Segment Anything's ResizeLongestSide.apply_image
// (torchvision resize of a PIL image, default BILINEAR) is this resize.
#pragma once

#include "aegisrt/core/result.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::vision {

/// InvalidArgument for an empty image or a non-positive size.
Result<Image> resize_pillow_bilinear(const Image& image, int width, int height);

}  // namespace aegisrt::vision
