// Pipeline benchmark loop, JSON/text reports and the histogram (the latency
// summary itself is latency.cpp).
#include "aegisrt/tools/bench.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <stop_token>
#include <thread>

#include "aegisrt/vision/draw.h"

namespace aegisrt::tools {

using pipeline::FrameResult;
using pipeline::Pipeline;
using pipeline::PipelineInfo;

namespace {

/// Decodes images on a helper thread, at most `depth` ahead of the consumer.
/// Its decode times are measured on that thread, so they stay comparable.
class DecodeAhead {
 public:
  struct Item {
    Result<vision::Image> image{vision::Image()};
    Duration decode_time{0};
  };

  DecodeAhead(const std::vector<std::filesystem::path>& images, int count, int depth)
      : depth_(static_cast<std::size_t>(depth)) {
    worker_ = std::jthread([this, &images, count](std::stop_token stop) {
      for (int k = 0; k < count && !stop.stop_requested(); ++k) {
        const TimePoint t0 = Clock::now();
        Item item{vision::load_image(images[static_cast<std::size_t>(k) % images.size()], 3), {}};
        item.decode_time = std::chrono::duration_cast<Duration>(Clock::now() - t0);
        std::unique_lock lock(mutex_);
        if (!space_.wait(lock, stop, [this] { return queue_.size() < depth_; })) return;
        queue_.push_back(std::move(item));
        ready_.notify_one();
      }
    });
  }
  DecodeAhead(const DecodeAhead&) = delete;
  DecodeAhead& operator=(const DecodeAhead&) = delete;
  ~DecodeAhead() {
    worker_.request_stop();  // wakes a producer waiting for space; jthread joins
  }

  /// Next image in order (blocks until decoded). Only called `count` times.
  Item pop() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return !queue_.empty(); });
    Item item = std::move(queue_.front());
    queue_.pop_front();
    space_.notify_one();
    return item;
  }

 private:
  std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable_any space_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  std::jthread worker_;  // last: joined before the members it uses go away
};

}  // namespace

namespace {

/// Per-image stage times and detections of the timed images.
struct Samples {
  std::vector<double> decode, pre, exec, post, total;
  std::size_t detections = 0;
  std::size_t gpu_decoded = 0;

