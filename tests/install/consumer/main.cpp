// Uses an installed AegisRT: Result propagation, a strided Tensor view made
// contiguous, an error naming its tensor, and the installed build config.
#include <aegisrt/build_config.h>
#include <aegisrt/core/result.h>
#include <aegisrt/core/tensor.h>

#include <cstdio>
#include <cstring>

namespace {

aegisrt::Result<float> transposed_sum_of_first_row() {
  AEGIS_ASSIGN_OR_RETURN(auto t, aegisrt::Tensor::allocate_host({2, 3}, aegisrt::DType::Float32, "m"));
  auto s = t.span<float>();
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>(i);  // [[0,1,2],[3,4,5]]
  const aegisrt::TensorView transposed(t.data(), {3, 2}, {1, 3}, aegisrt::DType::Float32);
  AEGIS_ASSIGN_OR_RETURN(auto c, aegisrt::copy_to_contiguous(transposed, "mt"));
  const float* p = c.data_as<float>();  // [[0,3],[1,4],[2,5]]
  return p[0] + p[1];
}

}  // namespace

int main() {
  auto sum = transposed_sum_of_first_row();
  if (!sum.ok() || *sum != 3.f) {
    std::fprintf(stderr, "consumer: wrong transposed sum\n");
    return 1;
  }
  auto bad = aegisrt::Tensor::allocate_host({2, -1}, aegisrt::DType::Float32, "bad");
  if (bad.ok() || bad.error().code() != aegisrt::ErrorCode::InvalidArgument ||
      bad.error().message().find("'bad'") == std::string::npos) {
    std::fprintf(stderr, "consumer: negative shape not rejected with a named error\n");
    return 1;
  }
  if (std::strcmp(aegisrt::build::kVersion, EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "consumer: version %s, expected %s\n", aegisrt::build::kVersion, EXPECTED_VERSION);
    return 1;
  }
  std::printf("consumer ok: aegisrt %s, cuda compiled in: %s\n", aegisrt::build::kVersion,
              aegisrt::build::kHaveCuda ? "yes" : "no");
  return 0;
}
