// Helpers for the io tests: a per-test temporary folder and hand-made .npy bytes.
#pragma once

#include <gtest/gtest.h>
#include "aegisrt/core/file_util.h"
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/temp_dir.h"

namespace aegisrt::testing {

// The per-test temporary folder: TempDir (common/temp_dir.h).

inline void write_bytes(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<std::byte> read_bytes(const std::filesystem::path& p) {
  auto r = aegisrt::read_file(p, "test file", std::uint64_t{1} << 32);
  std::vector<char> c;
  if (r.ok()) c.assign(r->begin(), r->end());
  std::vector<std::byte> out(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) out[i] = static_cast<std::byte>(c[i]);
  return out;
}

/// A .npy file with the given header dict text (padded like numpy) and data bytes.
inline std::vector<std::byte> make_npy(const std::string& dict, std::size_t data_bytes, int major = 1,
                                       std::byte fill = std::byte{0}) {
  std::string header = dict;
  const std::size_t pre = major == 1 ? 10 : 12;
  while ((pre + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<std::byte> out;
  const unsigned char magic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  for (auto m : magic) out.push_back(static_cast<std::byte>(m));
  out.push_back(static_cast<std::byte>(major));
  out.push_back(std::byte{0});
  const std::size_t len = header.size();
  const std::size_t len_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < len_bytes; ++i) out.push_back(static_cast<std::byte>((len >> (8 * i)) & 0xFF));
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  out.insert(out.end(), data_bytes, fill);
  return out;
}

}  // namespace aegisrt::testing
