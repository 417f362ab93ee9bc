// The CUDA layer against real devices: device queries, streams and events,
// device/pinned buffers, device tensors and strided copies. Tests that need a
// GPU skip with the driver's reason when none is present; the error-path tests
// run everywhere.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <numeric>
#include <random>
#include <regex>
#include <thread>
#include <vector>

#include "aegisrt/backend/runtime_backend.h"
#include "aegisrt/cuda/cuda_event.h"
#include "aegisrt/cuda/cuda_stream.h"
#include "aegisrt/cuda/device_buffer.h"
#include "aegisrt/cuda/device_info.h"
#include "aegisrt/cuda/pinned_buffer.h"
#include "aegisrt/cuda/tensor_ops.h"

namespace aegisrt::cuda {
namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

/// Skips the test when no CUDA device is usable, with the driver's reason.
#define AEGIS_REQUIRE_GPU()                                                          \
  do {                                                                               \
    auto aegis_n_ = device_count();                                                  \
    if (!aegis_n_.ok()) GTEST_SKIP() << "no CUDA device: " << aegis_n_.error().message(); \
  } while (0)

/// Host tensor of `dtype` whose bytes are a seeded pseudo-random pattern.
Tensor random_host(Shape shape, DType dtype, std::uint32_t seed) {
  auto t = Tensor::allocate_host(std::move(shape), dtype, "t").value();
  std::mt19937 rng(seed);
  auto* b = static_cast<unsigned char*>(t.data());
  for (std::size_t i = 0; i < t.byte_size(); ++i) b[i] = static_cast<unsigned char>(rng());
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.byte_size() == b.byte_size() && a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.byte_size()) == 0;
}

/// A strided view of `base`'s memory (host or device) with the same layout
/// rules as a host view, used to build matching host and device views.
TensorView strided(const void* base, DType dtype, Location loc, Shape shape, Shape strides,
                   std::int64_t offset_elems = 0) {
  const auto* p = static_cast<const unsigned char*>(base) +
                  offset_elems * static_cast<std::int64_t>(dtype_size(dtype));
  return TensorView(p, std::move(shape), std::move(strides), dtype, loc);
}

// ------------------------------------------------------------ no-GPU error paths (run everywhere)

TEST(CudaErrors, DeviceCountIsPositiveOrATypedCudaError) {
  auto n = device_count();
  if (n.ok()) {
    EXPECT_GT(*n, 0);
  } else {
    EXPECT_EQ(n.error().code(), ErrorCode::CudaError);
    EXPECT_NE(n.error().message().find("cudaGetDeviceCount"), std::string::npos)
        << n.error().to_string();
    EXPECT_NE(n.error().message().find("cudaError"), std::string::npos) << n.error().to_string();
  }
}

TEST(CudaErrors, WithoutADeviceEveryEntryPointFailsCleanly) {
  if (device_count().ok()) GTEST_SKIP() << "a CUDA device is present; this checks the no-device path";
  EXPECT_EQ(list_devices().error().code(), ErrorCode::CudaError);
  EXPECT_EQ(query_device(0).error().code(), ErrorCode::CudaError);
  EXPECT_EQ(memory_info(0).error().code(), ErrorCode::CudaError);
  EXPECT_EQ(CudaStream::create(0).error().code(), ErrorCode::CudaError);
  EXPECT_EQ(CudaEvent::create(0).error().code(), ErrorCode::CudaError);
  EXPECT_EQ(DeviceBuffer::create(1024, 0).error().code(), ErrorCode::CudaError);
  EXPECT_EQ(allocate_device_tensor({2, 2}, DType::Float32, 0).error().code(), ErrorCode::CudaError);
  auto host = random_host({2, 3}, DType::Float32, 1);
  EXPECT_EQ(copy_to_device(host.view(), 0).error().code(), ErrorCode::CudaError);
}