  void add(const FrameResult& r) {
    gpu_decoded += r.decoded_on_gpu ? 1 : 0;
    decode.push_back(to_ms(r.timings.decode));
    pre.push_back(to_ms(r.timings.preprocess));
    exec.push_back(to_ms(r.timings.execute));
    post.push_back(to_ms(r.timings.postprocess));
    total.push_back(to_ms(r.timings.total()));
    detections += r.detections().size();
  }
  void append(const Samples& o) {
    const auto cat = [](std::vector<double>& a, const std::vector<double>& b) { a.insert(a.end(), b.begin(), b.end()); };
    cat(decode, o.decode);
    cat(pre, o.pre);
    cat(exec, o.exec);
    cat(post, o.post);
    cat(total, o.total);
    detections += o.detections;
    gpu_decoded += o.gpu_decoded;
  }
};

Result<void> check_options(const std::vector<std::filesystem::path>& images, const BenchOptions& options) {
  if (images.empty()) return Error(ErrorCode::InvalidArgument, "no images to benchmark");
  if (options.iterations < 1) {
    return Error(ErrorCode::InvalidArgument,
                 "--iterations must be >= 1, got " + std::to_string(options.iterations));
  }
  if (options.warmup < 0) {
    return Error(ErrorCode::InvalidArgument, "--warmup must be >= 0, got " + std::to_string(options.warmup));
  }
  if (options.prefetch < 0) {
    return Error(ErrorCode::InvalidArgument, "--prefetch must be >= 0, got " + std::to_string(options.prefetch));
  }
  if (options.streams < 1 || options.streams > 256) {
    return Error(ErrorCode::InvalidArgument, "--streams must be within [1, 256], got " + std::to_string(options.streams));
  }
  if (options.batch < 1 || options.batch > 1024) {
    return Error(ErrorCode::InvalidArgument, "--batch must be within [1, 1024], got " + std::to_string(options.batch));
  }
  if (options.batch > 1 && (options.prefetch > 0 || options.streams > 1)) {
    return Error(ErrorCode::InvalidArgument, "--batch > 1 does not combine with --prefetch or --streams > 1");
  }
  if (options.streams > 1 && options.prefetch > 0) {
    return Error(ErrorCode::InvalidArgument,
                 "--prefetch and --streams > 1 do not combine: each stream decodes its own images");
  }
  return {};
}

/// One stream, one image at a time (or with decode-ahead): warmup, then the timed loop.
Result<void> run_single(Pipeline& pipeline, const std::vector<std::filesystem::path>& images,
                        const BenchOptions& options, int warmup, BenchReport& rep, Samples& out) {
  const int total_images = warmup + options.iterations;
  std::optional<DecodeAhead> ahead;
  if (options.prefetch > 0) ahead.emplace(images, total_images, options.prefetch);
  // Image k of the run (warmup included): decoded here, or taken from the helper thread.
  const auto run_one = [&](int k) -> Result<FrameResult> {
    const auto& path = images[static_cast<std::size_t>(k) % images.size()];
    if (!ahead) return pipeline.run_file(path);
    DecodeAhead::Item item = ahead->pop();
    if (!item.image.ok()) return std::move(item.image).error();
    AEGIS_ASSIGN_OR_RETURN(FrameResult r, pipeline.run(*item.image, path.string()));
    r.timings.decode = item.decode_time;
    return r;
  };
  int k = 0;
  for (; k < warmup; ++k) {
    AEGIS_ASSIGN_OR_RETURN(FrameResult r, run_one(k));
    if (k == 0) rep.first_image_ms = to_ms(r.timings.total());
  }
  const TimePoint t0 = Clock::now();
  for (; k < total_images; ++k) {
    AEGIS_ASSIGN_OR_RETURN(FrameResult r, run_one(k));
    out.add(r);
  }
  rep.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return {};
}

/// N instances over one loaded model, one thread each: every stream warms up
/// (the first image of stream 0 is the cold run), then stream s runs timed
/// images s, s + N, s + 2N, ... concurrently with the others.
Result<void> run_streams(Pipeline& first, const std::vector<std::filesystem::path>& images,
                         const BenchOptions& options, int warmup, BenchReport& rep, Samples& out) {
  const auto n = static_cast<std::size_t>(options.streams);
  std::vector<std::unique_ptr<Pipeline>> extra;
  std::vector<Pipeline*> pipes{&first};
  for (std::size_t s = 1; s < n; ++s) {
    AEGIS_ASSIGN_OR_RETURN(auto p, first.create_instance());
    pipes.push_back(p.get());
    extra.push_back(std::move(p));
  }
  const auto image_of = [&](int k) -> const std::filesystem::path& {
    return images[static_cast<std::size_t>(k) % images.size()];
  };
  for (std::size_t s = 0; s < n; ++s) {
    for (int k = 0; k < warmup; ++k) {
      AEGIS_ASSIGN_OR_RETURN(FrameResult r, pipes[s]->run_file(image_of(k)));
      if (s == 0 && k == 0) rep.first_image_ms = to_ms(r.timings.total());
    }
  }
  std::vector<Samples> per(n);
  std::vector<std::optional<Error>> failed(n);
  const TimePoint t0 = Clock::now();
  {
    std::vector<std::jthread> threads;
    for (std::size_t s = 0; s < n; ++s) {
      threads.emplace_back([&, s] {
        for (int k = static_cast<int>(s); k < options.iterations; k += options.streams) {
          auto r = pipes[s]->run_file(image_of(warmup + k));
          if (!r.ok()) {
            failed[s] = std::move(r).error().with_context("stream " + std::to_string(s));
            return;
          }
          per[s].add(*r);
        }
      });
    }
  }  // joined
  rep.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (auto& f : failed) {
    if (f) return std::move(*f);
  }
  for (const auto& p : per) out.append(p);
  return {};
}

/// Batches of `options.batch` images through Pipeline::run_batch: each image
/// decoded first (its decode time is its own), then one run_batch per batch.
/// `timed` images (a multiple of the batch) after `warmup` batches.
Result<void> run_batched(Pipeline& pipeline, const std::vector<std::filesystem::path>& images,
                         const BenchOptions& options, int warmup_batches, int timed, BenchReport& rep,
                         Samples& out) {
  const auto n = static_cast<std::size_t>(options.batch);
  std::size_t next = 0;
  const auto run_one_batch = [&]() -> Result<std::vector<FrameResult>> {
    std::vector<vision::Image> decoded;
    std::vector<std::string> names;
    std::vector<Duration> decode_times;
    decoded.reserve(n);
    for (std::size_t i = 0; i < n; ++i, ++next) {
      const auto& path = images[next % images.size()];
      const TimePoint t0 = Clock::now();
      AEGIS_ASSIGN_OR_RETURN(vision::Image im, vision::load_image(path, 3));
      decode_times.push_back(std::chrono::duration_cast<Duration>(Clock::now() - t0));
      decoded.push_back(std::move(im));
      names.push_back(path.string());
    }
    AEGIS_ASSIGN_OR_RETURN(std::vector<FrameResult> rs, pipeline.run_batch(decoded, names));
    for (std::size_t i = 0; i < rs.size(); ++i) rs[i].timings.decode = decode_times[i];
    return rs;
  };
  for (int b = 0; b < warmup_batches; ++b) {
    const TimePoint t0 = Clock::now();
    AEGIS_ASSIGN_OR_RETURN(auto rs, run_one_batch());
    if (b == 0) rep.first_image_ms = to_ms(std::chrono::duration_cast<Duration>(Clock::now() - t0));
  }
  const TimePoint t0 = Clock::now();
  for (int k = 0; k < timed; k += options.batch) {
    AEGIS_ASSIGN_OR_RETURN(auto rs, run_one_batch());
    for (const auto& r : rs) out.add(r);
  }
  rep.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return {};
}

}  // namespace

