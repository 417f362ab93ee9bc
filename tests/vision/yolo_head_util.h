// Shared by the YOLO decode tests (yolo_decode_test.cpp on the host,
// yolo_decode_cuda_test.cpp on the GPU): random and crafted float32
// [B, 4+C, N] heads, the candidates a correct selection keeps (computed here
// independently of detection.cpp, with std::max_element), and an exact
// comparison of two detection lists.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "aegisrt/core/tensor.h"
#include "aegisrt/vision/detection.h"
#include "aegisrt/vision/geometry.h"
#include "vision/yolo_candidate.h"

namespace aegisrt::vision::yolo_test {

/// 640x480 letterboxed into 640x640: scale 1, pad_y 80.
inline LetterboxTransform letterbox_640x480() {
  LetterboxTransform t;
  t.src_width = 640;
  t.src_height = 480;
  t.dst_width = 640;
  t.dst_height = 640;
  t.resized_width = 640;
  t.resized_height = 480;
  t.scale_x = 1.0f;
  t.scale_y = 1.0f;
  t.pad_y = 80;
  return t;
}

/// A head like YOLOv8's: boxes in a 640x640 input, most class scores small,
/// a few anchors (about `hot` of them) with a high score in a random class,
/// and every 7th hot anchor with that score repeated in a later class (a tie
/// the first class must win). Boxes cluster so NMS has work to do.
inline Tensor random_head(int classes, int anchors, unsigned seed, int hot = 300, int batch = 1) {
  Tensor t = Tensor::allocate_host(Shape{batch, 4 + classes, anchors}, DType::Float32, "head").value();
  float* d = t.data_as<float>();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> pos(0.0f, 640.0f), size(8.0f, 120.0f), low(0.0f, 0.2f), high(0.2f, 1.0f);
  std::uniform_int_distribution<int> cls(0, classes - 1), pick(0, anchors - 1), centre(0, 15);
  const std::int64_t per_image = static_cast<std::int64_t>(4 + classes) * anchors;
  const auto at = [&](int b, int c, int i) -> float& {
    return d[b * per_image + static_cast<std::int64_t>(c) * anchors + i];
  };
  for (int b = 0; b < batch; ++b) {
    std::vector<float> cx(16), cy(16);
    for (int k = 0; k < 16; ++k) {
      cx[static_cast<std::size_t>(k)] = pos(rng);
      cy[static_cast<std::size_t>(k)] = pos(rng);
    }
    for (int i = 0; i < anchors; ++i) {
      const auto k = static_cast<std::size_t>(centre(rng));
      at(b, 0, i) = cx[k] + low(rng) * 20.0f;
      at(b, 1, i) = cy[k] + low(rng) * 20.0f;
      at(b, 2, i) = size(rng);
      at(b, 3, i) = size(rng);
      for (int c = 0; c < classes; ++c) at(b, 4 + c, i) = low(rng);
    }
    for (int h = 0; h < hot; ++h) {
      const int i = pick(rng);
      const int c = cls(rng);
      const float s = high(rng);
      at(b, 4 + c, i) = s;
      if (h % 7 == 0 && c + 1 < classes) at(b, 4 + classes - 1, i) = s;  // tie with the last class
    }
  }
  return t;
}

/// The candidates of image `b` a correct selection keeps: per anchor the
/// first class of the highest score, kept when score >= conf; anchor order.
inline std::vector<detail::YoloCandidate> expected_candidates(const Tensor& head, float conf, int b = 0) {
  const auto& s = head.shape();
  const auto channels = static_cast<int>(s[1]);
  const auto n = static_cast<int>(s[2]);
  const float* d = head.data_as<float>() + static_cast<std::int64_t>(b) * channels * n;
  std::vector<detail::YoloCandidate> out;
  for (int i = 0; i < n; ++i) {
    std::vector<float> scores;
    for (int c = 4; c < channels; ++c) scores.push_back(d[static_cast<std::int64_t>(c) * n + i]);
    const auto best = std::max_element(scores.begin(), scores.end());  // the first of equal maxima
    if (!(*best >= conf)) continue;
    out.push_back({d[i], d[n + i], d[2 * n + i], d[3 * n + i], *best,
                   static_cast<std::int32_t>(best - scores.begin()), i});
  }
  return out;
}

/// Same detections, bit for bit (boxes, scores, classes, order).
inline void expect_identical(const std::vector<Detection>& want, const std::vector<Detection>& got) {
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(want[i].class_id, got[i].class_id);
    EXPECT_EQ(want[i].score, got[i].score);
    EXPECT_EQ(want[i].box.x1, got[i].box.x1);
    EXPECT_EQ(want[i].box.y1, got[i].box.y1);
    EXPECT_EQ(want[i].box.x2, got[i].box.x2);
    EXPECT_EQ(want[i].box.y2, got[i].box.y2);
  }
}

}  // namespace aegisrt::vision::yolo_test
