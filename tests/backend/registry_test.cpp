#include <gtest/gtest.h>

#include "aegisrt/backend/registry.h"
#include "aegisrt/build_config.h"
#include "mocks/mock_backend.h"

namespace aegisrt {
namespace {

TEST(BackendRegistry, ExplicitRegistrationAndCreate) {
  BackendRegistry reg;
  EXPECT_FALSE(reg.contains("mock"));
  ASSERT_TRUE(reg.add({"mock", "test double", ""}, [] { return std::make_unique<testing::MockBackend>(); }).ok());
  EXPECT_TRUE(reg.contains("mock"));
  auto b = reg.create("mock");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->name(), "mock");
  auto dup = reg.add({"mock", "", ""}, [] { return std::make_unique<testing::MockBackend>(); });
  EXPECT_EQ(dup.error().code(), ErrorCode::InvalidArgument);
}

TEST(BackendRegistry, UnknownNameIsNotFoundListingAvailable) {
  BackendRegistry reg;
  (void)reg.add({"mock", "", ""}, [] { return std::make_unique<testing::MockBackend>(); });
  auto r = reg.create("nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::NotFound);
  EXPECT_NE(r.error().message().find("mock"), std::string::npos);
}

TEST(BackendFactory, BackendNotCompiledInNamesCMakeOption) {
  for (const auto& k : known_backends()) {
    auto r = BackendFactory::create(k.name);
    if (k.compiled_in) {
      EXPECT_TRUE(r.ok()) << k.name << ": " << r.error();
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), ErrorCode::Unsupported);
      EXPECT_NE(r.error().message().find(std::string(k.cmake_option)), std::string::npos) << r.error();
    }
  }
  EXPECT_EQ(known_backends()[0].compiled_in, build::kHaveOnnxRuntime);
}

}  // namespace
}  // namespace aegisrt