Result<BenchReport> run_bench(Pipeline& pipeline, const std::vector<std::filesystem::path>& images,
                              const BenchOptions& options) {
  AEGIS_TRY(check_options(images, options));
  BenchReport rep;
  rep.distinct_images = images.size();
  rep.iterations = options.iterations;
  rep.warmup = options.warmup;
  rep.load_ms = to_ms(pipeline.info().load_time);
  rep.prefetch = options.prefetch;
  rep.streams = options.streams;
  const int warmup = std::max(1, options.warmup);  // the cold run always happens
  Samples s;
  for (auto* v : {&s.decode, &s.pre, &s.exec, &s.post, &s.total}) v->reserve(static_cast<std::size_t>(options.iterations));
  rep.batch = options.batch;
  if (options.batch > 1) {
    // Whole batches: iterations and warmup rounded up to multiples of the batch.
    const int timed = (options.iterations + options.batch - 1) / options.batch * options.batch;
    rep.iterations = timed;
    AEGIS_TRY(run_batched(pipeline, images, options, (warmup + options.batch - 1) / options.batch, timed, rep, s));
  } else if (options.streams > 1) {
    AEGIS_TRY(run_streams(pipeline, images, options, warmup, rep, s));
  } else {
    AEGIS_TRY(run_single(pipeline, images, options, warmup, rep, s));
  }
  rep.wall_images_per_second = rep.wall_seconds > 0.0 ? rep.iterations / rep.wall_seconds : 0.0;
  const double sum_s = std::accumulate(s.total.begin(), s.total.end(), 0.0) / 1000.0;
  rep.images_per_second = sum_s > 0.0 ? static_cast<double>(rep.iterations) / sum_s : 0.0;
  rep.detections_per_image = static_cast<double>(s.detections) / static_cast<double>(rep.iterations);
  rep.gpu_decoded_images = s.gpu_decoded;
  rep.total_samples_ms = s.total;
  rep.total = summarize_latencies(std::move(s.total));
  rep.decode = summarize_latencies(std::move(s.decode));
  rep.preprocess = summarize_latencies(std::move(s.pre));
  rep.execute = summarize_latencies(std::move(s.exec));
  rep.postprocess = summarize_latencies(std::move(s.post));
  return rep;
}

namespace {
nlohmann::ordered_json stats_json(const LatencySummary& s) {
  return {{"count", s.count}, {"min", s.min_ms}, {"mean", s.mean_ms}, {"p50", s.p50_ms},
          {"p90", s.p90_ms},  {"p99", s.p99_ms}, {"max", s.max_ms}};
}
}  // namespace

