// .npz archives through libzip: each entry is decoded by decode_npy(); sizes
// from the zip directory are checked against ReadOptions before allocating.
#include "aegisrt/io/npz.h"

#include <zip.h>

#include <cstring>
#include <memory>
#include <set>

#include "aegisrt/io/npy.h"
#include "io/file_util.h"

namespace aegisrt::io {

namespace {

constexpr std::uint64_t kHeaderAllowance = std::uint64_t{1} << 20;  // npy header on top of the data

struct ZipCloser {
  void operator()(zip_t* z) const noexcept { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

struct ZipFileCloser {
  void operator()(zip_file_t* f) const noexcept { zip_fclose(f); }
};

std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string s = zip_error_strerror(&err);
  zip_error_fini(&err);
  return s;
}

std::string archive_error(zip_t* z) {
  const char* s = zip_strerror(z);
  return s ? s : "unknown libzip error";
}

bool ends_with_npy(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0;
}

}  // namespace

Result<std::vector<Tensor>> read_npz(const std::filesystem::path& path, const ReadOptions& options) {
  const std::string what = detail::quoted(path);
  {
    AEGIS_ASSIGN_OR_RETURN(auto probe, detail::InputFile::open(path));  // NotFound / IoError
    (void)probe;
  }
  int err = 0;
  ZipPtr archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!archive) {
    const auto code = (err == ZIP_ER_OPEN || err == ZIP_ER_READ || err == ZIP_ER_MEMORY)
                          ? ErrorCode::IoError
                          : ErrorCode::Corrupt;
    return Error(code, what + " is not a readable .npz (zip) archive: " + zip_error_text(err));
  }
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count < 0) return Error(ErrorCode::Corrupt, what + ": cannot list entries: " + archive_error(archive.get()));

  std::vector<Tensor> out;
  std::set<std::string> seen;
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto idx = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE)) {
      return Error(ErrorCode::Corrupt, what + ": cannot read entry " + std::to_string(i) + ": " +
                                           archive_error(archive.get()));
    }
    const std::string entry = st.name;
    if (!entry.empty() && entry.back() == '/') continue;  // directory entry
    const std::string ewhat = what + " entry '" + entry + "'";
    if (!ends_with_npy(entry)) {
      return Error(ErrorCode::Unsupported, ewhat + " is not a .npy file");
    }
    if ((st.valid & ZIP_STAT_COMP_METHOD) &&
        !zip_compression_method_supported(static_cast<zip_int32_t>(st.comp_method), 0)) {
      return Error(ErrorCode::Unsupported, ewhat + " uses compression method " +
                                               std::to_string(st.comp_method) +
                                               ", which this libzip cannot decompress");
    }
    if (st.size > options.max_tensor_bytes + kHeaderAllowance) {
      return Error(ErrorCode::Unsupported, ewhat + " is " + std::to_string(st.size) +
                                               " bytes uncompressed, over the read limit of " +
                                               std::to_string(options.max_tensor_bytes) + " bytes");
    }
    std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive.get(), idx, 0));
    if (!file) {
      return Error(ErrorCode::Corrupt, ewhat + ": cannot open: " + archive_error(archive.get()));
    }
    std::vector<std::byte> bytes(static_cast<std::size_t>(st.size));
    std::size_t got = 0;
    while (got < bytes.size()) {
      const zip_int64_t n = zip_fread(file.get(), bytes.data() + got, bytes.size() - got);
      if (n < 0) {
        return Error(ErrorCode::Corrupt,
                     ewhat + ": " + std::string(zip_error_strerror(zip_file_get_error(file.get()))));
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got != bytes.size()) {
      return Error(ErrorCode::Corrupt, ewhat + " is truncated: " + std::to_string(got) + " of " +
                                           std::to_string(bytes.size()) + " bytes");
    }
    // Reading to the end makes libzip verify the CRC.
    std::byte extra{};
    if (zip_fread(file.get(), &extra, 1) != 0) {
      return Error(ErrorCode::Corrupt, ewhat + ": data does not end where the directory says, or "
                                               "fails its CRC check");
    }
    AEGIS_ASSIGN_OR_RETURN(Tensor t, decode_npy(bytes, ewhat, options));
    std::string name = entry.substr(0, entry.size() - 4);
    if (!seen.insert(name).second) {
      return Error(ErrorCode::Corrupt, what + " holds tensor '" + name + "' twice");
    }
    t.set_name(std::move(name));
    out.push_back(std::move(t));
  }
  return out;
}

Result<void> write_npz(const std::filesystem::path& path, const std::vector<NamedTensorView>& tensors,
                       NpzCompression compression) {
  const std::string what = "writing " + detail::quoted(path);
  if (tensors.empty()) {
    // libzip deletes an archive without entries on close; say so rather than write nothing.
    return Error(ErrorCode::InvalidArgument, "no tensors to write", what);
  }
  std::set<std::string> names;
  std::vector<std::vector<std::byte>> encoded;  // must outlive zip_close
  encoded.reserve(tensors.size());
  for (const auto& t : tensors) {
    if (t.name.empty()) return Error(ErrorCode::InvalidArgument, "every .npz entry needs a name", what);
    if (!names.insert(t.name).second) {
      return Error(ErrorCode::InvalidArgument, "tensor name '" + t.name + "' given twice", what);
    }
    auto bytes = encode_npy(t.view);
    if (!bytes.ok()) return std::move(bytes).error().with_context(what + ", entry '" + t.name + "'");
    encoded.push_back(std::move(bytes).value());
  }
  int err = 0;
  ZipPtr archive(zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err));
  if (!archive) {
    return Error(ErrorCode::IoError, "cannot create " + detail::quoted(path) + ": " + zip_error_text(err));
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& data = encoded[i];
    zip_source_t* src = zip_source_buffer(archive.get(), data.data(), data.size(), 0);
    if (src == nullptr) return Error(ErrorCode::Internal, archive_error(archive.get()), what);
    const std::string entry = tensors[i].name + ".npy";
    const zip_int64_t idx = zip_file_add(archive.get(), entry.c_str(), src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      return Error(ErrorCode::IoError, "cannot add '" + entry + "': " + archive_error(archive.get()), what);
    }
    const zip_int32_t method = compression == NpzCompression::Deflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
    if (zip_set_file_compression(archive.get(), static_cast<zip_uint64_t>(idx), method, 0) != 0) {
      return Error(ErrorCode::Unsupported, "cannot set compression for '" + entry + "': " +
                                               archive_error(archive.get()), what);
    }
  }
  // libzip writes to a temporary file and renames it on close (atomic publish).
  if (zip_close(archive.get()) != 0) {
    return Error(ErrorCode::IoError, archive_error(archive.get()), what);
  }
  (void)archive.release();  // closed successfully: nothing left to discard
  return {};
}

}  // namespace aegisrt::io
