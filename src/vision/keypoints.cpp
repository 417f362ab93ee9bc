// SimCC keypoint decoding (RTMPose).
#include "aegisrt/vision/keypoints.h"

#include <cmath>
#include <string>

#include "vision/tensor_access.h"

namespace aegisrt::vision {
namespace {

struct Peak {
  std::int64_t index = 0;
  float value = 0.0f;
};

Peak argmax_row(const TensorView& v, std::int64_t at, std::int64_t n, std::int64_t stride) {
  Peak p{0, detail::load(v, at)};
  for (std::int64_t i = 1; i < n; ++i) {
    const float x = detail::load(v, at + i * stride);
    if (x > p.value) p = {i, x};  // first maximum wins, like numpy.argmax
  }
  return p;
}

}  // namespace

Result<std::vector<Keypoint>> decode_simcc(const TensorView& simcc_x, const TensorView& simcc_y,
                                           const SimccConfig& config,
                                           const AffineTransform& model_to_original,
                                           std::int64_t batch_index) {
  AEGIS_TRY(detail::check_float_output(simcc_x, "simcc_x"));
  AEGIS_TRY(detail::check_float_output(simcc_y, "simcc_y"));
  if (simcc_x.rank() != 3 || simcc_y.rank() != 3) {
    return Error(ErrorCode::InvalidArgument,
                 "SimCC outputs have shapes " + shape_to_string(simcc_x.shape()) + " and " +
                     shape_to_string(simcc_y.shape()) + ", expected [B, K, Wx] and [B, K, Hy]");
  }
  const Shape& sx = simcc_x.shape();
  const Shape& sy = simcc_y.shape();
  if (sx[0] != sy[0] || sx[1] != sy[1]) {
    return Error(ErrorCode::InvalidArgument, "simcc_x " + shape_to_string(sx) + " and simcc_y " +
                                                 shape_to_string(sy) +
                                                 " disagree on batch or keypoint count");
  }
  if (sx[2] <= 0 || sy[2] <= 0) {
    return Error(ErrorCode::InvalidArgument, "SimCC outputs have an empty distribution axis");
  }
  if (batch_index < 0 || batch_index >= sx[0]) {
    return Error(ErrorCode::InvalidArgument, "simcc_x: batch index " + std::to_string(batch_index) +
                                                 " out of range for shape " + shape_to_string(sx));
  }
  if (!(config.split_ratio > 0.0f) || !std::isfinite(config.split_ratio)) {
    return Error(ErrorCode::InvalidArgument, "SimCC split_ratio must be positive",
                 "postprocess.split_ratio");
  }
  const Shape& tx = simcc_x.strides();
  const Shape& ty = simcc_y.strides();
  std::vector<Keypoint> out;
  out.reserve(static_cast<std::size_t>(sx[1]));
  for (std::int64_t k = 0; k < sx[1]; ++k) {
    const Peak px = argmax_row(simcc_x, batch_index * tx[0] + k * tx[1], sx[2], tx[2]);
    const Peak py = argmax_row(simcc_y, batch_index * ty[0] + k * ty[1], sy[2], ty[2]);
    Keypoint kp;
    kp.score = std::min(px.value, py.value);
    if (!(kp.score > 0.0f)) {
      kp.x = kp.y = -1.0f;
    } else {
      const Point m{static_cast<float>(px.index) / config.split_ratio,
                    static_cast<float>(py.index) / config.split_ratio};
      const Point o = model_to_original.apply(m);
      kp.x = o.x;
      kp.y = o.y;
    }
    out.push_back(kp);
  }
  return out;
}

Result<std::vector<Keypoint>> decode_simcc(const TensorView& simcc_x, const TensorView& simcc_y,
                                           const SimccConfig& config,
                                           const LetterboxTransform& transform,
                                           std::int64_t batch_index) {
  if (transform.scale_x <= 0.0f || transform.scale_y <= 0.0f) {
    return Error(ErrorCode::InvalidArgument, "letterbox transform has a non-positive scale");
  }
  return decode_simcc(simcc_x, simcc_y, config, AffineTransform::model_to_original(transform),
                      batch_index);
}

const std::vector<std::pair<int, int>>& coco17_skeleton() {
  // 0 nose, 1/2 eyes, 3/4 ears, 5/6 shoulders, 7/8 elbows, 9/10 wrists,
  // 11/12 hips, 13/14 knees, 15/16 ankles (left/right).
  static const std::vector<std::pair<int, int>> kEdges{
      {15, 13}, {13, 11}, {16, 14}, {14, 12}, {11, 12}, {5, 11}, {6, 12},
      {5, 6},   {5, 7},   {6, 8},   {7, 9},   {8, 10},  {1, 2},  {0, 1},
      {0, 2},   {1, 3},   {2, 4},   {3, 5},   {4, 6}};
  return kEdges;
}

}  // namespace aegisrt::vision
