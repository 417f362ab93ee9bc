// BackendUnderTest for MockBackend (and its deliberately broken variants).
#pragma once

#include <functional>
#include <memory>
#include <random>

#include "conformance/conformance.h"
#include "mocks/mock_backend.h"

namespace aegisrt::testing {

inline std::vector<Tensor> mock_inputs(int seed) {
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  std::uniform_real_distribution<float> dist(-3.f, 3.f);
  const std::int64_t batch = 1 + seed % 4;
  auto t = Tensor::allocate_host({batch, 4}, DType::Float32, "x");
  for (auto& v : t->span<float>()) v = dist(rng);
  std::vector<Tensor> v;
  v.push_back(std::move(*t));
  return v;
}

/// y = 2x + 1 computed here, independently of the mock.
inline std::vector<Tensor> affine_reference(const std::vector<Tensor>& in) {
  auto y = Tensor::allocate_host(in[0].shape(), DType::Float32, "y");
  auto src = in[0].span<float>();
  auto dst = y->span<float>();
  for (std::size_t i = 0; i < src.size(); ++i) dst[i] = 2.f * src[i] + 1.f;
  std::vector<Tensor> v;
  v.push_back(std::move(*y));
  return v;
}

inline BackendUnderTest make_mock_case(std::string label,
                                       std::function<std::unique_ptr<RuntimeBackend>()> make) {
  BackendUnderTest c;
  c.label = std::move(label);
  c.make_backend = std::move(make);
  c.valid_options = [] {
    static const auto path =
        write_mock_artefact(std::filesystem::temp_directory_path() /
                            ("aegisrt_mock_" + std::to_string(::getpid())));
    LoadOptions o;
    o.artifact_path = path;
    return o;
  };
  c.make_inputs = mock_inputs;
  c.reference = affine_reference;
  c.atol = 1e-6;
  c.rtol = 1e-6;
  return c;
}

}  // namespace aegisrt::testing