TEST(CudaErrors, BadShapesAndViewsAreInvalidArgumentBeforeAnyCudaCall) {
  auto r = allocate_device_tensor({2, kDynamicDim}, DType::Float32, 0, "feat");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(r.error().message().find("'feat'"), std::string::npos) << r.error().to_string();

  float x[4] = {};
  TensorView bad_rank(x, {2, 2}, {1}, DType::Float32);  // strides rank != shape rank
  auto c = copy_to_device(bad_rank, 0, "img");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(c.error().message().find("'img'"), std::string::npos) << c.error().to_string();
  auto h = copy_to_host(TensorView(nullptr, {3}, DType::Float32, Location::device(0)), "out");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code(), ErrorCode::InvalidArgument);
}

TEST(CudaErrors, HostViewsNeedNoDevice) {
  auto host = random_host({3, 4}, DType::Int32, 7);
  TensorView t(host.data(), {4, 3}, {1, 4}, DType::Int32);  // transpose
  auto a = copy_to_host(t, "a");
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  auto b = make_contiguous(t, "b");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  const auto* src = host.data_as<std::int32_t>();
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(a->data_as<std::int32_t>()[i * 3 + j], src[j * 4 + i]);
      EXPECT_EQ(b->data_as<std::int32_t>()[i * 3 + j], src[j * 4 + i]);
    }
}

// ------------------------------------------------------------ device info

TEST(CudaDevice, InfoIsPlausibleAndMatchesTheRuntime) {
  AEGIS_REQUIRE_GPU();
  auto devices = list_devices();
  ASSERT_TRUE(devices.ok()) << devices.error().to_string();
  ASSERT_EQ(static_cast<int>(devices->size()), *device_count());
  const std::regex uuid_re("^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  for (std::size_t i = 0; i < devices->size(); ++i) {
    const auto& d = (*devices)[i];
    SCOPED_TRACE(d.name);
    EXPECT_EQ(d.index, static_cast<int>(i));
    EXPECT_FALSE(d.name.empty());
    EXPECT_TRUE(std::regex_match(d.uuid, uuid_re)) << d.uuid;
    EXPECT_GE(d.cc_major, 5);
    EXPECT_LE(d.cc_major, 20);
    EXPECT_GE(d.cc_minor, 0);
    EXPECT_EQ(d.compute_capability(), std::to_string(d.cc_major) + "." + std::to_string(d.cc_minor));
    EXPECT_GT(d.sm_count, 0);
    EXPECT_GT(d.total_memory, 256 * kMiB);
    EXPECT_GT(d.free_memory, 0u);
    EXPECT_LE(d.free_memory, d.total_memory);
    // Independent source: per-attribute queries.
    int sms = 0, major = 0;
    ASSERT_EQ(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, d.index), cudaSuccess);
    ASSERT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, d.index), cudaSuccess);
    EXPECT_EQ(d.sm_count, sms);
    EXPECT_EQ(d.cc_major, major);
  }
}

TEST(CudaDevice, OutOfRangeIndicesAreInvalidArgument) {
  AEGIS_REQUIRE_GPU();
  const int n = *device_count();
  for (int bad : {-1, n, n + 7}) {
    EXPECT_EQ(query_device(bad).error().code(), ErrorCode::InvalidArgument) << bad;
    EXPECT_EQ(CudaStream::create(bad).error().code(), ErrorCode::InvalidArgument) << bad;
    EXPECT_EQ(DeviceBuffer::create(16, bad).error().code(), ErrorCode::InvalidArgument) << bad;
    EXPECT_EQ(allocate_device_tensor({4}, DType::Float32, bad).error().code(),
              ErrorCode::InvalidArgument)
        << bad;
  }
}

// ------------------------------------------------------------ streams and events

