// BuildProgressIndicator: silent below the threshold, visible above it.
#include <gtest/gtest.h>

#include <sstream>

#include "aegisrt/tools/progress.h"

namespace aegisrt::tools {
namespace {

TEST(BuildProgressIndicator, FastBuildPrintsNothing) {
  std::ostringstream out;
  {
    BuildProgressIndicator p(out, /*interactive=*/true, std::chrono::hours(1));
    auto cb = p.callback();
    cb("import", 0.1);
    cb("compile", 0.5);
    p.finish(true);
    EXPECT_FALSE(p.shown());
  }
  EXPECT_EQ(out.str(), "");
}

TEST(BuildProgressIndicator, SlowBuildPrintsEachStageOnceWhenNotATerminal) {
  std::ostringstream out;
  BuildProgressIndicator p(out, /*interactive=*/false, Duration::zero());
  p.report("import", 0.1);
  p.report("import", 0.2);
  p.report("compile", 0.5);
  p.finish(true);
  EXPECT_TRUE(p.shown());
  const auto s = out.str();
  EXPECT_NE(s.find("build: import  10%"), std::string::npos) << s;
  EXPECT_EQ(s.find("20%"), std::string::npos) << s;  // same stage: no new line
  EXPECT_NE(s.find("build: compile  50%"), std::string::npos) << s;
  EXPECT_NE(s.find("build finished in"), std::string::npos) << s;
  EXPECT_EQ(s.find('\r'), std::string::npos);
}

TEST(BuildProgressIndicator, TerminalModeRedrawsOneLine) {
  std::ostringstream out;
  BuildProgressIndicator p(out, /*interactive=*/true, Duration::zero());
  p.report("link", -1.0);
  p.finish(false);
  const auto s = out.str();
  EXPECT_NE(s.find("\r"), std::string::npos);
  EXPECT_NE(s.find("link"), std::string::npos);
  EXPECT_EQ(s.find('%'), std::string::npos);  // unknown fraction: no percentage
  EXPECT_NE(s.find("build stopped in"), std::string::npos) << s;
}

}  // namespace
}  // namespace aegisrt::tools