std::string bench_to_json(const BenchReport& r, const PipelineInfo& info, int indent) {
  nlohmann::ordered_json j;
  j["schema"] = "aegisrt.bench/1";
  j["model"] = {{"name", info.model},        {"variant", info.variant},
                {"backend", info.backend},   {"runtime_backend", info.runtime_backend},
                {"precision", info.precision}, {"onnx", info.onnx_path.string()}};
  j["device_path"] = {{"used", info.device_path}, {"reason", info.device_path_reason}};
  j["gpu_postprocess"] = {{"used", info.gpu_postprocess}, {"reason", info.gpu_postprocess_reason}};
  j["decoder"] = {{"configured", info.decoder},
                  {"hardware", info.decoder_hardware},
                  {"reason", info.decoder_reason},
                  {"gpu_decoded_images", r.gpu_decoded_images}};
  j["cuda_graph"] = info.cuda_graph;
  j["images"] = r.distinct_images;
  j["iterations"] = r.iterations;
  j["warmup"] = r.warmup;
  j["cold_start_ms"] = {{"load", r.load_ms}, {"first_image", r.first_image_ms},
                        {"total", r.load_ms + r.first_image_ms}};
  j["warm_ms"] = {{"total", stats_json(r.total)},
                  {"decode", stats_json(r.decode)},
                  {"preprocess", stats_json(r.preprocess)},
                  {"execute", stats_json(r.execute)},
                  {"postprocess", stats_json(r.postprocess)}};
  j["prefetch"] = r.prefetch;
  j["streams"] = r.streams;
  j["batch"] = r.batch;
  j["images_per_second"] = r.images_per_second;
  j["wall_images_per_second"] = r.wall_images_per_second;
  j["wall_seconds"] = r.wall_seconds;
  j["detections_per_image"] = r.detections_per_image;
  j["latency_samples_ms"] = r.total_samples_ms;
  return j.dump(indent);
}

std::string bench_to_text(const BenchReport& r, const PipelineInfo& info) {
  std::string s = fmt::format("{} / {} on {} ({}), {} timed images ({} distinct), {} warmup\n",
                              info.model, info.variant, info.backend, info.precision, r.iterations,
                              r.distinct_images, r.warmup);
  s += info.device_path ? std::string("  device path: on (pre-processing on the GPU, device input)\n")
                        : fmt::format("  device path: off ({})\n", info.device_path_reason);
  s += info.gpu_postprocess
           ? std::string("  post-proc. : GPU (YOLO decode kernel + one small download, NMS on the host)\n")
           : fmt::format("  post-proc. : host ({})\n", info.gpu_postprocess_reason);
  s += info.decoder == "nvjpeg"
           ? fmt::format("  decoder    : nvjpeg on the GPU{} ({} of {} timed images; PNGs and --prefetch/--batch "
                         "on the CPU)\n", info.decoder_hardware ? ", hardware engine" : "", r.gpu_decoded_images,
                         r.iterations)
           : fmt::format("  decoder    : cpu ({})\n", info.decoder_reason);
  if (info.cuda_graph) s += "  CUDA graph : on (replayed per image; one graph per pipeline instance on the device path)\n";
  s += fmt::format("  cold start : load {:.1f} ms + first image {:.2f} ms\n", r.load_ms, r.first_image_ms);
  s += fmt::format("  warm total : p50 {:.2f}  p90 {:.2f}  p99 {:.2f}  max {:.2f} ms (mean {:.2f})\n",
                   r.total.p50_ms, r.total.p90_ms, r.total.p99_ms, r.total.max_ms, r.total.mean_ms);
  const double mean = r.total.mean_ms > 0.0 ? r.total.mean_ms : 1.0;
  const auto line = [&](std::string_view name, const LatencySummary& st) {
    return fmt::format("  {:<11}: mean {:7.3f} ms ({:4.1f}%)  p50 {:.3f}  p99 {:.3f}\n", name,
                       st.mean_ms, 100.0 * st.mean_ms / mean, st.p50_ms, st.p99_ms);
  };
  s += line("decode", r.decode);
  s += line("preprocess", r.preprocess);
  s += line("execute", r.execute);
  s += line("postprocess", r.postprocess);
  std::string mode;
  if (r.prefetch > 0) mode = fmt::format(" with decode {} ahead", r.prefetch);
  if (r.streams > 1) mode = fmt::format(" over {} streams sharing one loaded model", r.streams);
  if (r.batch > 1) mode = fmt::format(" in batches of {} per execute (stage times: each image's share)", r.batch);
  s += fmt::format("  throughput : {:.1f} images/s one at a time, {:.1f} images/s wall clock{} "
                   "({:.1f} detections/image)\n",
                   r.images_per_second, r.wall_images_per_second, mode, r.detections_per_image);
  return s;
}