TEST(CudaStreamEvent, ElapsedTimeIsNonNegativeAndMonotone) {
  AEGIS_REQUIRE_GPU();
  auto stream = CudaStream::create(0);
  ASSERT_TRUE(stream.ok()) << stream.error().to_string();
  ASSERT_NE(stream->native(), nullptr);
  auto e0 = CudaEvent::create(0);
  auto e1 = CudaEvent::create(0);
  auto e2 = CudaEvent::create(0);
  ASSERT_TRUE(e0.ok() && e1.ok() && e2.ok());
  auto buf = DeviceBuffer::create(64 * kMiB, 0);
  ASSERT_TRUE(buf.ok()) << buf.error().to_string();

  ASSERT_TRUE(e0->record(*stream).ok());
  ASSERT_TRUE(buf->fill(0x11, &*stream).ok());
  ASSERT_TRUE(e1->record(*stream).ok());
  ASSERT_TRUE(buf->fill(0x22, &*stream).ok());
  ASSERT_TRUE(buf->fill(0x33, &*stream).ok());
  ASSERT_TRUE(e2->record(*stream).ok());
  ASSERT_TRUE(e2->synchronize().ok());
  EXPECT_TRUE(*e2->is_complete());
  EXPECT_TRUE(*stream->is_idle());

  auto t01 = CudaEvent::elapsed(*e0, *e1);
  auto t02 = CudaEvent::elapsed(*e0, *e2);
  auto t12 = CudaEvent::elapsed(*e1, *e2);
  ASSERT_TRUE(t01.ok() && t02.ok() && t12.ok()) << (t01.ok() ? "" : t01.error().to_string());
  EXPECT_GE(t01->count(), 0);
  EXPECT_GE(t12->count(), 0);
  EXPECT_GE(*t02, *t01);
  EXPECT_GE(*t02, *t12);

  std::vector<unsigned char> back(64 * kMiB);
  ASSERT_TRUE(buf->copy_to_host(std::as_writable_bytes(std::span(back))).ok());
  EXPECT_EQ(back.front(), 0x33);
  EXPECT_EQ(back.back(), 0x33);
}

TEST(CudaStreamEvent, NonTimingEventsAndUnrecordedEventsAreTypedErrors) {
  AEGIS_REQUIRE_GPU();
  auto stream = CudaStream::create(0);
  auto fast = CudaEvent::create(0, /*timing=*/false);
  auto timed = CudaEvent::create(0);
  auto never = CudaEvent::create(0);
  ASSERT_TRUE(stream.ok() && fast.ok() && timed.ok() && never.ok());
  ASSERT_TRUE(fast->record(*stream).ok());
  ASSERT_TRUE(timed->record(*stream).ok());
  ASSERT_TRUE(stream->synchronize().ok());
  EXPECT_EQ(CudaEvent::elapsed(*fast, *timed).error().code(), ErrorCode::InvalidArgument);
  auto r = CudaEvent::elapsed(*timed, *never);  // `never` was not recorded
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::CudaError);
  // The error did not stick: later calls work.
  ASSERT_TRUE(never->record(*stream).ok());
  ASSERT_TRUE(never->synchronize().ok());
  EXPECT_TRUE(CudaEvent::elapsed(*timed, *never).ok());
}

TEST(CudaStreamEvent, StreamWaitsForAnEventOnAnotherStream) {
  AEGIS_REQUIRE_GPU();
  auto a = CudaStream::create(0);
  auto b = CudaStream::create(0);
  auto done_a = CudaEvent::create(0, false);
  auto buf = DeviceBuffer::create(32 * kMiB, 0);
  ASSERT_TRUE(a.ok() && b.ok() && done_a.ok() && buf.ok());
  ASSERT_TRUE(buf->fill(0x5A, &*a).ok());
  ASSERT_TRUE(done_a->record(*a).ok());
  ASSERT_TRUE(b->wait(*done_a).ok());
  auto pinned = PinnedBuffer::create(32 * kMiB);
  ASSERT_TRUE(pinned.ok());
  ASSERT_TRUE(buf->copy_to_host(pinned->bytes(), &*b).ok());  // ordered after a's fill
  ASSERT_TRUE(b->synchronize().ok());
  const auto bytes = pinned->bytes();
  EXPECT_EQ(std::to_integer<int>(bytes.front()), 0x5A);
  EXPECT_EQ(std::to_integer<int>(bytes[bytes.size() / 2]), 0x5A);
  EXPECT_EQ(std::to_integer<int>(bytes.back()), 0x5A);
}

