// BuildProgressIndicator: a terminal progress line for artefact builds that
// only appears once a build has run longer than a threshold (1 s by default),
// so cache hits and fast builds stay silent. Part of the tools library
// (aegisrt_tools): the CLI draws it; libaegisrt only reports stages (ProgressFn).
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

#include "aegisrt/cache/artifact_cache.h"
#include "aegisrt/core/types.h"

namespace aegisrt::tools {

class BuildProgressIndicator {
 public:
  /// `out` must outlive the indicator. `interactive` = redraw one line with
  /// '\r' and a spinner (a terminal); otherwise one line per stage change.
  BuildProgressIndicator(std::ostream& out, bool interactive,
                         Duration show_after = std::chrono::seconds(1));
  ~BuildProgressIndicator();
  BuildProgressIndicator(const BuildProgressIndicator&) = delete;
  BuildProgressIndicator& operator=(const BuildProgressIndicator&) = delete;

  /// Feeds a stage report (thread-safe).
  void report(std::string_view stage, double fraction);
  /// A ProgressFn forwarding to report(); valid while this object lives.
  [[nodiscard]] ProgressFn callback();
  /// Stops the ticker; prints a final "done in X s" line if anything was shown.
  void finish(bool success);
  /// Whether anything has been written so far.
  [[nodiscard]] bool shown() const;

  /// True when stderr is a terminal.
  static bool stderr_is_terminal() noexcept;

 private:
  void tick_loop();
  void draw_locked(bool force);

  std::ostream& out_;
  bool interactive_;
  Duration show_after_;
  TimePoint start_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::string stage_;
  std::string last_printed_stage_;
  double fraction_ = -1.0;
  bool shown_ = false;
  bool finished_ = false;
  unsigned spin_ = 0;
  std::thread ticker_;
};

}  // namespace aegisrt::tools
