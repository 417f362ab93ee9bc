#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "aegisrt/core/result.h"
#include "aegisrt/core/types.h"

namespace aegisrt {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(ErrorCode::InvalidArgument, "not positive: " + std::to_string(v));
  return v;
}

Result<int> doubled(int v) {
  AEGIS_ASSIGN_OR_RETURN(int x, parse_positive(v));
  return 2 * x;
}

Result<void> check(int v) {
  AEGIS_TRY(parse_positive(v));
  return {};
}

TEST(Result, HoldsValueOrError) {
  auto ok = parse_positive(3);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().message(), "not positive: -1");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, MacrosPropagate) {
  EXPECT_EQ(*doubled(4), 8);
  EXPECT_EQ(doubled(0).error().code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(check(1).ok());
  EXPECT_EQ(check(-5).error().message(), "not positive: -5");
}

TEST(Result, MapAndThenOrElse) {
  auto r = parse_positive(5).map([](int v) { return std::to_string(v); });
  EXPECT_EQ(*r, "5");
  auto chained = parse_positive(5).and_then([](int v) { return parse_positive(v - 10); });
  EXPECT_FALSE(chained.ok());
  EXPECT_EQ(chained.error().message(), "not positive: -5");
  auto recovered = parse_positive(-1).or_else([](Error e) -> Result<int> {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    return 42;
  });
  EXPECT_EQ(*recovered, 42);
  // map on an error does not call the function.
  bool called = false;
  auto still_bad = parse_positive(-2).map([&](int v) { called = true; return v; });
  EXPECT_FALSE(called);
  EXPECT_FALSE(still_bad.ok());
  Result<void> v = check(1);
  auto mapped = std::move(v).map([] { return 9; });
  EXPECT_EQ(*mapped, 9);
}

TEST(Result, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(11);
  ASSERT_TRUE(r.ok());
  auto p = std::move(r).value();
  EXPECT_EQ(*p, 11);
}

TEST(Error, ContextChainsAndFormats) {
  Error e(ErrorCode::Corrupt, "bad header", "reading a.engine");
  auto outer = e.with_context("loading yolo");
  EXPECT_EQ(outer.context(), "loading yolo: reading a.engine");
  EXPECT_EQ(outer.to_string(), "corrupt: bad header [while loading yolo: reading a.engine]");
  EXPECT_EQ(to_string(ErrorCode::FailedPrecondition), "failed_precondition");
}

TEST(ModelId, StrongAndHashable) {
  ModelId a("yolo"), b("yolo"), c("zoedepth");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_LT(a, c);
  EXPECT_EQ(std::hash<ModelId>{}(a), std::hash<ModelId>{}(b));
  static_assert(!std::is_convertible_v<std::string, ModelId>);
}

}  // namespace
}  // namespace aegisrt
