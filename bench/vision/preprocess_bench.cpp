// CPU pre-processing: AegisRT's one-pass letterbox + normalise + NCHW vs the
// usual OpenCV recipe (cv::resize, cv::copyMakeBorder, cv::dnn::blobFromImage),
// same input, same output. The OpenCV half exists only when OpenCV was found.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "aegisrt/vision/preprocess.h"

#if AEGISRT_BENCH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace {

using aegisrt::vision::Image;
using aegisrt::vision::PreprocessConfig;

// A smooth pattern with noise: like a photo as far as a resampler cares.
Image make_image(int w, int h) {
  Image img = Image::create(w, h, 3).value();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(-12, 12);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      std::uint8_t* p = img.at(x, y);
      p[0] = static_cast<std::uint8_t>(std::clamp(x * 255 / w + noise(rng), 0, 255));
      p[1] = static_cast<std::uint8_t>(std::clamp(y * 255 / h + noise(rng), 0, 255));
      p[2] = static_cast<std::uint8_t>(std::clamp((x + y) * 127 / (w + h) + 60 + noise(rng), 0, 255));
    }
  return img;
}

PreprocessConfig yolo_config() { return PreprocessConfig{}; }  // 640x640, pad 114, /255, RGB, NCHW

void BM_Aegis(benchmark::State& state) {
  const Image img = make_image(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const PreprocessConfig cfg = yolo_config();
  std::vector<float> out(cfg.elements_per_image());
  for (auto _ : state) {
    auto t = aegisrt::vision::preprocess_into(img, cfg, out);
    benchmark::DoNotOptimize(t);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Aegis)->Args({640, 480})->Args({1920, 1080})->Args({1000, 750})->Unit(benchmark::kMicrosecond);

#if AEGISRT_BENCH_OPENCV
// What Ultralytics-style C++/Python code does. The input Mat is BGR (as
// cv::imread gives) and swapRB=true produces RGB, like our RGB image does.
struct OpenCvRecipe {
  cv::Mat resized, padded, blob;
  void run(const cv::Mat& bgr, const aegisrt::vision::LetterboxTransform& t) {
    const cv::Mat* src = &bgr;
    if (t.resized_width != bgr.cols || t.resized_height != bgr.rows) {
      cv::resize(bgr, resized, cv::Size(t.resized_width, t.resized_height), 0, 0, cv::INTER_LINEAR);
      src = &resized;
    }
    const int right = t.dst_width - t.resized_width - t.pad_x;
    const int bottom = t.dst_height - t.resized_height - t.pad_y;
    cv::copyMakeBorder(*src, padded, t.pad_y, bottom, t.pad_x, right, cv::BORDER_CONSTANT,
                       cv::Scalar(114, 114, 114));
    cv::dnn::blobFromImage(padded, blob, 1.0 / 255.0, cv::Size(), cv::Scalar(), /*swapRB=*/true,
                           /*crop=*/false, CV_32F);
  }
};

cv::Mat to_bgr_mat(const Image& img) {
  cv::Mat rgb(img.height(), img.width(), CV_8UC3, const_cast<std::uint8_t*>(img.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

void BM_OpenCV(benchmark::State& state) {
  const Image img = make_image(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  const cv::Mat bgr = to_bgr_mat(img);
  const auto t = aegisrt::vision::compute_transform(img.width(), img.height(), yolo_config()).value();
  OpenCvRecipe r;
  for (auto _ : state) {
    r.run(bgr, t);
    benchmark::DoNotOptimize(r.blob.data);
  }
  state.SetItemsProcessed(state.iterations());

  // Same output? Report the largest difference (OpenCV resizes in 11-bit
  // fixed point and rounds to uint8 before normalising; we interpolate in float).
  const PreprocessConfig cfg = yolo_config();
  std::vector<float> ours(cfg.elements_per_image());
  (void)aegisrt::vision::preprocess_into(img, cfg, ours);
  const float* theirs = r.blob.ptr<float>();
  double worst = 0.0;
  for (std::size_t i = 0; i < ours.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(ours[i] - theirs[i])));
  state.counters["max_abs_diff"] = worst;
}
BENCHMARK(BM_OpenCV)->Args({640, 480})->Args({1920, 1080})->Args({1000, 750})->Unit(benchmark::kMicrosecond);
#endif

}  // namespace

BENCHMARK_MAIN();