TEST(CudaStreamEvent, MovedFromHandlesAreEmptyAndRefuseWork) {
  AEGIS_REQUIRE_GPU();
  auto s = CudaStream::create(0);
  ASSERT_TRUE(s.ok());
  auto* raw = s->native();
  CudaStream moved = std::move(*s);
  EXPECT_EQ(moved.native(), raw);
  EXPECT_EQ(s->native(), nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(s->synchronize().error().code(), ErrorCode::InvalidArgument);
  EXPECT_TRUE(moved.synchronize().ok());
  auto other = CudaStream::create(0);
  ASSERT_TRUE(other.ok());
  moved = std::move(*other);  // destroys the first stream
  EXPECT_TRUE(moved.synchronize().ok());
}

// ------------------------------------------------------------ buffers

TEST(CudaBuffers, DeviceBufferRoundTripSyncAndAsync) {
  AEGIS_REQUIRE_GPU();
  constexpr std::size_t n = 3 * kMiB + 17;
  std::vector<std::byte> src(n);
  std::mt19937 rng(3);
  for (auto& b : src) b = static_cast<std::byte>(rng());
  auto buf = DeviceBuffer::create(n, 0);
  ASSERT_TRUE(buf.ok());
  EXPECT_EQ(buf->size(), n);
  ASSERT_TRUE(buf->copy_from_host(src).ok());
  std::vector<std::byte> back(n);
  ASSERT_TRUE(buf->copy_to_host(back).ok());
  EXPECT_EQ(back, src);

  auto stream = CudaStream::create(0);
  auto pin_in = PinnedBuffer::create(n);
  auto pin_out = PinnedBuffer::create(n);
  ASSERT_TRUE(stream.ok() && pin_in.ok() && pin_out.ok());
  for (std::size_t i = 0; i < n; ++i) pin_in->bytes()[i] = static_cast<std::byte>(i * 7);
  ASSERT_TRUE(buf->copy_from_host(pin_in->bytes(), &*stream).ok());
  ASSERT_TRUE(buf->copy_to_host(pin_out->bytes(), &*stream).ok());
  ASSERT_TRUE(stream->synchronize().ok());
  EXPECT_EQ(std::memcmp(pin_in->data(), pin_out->data(), n), 0);

  std::vector<std::byte> too_big(n + 1);
  EXPECT_EQ(buf->copy_from_host(too_big).error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(buf->copy_to_host(too_big).error().code(), ErrorCode::InvalidArgument);

  DeviceBuffer moved = std::move(*buf);
  EXPECT_EQ(moved.size(), n);
  EXPECT_TRUE(buf->empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(buf->data(), nullptr);
  ASSERT_TRUE(moved.copy_to_host(back).ok());
  EXPECT_EQ(std::memcmp(back.data(), pin_in->data(), n), 0);
}

TEST(CudaBuffers, ZeroSizedBuffersAreEmpty) {
  AEGIS_REQUIRE_GPU();
  auto d = DeviceBuffer::create(0, 0);
  auto p = PinnedBuffer::create(0);
  ASSERT_TRUE(d.ok() && p.ok());
  EXPECT_TRUE(d->empty());
  EXPECT_TRUE(p->empty());
  EXPECT_TRUE(d->fill(1).ok());
}

TEST(CudaBuffers, AbsurdAllocationsAreCudaErrorsAndDoNotStick) {
  AEGIS_REQUIRE_GPU();
  constexpr std::size_t kPetabyte = std::size_t{1} << 50;
  auto d = DeviceBuffer::create(kPetabyte, 0);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), ErrorCode::CudaError);
  EXPECT_NE(d.error().message().find("cudaMalloc"), std::string::npos) << d.error().to_string();
  auto t = allocate_device_tensor({std::int64_t{1} << 25, std::int64_t{1} << 25}, DType::Float32, 0, "huge");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::CudaError);
  EXPECT_NE(t.error().message().find("'huge'"), std::string::npos) << t.error().to_string();
  auto p = PinnedBuffer::create(kPetabyte);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code(), ErrorCode::CudaError);
  // A normal allocation and a kernel-free copy still work afterwards.
  auto ok = DeviceBuffer::create(kMiB, 0);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_TRUE(ok->fill(0).ok());
}

