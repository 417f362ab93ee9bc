// Private: the per-call plan shared by the CPU and CUDA pre-processing
// (normalisation constants, channel mapping), so both compute the same thing.
#pragma once

#include <array>
#include <cmath>

#include "aegisrt/vision/preprocess.h"

namespace aegisrt::vision::detail {

struct NormPlan {
  std::array<float, 3> mul{};     // scale / std[k]
  std::array<float, 3> add{};     // -mean[k] / std[k]
  std::array<int, 3> src_channel{};  // which source channel feeds output channel k
  std::array<float, 3> pad{};     // normalised pad value per output channel
};

inline NormPlan make_norm_plan(const PreprocessConfig& config, int src_channels) {
  NormPlan p;
  for (int k = 0; k < 3; ++k) {
    const auto uk = static_cast<std::size_t>(k);
    p.mul[uk] = config.scale / config.std[uk];
    p.add[uk] = -config.mean[uk] / config.std[uk];
    p.pad[uk] = static_cast<float>(config.pad_value) * p.mul[uk] + p.add[uk];
    if (src_channels == 1) {
      p.src_channel[uk] = 0;
    } else {
      p.src_channel[uk] = config.color_order == ColorOrder::RGB ? k : 2 - k;
    }
  }
  return p;
}

/// Source coordinate of destination index d under the half-pixel convention,
/// split into a base index and a weight, clamped like OpenCV INTER_LINEAR.
struct Tap {
  int i0 = 0;
  int i1 = 0;
  float w = 0.0f;  // weight of i1
};

inline Tap make_tap(int d, double inv_scale, int src_size) {
  const double s = (static_cast<double>(d) + 0.5) * inv_scale - 0.5;
  const double f = std::floor(s);
  int i0 = static_cast<int>(f);
  float w = static_cast<float>(s - f);
  if (i0 < 0) {
    i0 = 0;
    w = 0.0f;
  }
  if (i0 >= src_size - 1) {
    i0 = src_size - 1;
    w = 0.0f;
  }
  return {i0, w > 0.0f ? i0 + 1 : i0, w};
}

}  // namespace aegisrt::vision::detail
