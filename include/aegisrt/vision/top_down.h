// Top-down pose pre- and post-processing (RTMPose; MMPose's top-down affine as
// published in rtmlib): a person box becomes a centre and a scale (padding
// 1.25), the scale is widened to the model input's aspect ratio, the box is
// warped to the model input with OpenCV's warpAffine (INTER_LINEAR, constant
// 0 border) and keypoints found in the crop are mapped back through the same
// centre and scale. The warp reproduces OpenCV's fixed-point arithmetic (source
// coordinates in 1/32 pixel, 15-bit interpolation weights) bit for bit, so the
// crop equals cv2.warpAffine's and the model sees the reference's input.
#pragma once

#include "aegisrt/core/result.h"
#include "aegisrt/vision/geometry.h"
#include "aegisrt/vision/image.h"

namespace aegisrt::vision {

/// Centre and size (in image pixels) of the region a top-down crop covers.
struct TopDownRegion {
  double center_x = 0.0;
  double center_y = 0.0;
  double scale_w = 0.0;  // after padding and the aspect fix
  double scale_h = 0.0;
};

/// rtmlib's bbox_xyxy2cs(box, padding) followed by top_down_affine's aspect
/// fix to input_width:input_height (the scale is widened, never shrunk).
TopDownRegion top_down_region(const Box& box, int input_width, int input_height, double padding = 1.25);

/// The 2x3 forward map image -> crop of rtmlib's get_warp_matrix (rotation 0):
/// x' = m[0] x + m[1] y + m[2], y' = m[3] x + m[4] y + m[5], computed from the
/// same float32 corner points as cv2.getAffineTransform.
struct WarpMatrix {
  double m[6] = {1, 0, 0, 0, 1, 0};
};
WarpMatrix top_down_warp_matrix(const TopDownRegion& region, int input_width, int input_height);

/// cv2.warpAffine(image, matrix, (width, height), flags=INTER_LINEAR,
/// borderMode=BORDER_CONSTANT, borderValue=0) for 8-bit images of 1..4
/// channels. InvalidArgument for an empty image or a non-positive size.
Result<Image> warp_affine_linear(const Image& image, const WarpMatrix& matrix, int width, int height);

/// A point of the crop (model-input pixels) back in the image: rtmlib's
/// keypoints / input_size * scale + center - scale / 2.
Point top_down_to_image(const TopDownRegion& region, int input_width, int input_height, double x, double y);

}  // namespace aegisrt::vision