TEST(CudaBuffers, MemoryIsReturnedWhenHandlesDie) {
  AEGIS_REQUIRE_GPU();
  constexpr std::size_t kBytes = 512 * kMiB;
  constexpr std::size_t kTolerance = 64 * kMiB;  // allocator granularity, other tenants
  // Warm up the context so its own allocations are not counted.
  { auto warm = DeviceBuffer::create(kMiB, 0); ASSERT_TRUE(warm.ok()); }
  auto before = memory_info(0);
  ASSERT_TRUE(before.ok());
  {
    auto buf = DeviceBuffer::create(kBytes, 0);
    ASSERT_TRUE(buf.ok());
    auto t = allocate_device_tensor({static_cast<std::int64_t>(kBytes / 4)}, DType::Float32, 0);
    ASSERT_TRUE(t.ok());
    auto during = memory_info(0);
    ASSERT_TRUE(during.ok());
    EXPECT_LT(during->free + 2 * kBytes - kTolerance, before->free + kTolerance)
        << "1 GiB allocated but free memory barely moved";
  }
  auto after = memory_info(0);
  ASSERT_TRUE(after.ok());
  EXPECT_LE(before->free, after->free + kTolerance)
      << "free memory before " << before->free << " after " << after->free;
}

// ------------------------------------------------------------ device tensors

class CudaTensor : public ::testing::TestWithParam<DType> {};

TEST_P(CudaTensor, HostDeviceHostRoundTripIsExact) {
  AEGIS_REQUIRE_GPU();
  const DType dt = GetParam();
  auto host = random_host({3, 5, 7}, dt, 11);
  auto dev = copy_to_device(host.view(), 0, "x");
  ASSERT_TRUE(dev.ok()) << dev.error().to_string();
  EXPECT_TRUE(dev->location().is_device());
  EXPECT_EQ(dev->name(), "x");
  EXPECT_EQ(dev->shape(), host.shape());
  auto back = copy_to_host(dev->view(), "x");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(back->location().is_host());
  EXPECT_TRUE(same_bytes(*back, host));
}

