// .npz archives through libzip: each entry is decoded by decode_npy(); sizes
// from the zip directory are checked against ReadOptions before allocating.
#include "aegisrt/io/npz.h"

#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <cstdio>
#include <new>

#include <cstring>
#include <memory>
#include <set>

#include "aegisrt/io/npy.h"
#include "aegisrt/core/file_util.h"
#include "io/npy_stream.h"

namespace aegisrt::io {

namespace {

constexpr std::uint64_t kHeaderAllowance = std::uint64_t{1} << 20;  // npy header on top of the data
// Deflate's best case is 1032:1 (258-byte matches at ~2 bits each); a larger
// claim cannot be real. The slack covers tiny entries and block overhead.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::uint64_t kDeflateSlack = 4096;

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

namespace {

/// The archive, read through `file`'s own descriptor (no second open by
/// name); `file_size` is the file's real size.
Result<ZipPtr> open_archive(const std::filesystem::path& path, const std::string& what, std::uint64_t& file_size) {
  // Refuses FIFOs, sockets, devices and dangling links without blocking; the
  // archive is then read through this very descriptor (no second open by name).
  AEGIS_ASSIGN_OR_RETURN(ReadableFile file, ReadableFile::open(path, "tensor file"));
  file_size = file.size();
  const int fd = ::dup(::fileno(file.stream()));
  std::FILE* stream = fd < 0 ? nullptr : ::fdopen(fd, "rb");
  if (stream == nullptr) {
    if (fd >= 0) ::close(fd);
    return Error(ErrorCode::IoError, "cannot read " + what + ": " + std::strerror(errno));
  }
  zip_error_t zerr;
  zip_error_init(&zerr);
  zip_source_t* src = zip_source_filep_create(stream, 0, -1, &zerr);  // owns `stream` from here
  if (src == nullptr) {
    std::fclose(stream);
    const std::string msg = zip_error_strerror(&zerr);
    zip_error_fini(&zerr);
    return Error(ErrorCode::IoError, "cannot read " + what + ": " + msg);
  }
  ZipPtr archive(zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr));
  if (!archive) {
    const int err = zip_error_code_zip(&zerr);
    zip_source_free(src);
    zip_error_fini(&zerr);
    const auto code = (err == ZIP_ER_OPEN || err == ZIP_ER_READ || err == ZIP_ER_MEMORY)
                          ? ErrorCode::IoError
                          : ErrorCode::Corrupt;
    return Error(code, what + " is not a readable .npz (zip) archive: " + zip_error_text(err));
  }
  zip_error_fini(&zerr);
  return archive;
}

/// Size claims of the zip directory for one entry, checked against the
/// file's real size and the read limit before anything is allocated.
Result<void> check_entry_sizes(const zip_stat_t& st, const std::string& ewhat, std::uint64_t file_size,
                               const ReadOptions& options) {
  // Size claims of the zip directory, checked against the file's real size
  // before anything is allocated: the compressed bytes must fit in the file,
  // a stored entry is as large as its compressed bytes, and deflate cannot
  // expand more than kMaxDeflateRatio to 1.
  if (st.comp_size > file_size) {
    return Error(ErrorCode::Corrupt, ewhat + ": the zip directory claims " + std::to_string(st.comp_size) +
                                         " compressed bytes, the whole file is " +
                                         std::to_string(file_size) + " bytes");
  }
  if (st.comp_method == ZIP_CM_STORE) {
    if (st.size != st.comp_size) {
      return Error(ErrorCode::Corrupt, ewhat + ": the zip directory claims " + std::to_string(st.size) +
                                           " bytes for a stored (uncompressed) entry of " +
                                           std::to_string(st.comp_size) + " bytes");
    }
  } else if (st.comp_method == ZIP_CM_DEFLATE) {
    if (st.size > st.comp_size * kMaxDeflateRatio + kDeflateSlack) {
      return Error(ErrorCode::Corrupt,
                   ewhat + ": the zip directory claims " + std::to_string(st.size) + " bytes from " +
                       std::to_string(st.comp_size) + " compressed bytes, more than deflate can produce");
    }
  } else {
    return Error(ErrorCode::Unsupported, ewhat + " uses compression method " +
                                             std::to_string(st.comp_method) +
                                             "; .npz entries must be stored or deflated (as numpy writes them)");
  }
  if (st.size > options.max_tensor_bytes + kHeaderAllowance) {
    return Error(ErrorCode::Unsupported, ewhat + " is " + std::to_string(st.size) +
                                             " bytes uncompressed, over the read limit of " +
                                             std::to_string(options.max_tensor_bytes) + " bytes");
  }
  return {};
}

/// One .npy entry decoded as it is inflated, its CRC checked.
Result<Tensor> read_entry(zip_t* archive, zip_uint64_t idx, const zip_stat_t& st, const std::string& ewhat,
                          const std::string& name, const ReadOptions& options) {
  std::unique_ptr<zip_file_t, ZipFileCloser> zf(zip_fopen_index(archive, idx, 0));
  if (!zf) {
    return Error(ErrorCode::Corrupt, ewhat + ": cannot open: " + archive_error(archive));
  }
  // The entry is decoded as it is inflated, straight into the tensor: the
  // .npy header's shape must account for exactly the entry's declared size
  // (checked before the data is allocated), and never more than that size
  // is inflated.
  const detail::NpyReadFn read = [&zf, &ewhat](std::span<std::byte> dst, const std::string& part) -> Result<void> {
    std::size_t got = 0;
    while (got < dst.size()) {
      const zip_int64_t n = zip_fread(zf.get(), dst.data() + got, dst.size() - got);
      if (n < 0) {
        return Error(ErrorCode::Corrupt,
                     ewhat + ": " + std::string(zip_error_strerror(zip_file_get_error(zf.get()))));
      }
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    if (got != dst.size()) {
      return Error(ErrorCode::Corrupt, ewhat + " is truncated: " + part + " needs " +
                                           std::to_string(dst.size()) + " bytes, only " +
                                           std::to_string(got) + " left");
    }
    return {};
  };
  AEGIS_ASSIGN_OR_RETURN(Tensor t, detail::read_npy_stream(st.size, read, ewhat, name, options));
  // Reading to the end makes libzip verify the CRC.
  std::byte extra{};
  if (zip_fread(zf.get(), &extra, 1) != 0) {
    return Error(ErrorCode::Corrupt, ewhat + ": data does not end where the directory says, or "
                                             "fails its CRC check");
  }
  return t;
}

/// Everything read_npz does, with `entry_what` tracking the entry being read
/// so an out-of-memory caught at the edge can name it.
Result<std::vector<Tensor>> read_npz_impl(const std::filesystem::path& path, const ReadOptions& options,
                                          std::string& entry_what) {
  const std::string what = quote_path(path);
  std::uint64_t file_size = 0;
  AEGIS_ASSIGN_OR_RETURN(ZipPtr archive, open_archive(path, what, file_size));
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  if (count < 0) return Error(ErrorCode::Corrupt, what + ": cannot list entries: " + archive_error(archive.get()));

  std::vector<Tensor> out;
  std::set<std::string> seen;
  for (zip_int64_t i = 0; i < count; ++i) {
    const auto idx = static_cast<zip_uint64_t>(i);
    entry_what = what + " entry " + std::to_string(i);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(archive.get(), idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE) ||
        !(st.valid & ZIP_STAT_COMP_METHOD)) {
      return Error(ErrorCode::Corrupt, what + ": cannot read entry " + std::to_string(i) + ": " +
                                           archive_error(archive.get()));
    }
    const std::string entry = st.name;
    if (!entry.empty() && entry.back() == '/') continue;  // directory entry
    const std::string ewhat = what + " entry '" + entry + "'";
    entry_what = ewhat;
    if (!ends_with_npy(entry)) {
      return Error(ErrorCode::Unsupported, ewhat + " is not a .npy file");
    }
    AEGIS_TRY(check_entry_sizes(st, ewhat, file_size, options));
    std::string name = entry.substr(0, entry.size() - 4);
    AEGIS_ASSIGN_OR_RETURN(Tensor t, read_entry(archive.get(), idx, st, ewhat, name, options));
    if (!seen.insert(name).second) {
      return Error(ErrorCode::Corrupt, what + " holds tensor '" + name + "' twice");
    }
    t.set_name(std::move(name));
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

Result<std::vector<Tensor>> read_npz(const std::filesystem::path& path, const ReadOptions& options) {
  std::string entry_what = quote_path(path);
  try {
    return read_npz_impl(path, options, entry_what);
  } catch (const std::bad_alloc&) {
    return detail::out_of_memory(entry_what);
  }
}

namespace {
Result<void> write_npz_impl(const std::filesystem::path& path, const std::vector<NamedTensorView>& tensors,
                            NpzCompression compression);
}  // namespace

Result<void> write_npz(const std::filesystem::path& path, const std::vector<NamedTensorView>& tensors,
                       NpzCompression compression) {
  try {
    return write_npz_impl(path, tensors, compression);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::IoError, "out of memory writing " + quote_path(path));
  }
}

namespace {
Result<void> write_npz_impl(const std::filesystem::path& path, const std::vector<NamedTensorView>& tensors,
                            NpzCompression compression) {
  const std::string what = "writing " + quote_path(path);
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
    return Error(ErrorCode::IoError, "cannot create " + quote_path(path) + ": " + zip_error_text(err));
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
}  // namespace

}  // namespace aegisrt::io
