// labs/05-layers/fixed/given.cpp — the helpers of layers.hpp.
#include <stdexcept>

#include "layers.hpp"

namespace lab {

namespace {

struct ReaderFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

void refuse(const std::string& why) { throw std::runtime_error("refused: " + why); }

bool is_whiteout(const std::string& rel) {
  return stdfs::path(rel).filename().string().starts_with(kWhiteoutPrefix);
}

void check_archive(archive* a, la_ssize_t rc, const std::string& what) {
  if (rc >= ARCHIVE_WARN) return;
  const char* why = archive_error_string(a);
  throw std::runtime_error(what + ": " + (why != nullptr ? why : "libarchive error"));
}

void for_each_entry(const stdfs::path& layer_tar,
                    const std::function<void(archive* in, archive_entry* entry)>& fn) {
  std::unique_ptr<archive, ReaderFree> in(archive_read_new());
  if (!in) throw std::runtime_error("libarchive: out of memory");
  archive_read_support_filter_all(in.get());  // gzip, zstd, …: OCI layers may be compressed
  archive_read_support_format_tar(in.get());
  check_archive(in.get(), archive_read_open_filename(in.get(), layer_tar.c_str(), 1 << 16),
                "open " + layer_tar.string());
  for (;;) {
    archive_entry* entry = nullptr;
    const int rc = archive_read_next_header(in.get(), &entry);
    if (rc == ARCHIVE_EOF) return;
    check_archive(in.get(), rc, "read " + layer_tar.string());
    const std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    try {
      fn(in.get(), entry);
    } catch (const std::exception& e) {
      throw std::runtime_error("entry \"" + name + "\": " + e.what());
    }
  }
}

DiskWriter open_disk_writer(int flags) {
  DiskWriter out(archive_write_disk_new());
  if (!out) throw std::runtime_error("libarchive: out of memory");
  check_archive(out.get(), archive_write_disk_set_options(out.get(), flags), "set the extract flags");
  return out;
}

void copy_data(archive* in, archive* out) {
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  for (;;) {
    const int rc = archive_read_data_block(in, &block, &size, &offset);
    if (rc == ARCHIVE_EOF) return;
    check_archive(in, rc, "read the data");
    check_archive(out, archive_write_data_block(out, block, size, offset), "write the data");
  }
}

}  // namespace lab