// Transpose, slice with step, offset window and a broadcast (stride 0) of a
// device tensor: made contiguous on the device, they equal the same views
// gathered on the host by the core layer and, for the transpose, by hand.
TEST_P(CudaTensor, StridedDeviceViewsEqualHostReference) {
  AEGIS_REQUIRE_GPU();
  const DType dt = GetParam();
  const std::size_t es = dtype_size(dt);
  auto host = random_host({4, 6, 8}, dt, 5);
  auto dev = copy_to_device(host.view(), 0);
  ASSERT_TRUE(dev.ok());

  struct Case {
    const char* what;
    Shape shape, strides;
    std::int64_t offset;
  };
  const std::vector<Case> cases = {
      {"permute(2,0,1)", {8, 4, 6}, {1, 48, 8}, 0},
      {"slice [:, ::2, 1::3]", {4, 3, 3}, {48, 16, 3}, 1},
      {"window [1:3, 2:5, 4:8]", {2, 3, 4}, {48, 8, 1}, 48 + 16 + 4},
      {"broadcast row", {5, 8}, {0, 1}, 8},
      {"scalar-like [1,1,1]", {1, 1, 1}, {48, 8, 1}, 17},
      {"rank 9 with unit dims", {2, 1, 2, 1, 2, 1, 3, 1, 2}, {48, 1, 8, 1, 1, 1, 2, 1, 1}, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto hv = strided(host.data(), dt, Location::host(), c.shape, c.strides, c.offset);
    const auto dv = strided(dev->data(), dt, Location::device(0), c.shape, c.strides, c.offset);
    ASSERT_TRUE(hv.validate().ok());
    auto expected = copy_to_contiguous(hv);
    ASSERT_TRUE(expected.ok());

    auto contiguous = make_contiguous(dv, "v");
    ASSERT_TRUE(contiguous.ok()) << contiguous.error().to_string();
    EXPECT_TRUE(contiguous->location().is_device());
    EXPECT_TRUE(contiguous->view().is_contiguous());
    auto got = copy_to_host(contiguous->view());
    ASSERT_TRUE(got.ok());
    EXPECT_TRUE(same_bytes(*got, *expected));

    auto direct = copy_to_host(dv);  // strided device -> host in one call
    ASSERT_TRUE(direct.ok()) << direct.error().to_string();
    EXPECT_TRUE(same_bytes(*direct, *expected));

    auto up = copy_to_device(hv, 0);  // strided host -> device
    ASSERT_TRUE(up.ok());
    auto up_back = copy_to_host(up->view());
    ASSERT_TRUE(up_back.ok());
    EXPECT_TRUE(same_bytes(*up_back, *expected));
  }

  // Hand-computed transpose, independent of the core gather.
  auto t = make_contiguous(strided(dev->data(), dt, Location::device(0), {8, 4, 6}, {1, 48, 8}));
  ASSERT_TRUE(t.ok());
  auto th = copy_to_host(t->view());
  ASSERT_TRUE(th.ok());
  const auto* src = static_cast<const unsigned char*>(host.data());
  const auto* out = static_cast<const unsigned char*>(th->data());
  for (int k = 0; k < 8; ++k)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j)
        ASSERT_EQ(std::memcmp(out + ((k * 4 + i) * 6 + j) * es, src + (i * 48 + j * 8 + k) * es, es), 0)
            << k << "," << i << "," << j;
}

INSTANTIATE_TEST_SUITE_P(DTypes, CudaTensor,
                         ::testing::Values(DType::UInt8, DType::Float16, DType::Float32, DType::Int64),
                         [](const auto& p) { return std::string(dtype_name(p.param)); });

TEST(CudaTensorOps, AllocateIsZeroedAndZeroElementTensorsWork) {
  AEGIS_REQUIRE_GPU();
  auto t = allocate_device_tensor({16, 16}, DType::Float32, 0, "z");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->empty());
  auto h = copy_to_host(t->view());
  ASSERT_TRUE(h.ok());
  for (float v : h->span<float>()) ASSERT_EQ(v, 0.f);
  auto e = allocate_device_tensor({0, 3}, DType::Float32, 0);
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->empty());
  auto eh = copy_to_host(e->view());
  ASSERT_TRUE(eh.ok());
  EXPECT_EQ(eh->element_count(), 0);
}

TEST(CudaTensorOps, DeviceLocationWithHostPointerIsRejected) {
  AEGIS_REQUIRE_GPU();
  auto host = random_host({4, 4}, DType::Float32, 9);
  TensorView lying(host.data(), {4, 4}, DType::Float32, Location::device(0));
  for (int which = 0; which < 2; ++which) {
    auto r = which == 0 ? copy_to_host(lying, "liar") : make_contiguous(lying, "liar");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), ErrorCode::InvalidArgument);
    EXPECT_NE(r.error().message().find("'liar'"), std::string::npos) << r.error().to_string();
  }
}

