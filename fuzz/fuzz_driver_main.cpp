// A main() for libFuzzer entry points when libFuzzer is not available (g++
// builds, CI): runs every seed, then a fixed number of deterministic mutations
// of them (byte edits, YAML token insertions, splices, line shuffles).
//   manifest_fuzz_driver [--runs N] [--seed S] [--max-len L] SEED_FILE_OR_DIR...
// (the decoder targets npy/npz/pb/sidecar use it too, with seed files from
// fuzz/corpus/; a seed folder contributes its .yaml files only).
// Exit 0 when every input was handled; a finding aborts (as under libFuzzer).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

void run_one(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Tokens that push the YAML parser and the schema checks into their corners.
const std::vector<std::string> kTokens = {
    ":",    ": ",       "- ",       "\n",        "\n  ",      "\t",         "[",          "]",          "{",
    "}",    ",",        "&a ",      "*a",        "!!str ",    "!!int ",     "? ",         "|\n",        ">-\n",
    "'",    "\"",       "#",        "~",         "null",      "-1",         "0",          "1e308",      "-0.5",
    "1/0",  ".nan",     ".inf",     "%YAML 1.2", "---\n",     "...\n",      "\xef\xbb\xbf", "\xff\xfe", "<<: *a",
    "fp64", "int8",     "tensorrt", "rocm",      "yolo_v8",   "detections", "coco80",     "letterbox",  "NCHW",
    "backends: ", "variants: ", "default_variant: ", "device_memory_mb: ", "precisions: ", "class_names: "};

std::string mutate(std::string s, const std::vector<std::string>& seeds, std::mt19937_64& rng, std::size_t max_len) {
  auto pick = [&rng](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(pick(8));
  for (int e = 0; e < edits; ++e) {
    switch (pick(9)) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1U << pick(8));
        break;
      case 1:  // random byte
        s.insert(pick(s.size() + 1), 1, static_cast<char>(pick(256)));
        break;
      case 2:  // delete a range
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<std::size_t>(64, s.size() - at)));
        }
        break;
      case 3:  // insert a token
        s.insert(pick(s.size() + 1), kTokens[pick(kTokens.size())]);
        break;
      case 4:  // duplicate a range
        if (!s.empty()) {
          const std::size_t at = pick(s.size());
          const std::string chunk = s.substr(at, 1 + pick(128));
          s.insert(pick(s.size() + 1), chunk);
        }
        break;
      case 5: {  // splice in a range of another seed
        const std::string& other = seeds[pick(seeds.size())];
        if (!other.empty()) {
          const std::size_t at = pick(other.size());
          s.insert(pick(s.size() + 1), other.substr(at, 1 + pick(256)));
        }
        break;
      }
      case 6: {  // swap two lines
        std::vector<std::string> lines;
        std::stringstream ss(s);
        for (std::string l; std::getline(ss, l);) lines.push_back(l);
        if (lines.size() > 1) std::swap(lines[pick(lines.size())], lines[pick(lines.size())]);
        s.clear();
        for (const auto& l : lines) s += l + "\n";
        break;
      }
      case 7:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      default: {  // replace a digit run by an extreme number
        const std::size_t at = s.find_first_of("0123456789", pick(s.size() + 1));
        if (at != std::string::npos) {
          static const char* kNumbers[] = {"-1", "0", "99999999999999999999", "-9223372036854775808", "1e-400", "0x10"};
          s.replace(at, 1, kNumbers[pick(6)]);
        }
        break;
      }
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t runs = 10000;
  std::uint64_t seed = 1;
  std::size_t max_len = 64 * 1024;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--max-len" && i + 1 < argc) {
      max_len = std::strtoull(argv[++i], nullptr, 10);
    } else {
      inputs.emplace_back(a);
    }
  }
  std::vector<std::string> seeds;
  for (const auto& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<fs::path> files;
      fs::recursive_directory_iterator it(in, ec);
      for (const fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
        std::error_code fec;
        if (it->is_regular_file(fec) && it->path().extension() == ".yaml") files.push_back(it->path());
      }
      if (ec) {
        std::fprintf(stderr, "manifest_fuzz_driver: cannot list %s: %s\n", in.c_str(), ec.message().c_str());
        return 2;
      }
      std::sort(files.begin(), files.end());  // deterministic order
      for (const auto& f : files) seeds.push_back(read_file(f));
    } else if (fs::is_regular_file(in, ec)) {
      seeds.push_back(read_file(in));
    } else {
      std::fprintf(stderr, "manifest_fuzz_driver: no such seed file or folder: %s\n", in.c_str());
      return 2;
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "manifest_fuzz_driver: no seeds given\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  double slowest_ms = 0.0;
  for (const auto& s : seeds) run_one(s);
  std::mt19937_64 rng(seed);
  std::vector<std::string> pool = seeds;  // mutants feed further mutation, like a tiny corpus
  for (std::size_t i = 0; i < runs; ++i) {
    const std::string input = mutate(pool[static_cast<std::size_t>(rng() % pool.size())], seeds, rng, max_len);
    const auto t0 = std::chrono::steady_clock::now();
    run_one(input);
    slowest_ms = std::max(slowest_ms,
                          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (pool.size() < 256) {
      pool.push_back(input);
    } else if (rng() % 4 == 0) {
      pool[static_cast<std::size_t>(rng() % pool.size())] = input;
    }
  }
  const double total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("manifest_fuzz_driver: %zu seeds + %zu mutations, seed %llu, %.1f s, slowest input %.1f ms: no finding\n",
              seeds.size(), runs, static_cast<unsigned long long>(seed), total_s, slowest_ms);
  return 0;
}