Result<vision::Image> draw_latency_histogram(std::span<const double> samples, std::string_view title,
                                             int width, int height, int bins) {
  if (samples.empty()) return Error(ErrorCode::InvalidArgument, "histogram: no latency samples");
  if (width < 200 || height < 150) {
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("histogram: size {}x{} is too small (min 200x150)", width, height));
  }
  bins = std::clamp(bins, 1, width);
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  // From the span, not the copy: g++ 13 cannot see that `sorted` is non-empty
  // and warns (-Wnull-dereference) on front()/back().
  const auto [min_it, max_it] = std::minmax_element(samples.begin(), samples.end());
  double lo = *min_it;
  double hi = *max_it;
  if (hi - lo < 1e-9) {  // all equal: a one-bar histogram around the value
    lo -= 0.5;
    hi += 0.5;
  }
  std::vector<int> counts(static_cast<std::size_t>(bins), 0);
  for (double v : sorted) {
    auto b = static_cast<int>((v - lo) / (hi - lo) * bins);
    counts[static_cast<std::size_t>(std::clamp(b, 0, bins - 1))]++;
  }
  const int max_count = *std::max_element(counts.begin(), counts.end());

  AEGIS_ASSIGN_OR_RETURN(vision::Image img, vision::Image::create(width, height, 3));
  vision::fill_rect(img, 0, 0, width - 1, height - 1, {255, 255, 255});
  const int left = 60, right = width - 20, top = 40, bottom = height - 50;
  const int plot_w = right - left;
  const int plot_h = bottom - top;
  const vision::Rgb axis{40, 40, 40};
  const vision::Rgb bar{70, 130, 180};
  for (int b = 0; b < bins; ++b) {
    const int x0 = left + b * plot_w / bins;
    const int x1 = left + (b + 1) * plot_w / bins - 1;
    const int h = max_count > 0 ? counts[static_cast<std::size_t>(b)] * plot_h / max_count : 0;
    if (h > 0) vision::fill_rect(img, x0, bottom - h, std::max(x0, x1 - 1), bottom - 1, bar);
  }
  vision::draw_line(img, left, bottom, right, bottom, axis, 2);
  vision::draw_line(img, left, top, left, bottom, axis, 2);
  const auto x_of = [&](double v) {
    return left + static_cast<int>(std::lround((v - lo) / (hi - lo) * plot_w));
  };
  const struct {
    const char* name;
    double q;
    vision::Rgb colour;
  } marks[] = {{"p50", 50.0, {0, 150, 0}}, {"p90", 90.0, {230, 140, 0}}, {"p99", 99.0, {200, 0, 0}}};
  int label_y = top + 4;
  for (const auto& m : marks) {
    const double v = percentile(sorted, m.q);
    const int x = x_of(v);
    vision::draw_line(img, x, top, x, bottom, m.colour, 2);
    const std::string text = fmt::format("{} {:.2f}", m.name, v);
    const int w = vision::measure_text(text, 2).width;
    // Right of the line, or left of it when it would run off the image.
    const int tx = x + 4 + w < width - 2 ? x + 4 : std::max(0, x - 4 - w);
    vision::draw_text(img, tx, label_y, text, m.colour, 2);
    label_y += 18;
  }
  vision::draw_text(img, left, 10, title, axis, 2);
  vision::draw_text(img, left - 10, bottom + 8, fmt::format("{:.2f}", lo), axis, 2);
  const std::string hi_text = fmt::format("{:.2f} ms", hi);
  vision::draw_text(img, right - vision::measure_text(hi_text, 2).width, bottom + 8, hi_text, axis, 2);
  vision::draw_text(img, left, bottom + 28,
                    fmt::format("latency per image (ms), {} samples, tallest bar {}", samples.size(), max_count),
                    axis, 2);
  vision::draw_text(img, 4, top + 2, std::to_string(max_count), axis, 2);
  vision::draw_text(img, 4, bottom - 14, "0", axis, 2);
  return img;
}

}  // namespace aegisrt::tools