TEST(CudaTensorOps, StreamVariantsProduceTheSameData) {
  AEGIS_REQUIRE_GPU();
  auto stream = CudaStream::create(0);
  ASSERT_TRUE(stream.ok());
  auto host = random_host({64, 33}, DType::Float32, 21);
  auto dev = copy_to_device(host.view(), 0, "x", &*stream);
  ASSERT_TRUE(dev.ok());
  TensorView tv(dev->data(), {33, 64}, {1, 33}, DType::Float32, Location::device(0));
  auto c = make_contiguous(tv, "t", &*stream);
  ASSERT_TRUE(c.ok());
  auto back = copy_to_host(c->view(), "t", &*stream);
  ASSERT_TRUE(back.ok());
  // random_host fills random bits (NaNs included): compare bit patterns.
  const auto* x = host.data_as<std::uint32_t>();
  const auto* y = back->data_as<std::uint32_t>();
  for (int i = 0; i < 33; ++i)
    for (int j = 0; j < 64; ++j) ASSERT_EQ(y[i * 64 + j], x[j * 33 + i]) << i << "," << j;
}

// The backend layer's input preparation makes a strided device input
// contiguous through this layer (RuntimeBackend::execute relies on it).
TEST(CudaTensorOps, PrepareInputsMakesStridedDeviceInputsContiguous) {
  AEGIS_REQUIRE_GPU();
  auto host = random_host({4, 2}, DType::Float32, 4);
  auto dev = copy_to_device(host.view(), 0);
  ASSERT_TRUE(dev.ok());
  TensorView transposed(dev->data(), {2, 4}, {1, 2}, DType::Float32, Location::device(0));
  std::vector<TensorDesc> specs = {{"x", {kDynamicDim, 4}, DType::Float32}};
  std::vector<Tensor> scratch;
  auto prepared = prepare_inputs(specs, {{"x", transposed}}, /*allow_device_inputs=*/true, scratch);
  ASSERT_TRUE(prepared.ok()) << prepared.error().to_string();
  const auto& v = (*prepared)[0].view;
  EXPECT_TRUE(v.is_contiguous());
  EXPECT_TRUE(v.location().is_device());
  auto back = copy_to_host(v);
  ASSERT_TRUE(back.ok());
  const auto* x = host.data_as<std::uint32_t>();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(back->data_as<std::uint32_t>()[i * 4 + j], x[j * 2 + i]);
}

// ------------------------------------------------------------ another thread capturing a graph

/// Runs `work` on this thread while a second thread holds a stream capture
/// open in cudaStreamCaptureModeGlobal (as ONNX Runtime's CUDA graphs do),
/// then ends the capture with one memset of `target` in it, replays the graph
/// and checks the memset landed. Returns what the work reported and how the
/// capture ended.
struct CaptureOutcome {
  bool work_ok = false;
  std::string work_error;
  cudaError_t begin = cudaSuccess;
  cudaError_t end = cudaSuccess;
  bool replay_ok = false;
};

template <typename Work>
CaptureOutcome around_foreign_capture(Work&& work) {
  CaptureOutcome out;
  auto stream = CudaStream::create(0).value();
  auto target = DeviceBuffer::create(kMiB, 0).value();
  std::promise<void> started;
  std::promise<void> done;
  auto done_f = done.get_future();
  cudaGraph_t graph = nullptr;
  std::thread capturer([&] {
    out.begin = cudaStreamBeginCapture(stream.native(), cudaStreamCaptureModeGlobal);
    started.set_value();
    done_f.wait();
    if (out.begin != cudaSuccess) return;
    (void)cudaMemsetAsync(target.data(), 0x5a, target.size(), stream.native());
    out.end = cudaStreamEndCapture(stream.native(), &graph);
  });
  started.get_future().wait();
  if (out.begin == cudaSuccess) {
    auto r = work();
    out.work_ok = r.ok();
    if (!r.ok()) out.work_error = r.error().to_string();
  }
  done.set_value();
  capturer.join();
  (void)cudaGetLastError();
  if (out.end == cudaSuccess && graph != nullptr) {
    cudaGraphExec_t exec = nullptr;
    if (cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess) {
      std::vector<std::byte> host(target.size());
      out.replay_ok = cudaGraphLaunch(exec, stream.native()) == cudaSuccess && stream.synchronize().ok() &&
                      target.copy_to_host(host).ok() &&
                      std::all_of(host.begin(), host.end(), [](std::byte b) { return b == std::byte{0x5a}; });
      (void)cudaGraphExecDestroy(exec);
    }
  }
  if (graph != nullptr) (void)cudaGraphDestroy(graph);
  (void)cudaGetLastError();
  return out;
}

