// The TensorRT/CUDA error mapping tables and the log sink (no TensorRT needed).
#include <gtest/gtest.h>

#include <thread>

#include "aegisrt/trt_plan/error_mapping.h"

namespace aegisrt::trt {
namespace {

ErrorCode classify(TrtStage stage, std::string msg) {
  std::vector<std::string> v{std::move(msg)};
  return classify_trt_messages(stage, v).code;
}

// Messages as TensorRT 8.6-10.x print them for these situations.
TEST(TrtErrorMapping, KnownMessagesMapToTypedCodes) {
  EXPECT_EQ(classify(TrtStage::Deserialize,
                     "1: [stdArchiveReader.cpp::StdArchiveReader::32] Error Code 1: Serialization "
                     "(Serialization assertion magicTagRead == kMAGIC_TAG failed.Magic tag does not match)"),
            ErrorCode::Corrupt);
  EXPECT_EQ(classify(TrtStage::Deserialize,
                     "1: [runtime.cpp::parsePlan::314] Error Code 1: Serialization (Serialization "
                     "assertion plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed.)"),
            ErrorCode::Corrupt);
  EXPECT_EQ(classify(TrtStage::Deserialize,
                     "6: The engine plan file is not compatible with this version of TensorRT, "
                     "expecting library version 10.16.0.72 got 10.3.0.26, please rebuild."),
            ErrorCode::Stale);
  EXPECT_EQ(classify(TrtStage::Deserialize,
                     "Serialization assertion stdVersionRead == kSERIALIZATION_VERSION failed.Version tag does not match"),
            ErrorCode::Stale);
  EXPECT_EQ(classify(TrtStage::Deserialize,
                     "6: The engine plan file is generated on an incompatible device, expecting "
                     "compute 8.6 got compute 9.0, please rebuild."),
            ErrorCode::Stale);
  EXPECT_EQ(classify(TrtStage::Deserialize, "getPluginCreator could not find plugin: EfficientNMS_TRT version: 1"),
            ErrorCode::Unsupported);
  EXPECT_EQ(classify(TrtStage::Parse, "While parsing node number 3 [NonZeroX]: No importer registered for op: NonZeroX"),
            ErrorCode::Unsupported);
  EXPECT_EQ(classify(TrtStage::SetShape,
                     "3: [executionContext.cpp::setInputShape::2013] Error Code 3: API Usage Error "
                     "(Parameter check failed, condition: satisfyProfile Runtime dimension does not "
                     "satisfy any optimization profile.)"),
            ErrorCode::InvalidArgument);
  EXPECT_EQ(classify(TrtStage::Build,
                     "Requested amount of GPU memory (4294967296 bytes) could not be allocated. "
                     "There may not be enough free memory for allocation to succeed."),
            ErrorCode::CudaError);
  EXPECT_EQ(classify(TrtStage::CreateRuntime, "CUDA initialization failure with error: 35"),
            ErrorCode::Unsupported);
}

TEST(TrtErrorMapping, UnknownMessagesTakeTheStageDefault) {
  EXPECT_EQ(classify(TrtStage::Deserialize, "something odd"), ErrorCode::Corrupt);
  EXPECT_EQ(classify(TrtStage::Build, "something odd"), ErrorCode::BackendError);
  EXPECT_EQ(classify(TrtStage::SetShape, "something odd"), ErrorCode::InvalidArgument);
  EXPECT_EQ(classify(TrtStage::CreateRuntime, "something odd"), ErrorCode::Unsupported);
  EXPECT_EQ(classify_trt_messages(TrtStage::Enqueue, {}).code, ErrorCode::BackendError);
}

TEST(TrtErrorMapping, EveryRuleIsReachableAndLowerCase) {
  for (const auto& rule : trt_message_rules()) {
    std::string needle(rule.needle);
    for (char c : needle) EXPECT_FALSE(c >= 'A' && c <= 'Z') << needle;
    // Embedded in upper case text, the rule itself (or an earlier one with the same code) wins.
    std::string upper = "PREFIX " + needle + " SUFFIX";
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(classify(TrtStage::Enqueue, upper), rule.code) << needle;
    EXPECT_FALSE(rule.hint.empty()) << needle;
  }
}

TEST(TrtErrorMapping, MakeErrorCarriesMessagesHintAndStage) {
  std::vector<std::string> logged{"first", "second",
                                  "The engine plan file is generated on an incompatible device, expecting compute 8.7 got compute 9.0"};
  const Error e = make_trt_error(TrtStage::Deserialize, "could not deserialise engine x.engine", logged, "x.engine");
  EXPECT_EQ(e.code(), ErrorCode::Stale);
  EXPECT_NE(e.message().find("could not deserialise engine x.engine"), std::string::npos);
  EXPECT_NE(e.message().find("expecting compute 8.7"), std::string::npos);
  EXPECT_NE(e.message().find("rebuild it on this device"), std::string::npos);
  EXPECT_NE(e.context().find("deserialising the engine"), std::string::npos);
  const Error none = make_trt_error(TrtStage::Build, "build failed", {}, "");
  EXPECT_EQ(none.code(), ErrorCode::BackendError);
  EXPECT_NE(none.message().find("logged no error"), std::string::npos);
}

TEST(TrtLogSink, KeepsOnlyErrorsAndTakesThem) {
  TrtLogSink sink(TrtSeverity::InternalError);  // forward nothing below internal errors to spdlog
  sink.record(TrtSeverity::Info, "info");
  sink.record(TrtSeverity::Warning, "warn");
  sink.record(TrtSeverity::Error, "err1");
  sink.record(TrtSeverity::InternalError, "internal");
  EXPECT_EQ(sink.error_count(), 2u);
  EXPECT_EQ(sink.take_errors(), (std::vector<std::string>{"err1", "internal"}));
  EXPECT_EQ(sink.error_count(), 0u);
}

TEST(TrtLogSink, CapsKeptErrorsAndIsThreadSafe) {
  TrtLogSink sink(TrtSeverity::InternalError);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sink, t] {
      for (int i = 0; i < 100; ++i) sink.record(TrtSeverity::Error, std::to_string(t * 1000 + i));
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(sink.error_count(), TrtLogSink::kMaxKept);
  sink.clear();
  EXPECT_EQ(sink.error_count(), 0u);
}

}  // namespace
}  // namespace aegisrt::trt
