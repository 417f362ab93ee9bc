// BuildProgressIndicator: silent for the first `show_after`, then a spinner
// line (terminal) or one line per stage (pipes, logs).
#include "aegisrt/tools/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace aegisrt::tools {

BuildProgressIndicator::BuildProgressIndicator(std::ostream& out, bool interactive,
                                               Duration show_after)
    : out_(out), interactive_(interactive), show_after_(show_after), start_(Clock::now()) {
  ticker_ = std::thread([this] { tick_loop(); });
}

BuildProgressIndicator::~BuildProgressIndicator() { finish(false); }

bool BuildProgressIndicator::stderr_is_terminal() noexcept { return ::isatty(STDERR_FILENO) == 1; }

void BuildProgressIndicator::report(std::string_view stage, double fraction) {
  std::lock_guard lock(mutex_);
  if (finished_) return;
  stage_ = std::string(stage);
  fraction_ = fraction;
  draw_locked(false);
}

ProgressFn BuildProgressIndicator::callback() {
  return [this](std::string_view stage, double fraction) { report(stage, fraction); };
}

bool BuildProgressIndicator::shown() const {
  std::lock_guard lock(mutex_);
  return shown_;
}

void BuildProgressIndicator::draw_locked(bool tick) {
  const auto elapsed = Clock::now() - start_;
  if (elapsed < show_after_) return;
  const double secs = std::chrono::duration<double>(elapsed).count();
  const std::string stage = stage_.empty() ? std::string("building") : stage_;
  const std::string pct = fraction_ >= 0 ? fmt::format(" {:3.0f}%", fraction_ * 100.0) : std::string();
  if (interactive_) {
    static constexpr char kSpin[] = {'|', '/', '-', '\\'};
    if (tick) ++spin_;
    out_ << "\r\x1b[2K" << kSpin[spin_ % 4] << " " << stage << pct << "  (" << fmt::format("{:.1f}", secs)
         << " s)" << std::flush;
    shown_ = true;
  } else if (stage != last_printed_stage_) {
    out_ << "build: " << stage << pct << " (" << fmt::format("{:.1f}", secs) << " s)\n" << std::flush;
    last_printed_stage_ = stage;
    shown_ = true;
  }
}

void BuildProgressIndicator::tick_loop() {
  std::unique_lock lock(mutex_);
  while (!finished_) {
    cv_.wait_for(lock, std::chrono::milliseconds(200));
    if (finished_) break;
    draw_locked(true);
  }
}

void BuildProgressIndicator::finish(bool success) {
  {
    std::lock_guard lock(mutex_);
    if (finished_) return;
    finished_ = true;
    if (shown_) {
      const double secs = std::chrono::duration<double>(Clock::now() - start_).count();
      if (interactive_) out_ << "\r\x1b[2K";
      out_ << "build " << (success ? "finished" : "stopped") << " in " << fmt::format("{:.1f}", secs)
           << " s\n" << std::flush;
    }
  }
  cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

}  // namespace aegisrt::tools