// The hazard the cuda layer guards against, and the guard. A plain cudaMalloc
// on one thread while another captures in global mode is refused by the
// driver and breaks that capture (DevicePathGpu.CudaGraphInstances... failed
// a third of its runs on the H200 this way: one pipeline's first frames grew
// its buffers while the other's ORT Run captured). Every allocation, free,
// synchronous copy, stream/event creation and synchronisation of the cuda
// layer relaxes the calling thread's capture mode (detail::RelaxedCaptureMode),
// so the capture survives and the replay writes what it captured.
TEST(CudaCapture, OurAllocationsLeaveAnotherThreadsGlobalCaptureIntact) {
  AEGIS_REQUIRE_GPU();
  const CaptureOutcome raw = around_foreign_capture([]() -> Result<void> {
    void* p = nullptr;
    const cudaError_t e = cudaMalloc(&p, 4 * kMiB);
    if (e == cudaSuccess) (void)cudaFree(p);
    if (e != cudaSuccess) return Error(ErrorCode::CudaError, cudaGetErrorName(e));
    return {};
  });
  ASSERT_EQ(raw.begin, cudaSuccess) << cudaGetErrorName(raw.begin);
  if (raw.work_ok && raw.end == cudaSuccess && raw.replay_ok) {
    GTEST_SKIP() << "this driver lets another thread cudaMalloc during a global-mode capture: the hazard "
                    "the guard prevents does not arise here";
  }
  const CaptureOutcome ours = around_foreign_capture([]() -> Result<void> {
    AEGIS_ASSIGN_OR_RETURN(CudaStream own, CudaStream::create(0));
    AEGIS_ASSIGN_OR_RETURN(DeviceBuffer dev, DeviceBuffer::create(4 * kMiB, 0));
    AEGIS_ASSIGN_OR_RETURN(PinnedBuffer pinned, PinnedBuffer::create(4 * kMiB));
    std::memset(pinned.data(), 3, pinned.size());
    AEGIS_TRY(dev.copy_from_host(std::span<const std::byte>(static_cast<const std::byte*>(pinned.data()),
                                                            pinned.size()),
                                 &own));
    AEGIS_TRY(own.synchronize());
    std::vector<std::byte> back(64);
    AEGIS_TRY(dev.copy_to_host(back));  // synchronous cudaMemcpy
    if (back[0] != std::byte{3} || back[63] != std::byte{3}) {
      return Error(ErrorCode::Internal, "the copy inside the window read back wrong bytes");
    }
    AEGIS_TRY(dev.fill(0));  // synchronous cudaMemset
    AEGIS_ASSIGN_OR_RETURN(Tensor t, allocate_device_tensor({256, 256}, DType::Float32, 0, "t"));
    AEGIS_ASSIGN_OR_RETURN(CudaEvent ev, CudaEvent::create(0));
    AEGIS_TRY(ev.record(own));
    AEGIS_TRY(ev.synchronize());
    return {};  // dev, pinned, t, ev and own are freed here, still inside the window
  });
  EXPECT_TRUE(ours.work_ok) << ours.work_error;
  EXPECT_EQ(ours.end, cudaSuccess) << cudaGetErrorName(ours.end);
  EXPECT_TRUE(ours.replay_ok);
}

}  // namespace
}  // namespace aegisrt::cuda
