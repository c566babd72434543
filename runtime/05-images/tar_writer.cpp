// 05-images/tar_writer.cpp — writing layers skiff makes itself (see layer.hpp).
//
// Lesson: lessons/05-images ("reproducible layers"). A digest names bytes, so
// the same files must always give the same bytes: the caller fixes times,
// owners and order, and gzip is told to leave its timestamp out. Then two
// machines with the same busybox binary build the same image id.
// Runs in: the CLI. Privilege: none (everything is written to memory).
#include <archive_entry.h>

#include <memory>
#include <utility>

#include "05-images/archive_owner.hpp"
#include "05-images/layer.hpp"

namespace skiff::images {

namespace {

struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<archive_entry, EntryFree>;

la_ssize_t append_to_string(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// A writer whose output goes to OUT, not padded to tar's 10 KiB blocks:
// gzip followed by zero padding is not a valid gzip stream for every reader.
ArchiveWriter open_memory_writer() {
  ArchiveWriter w(archive_write_new());
  if (!w) throw core::Error("libarchive: out of memory");
  archive_write_set_bytes_in_last_block(w.get(), 1);
  return w;
}

void open_writer(archive* w, std::string& out) {
  check_archive(w, archive_write_open(w, &out, nullptr, append_to_string, nullptr),
                "write archive");
}

Entry make_entry(const TarEntry& t) {
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), t.path.c_str());
  archive_entry_set_perm(e.get(), t.perm);
  archive_entry_set_uid(e.get(), t.uid);
  archive_entry_set_gid(e.get(), t.gid);
  archive_entry_set_mtime(e.get(), t.mtime, 0);
  for (const auto& [name, value] : t.xattrs)
    archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
  switch (t.kind) {
    case TarEntry::Kind::kDirectory:
      archive_entry_set_filetype(e.get(), AE_IFDIR);
      break;
    case TarEntry::Kind::kFile:
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(t.content.size()));
      break;
    case TarEntry::Kind::kHardLink:  // a regular file whose data is another entry's
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_hardlink(e.get(), t.target.c_str());
      // Normally none; tar allows data here, and hostile layers use it.
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(t.content.size()));
      break;
    case TarEntry::Kind::kSymlink:
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_symlink(e.get(), t.target.c_str());
      break;
  }
  return e;
}

void write_entry(archive* w, const TarEntry& t) {
  Entry e = make_entry(t);
  check_archive(w, archive_write_header(w, e.get()), "write tar entry " + t.path);
  if (t.kind != TarEntry::Kind::kDirectory && t.kind != TarEntry::Kind::kSymlink &&
      !t.content.empty()) {
    auto n = archive_write_data(w, t.content.data(), t.content.size());
    if (n != static_cast<la_ssize_t>(t.content.size()))
      throw core::Error("write tar entry " + t.path + ": " + archive_message(w));
  }
}

}  // namespace

TarEntry TarEntry::directory(std::string path, mode_t perm) {
  TarEntry e;
  e.kind = Kind::kDirectory;
  e.path = std::move(path);
  e.perm = perm;
  return e;
}

TarEntry TarEntry::file(std::string path, std::string content, mode_t perm) {
  TarEntry e;
  e.path = std::move(path);
  e.content = std::move(content);
  e.perm = perm;
  return e;
}

TarEntry TarEntry::hard_link(std::string path, std::string target, mode_t perm) {
  TarEntry e;
  e.kind = Kind::kHardLink;
  e.path = std::move(path);
  e.target = std::move(target);
  e.perm = perm;
  return e;
}

TarEntry TarEntry::symlink(std::string path, std::string target) {
  TarEntry e;
  e.kind = Kind::kSymlink;
  e.path = std::move(path);
  e.target = std::move(target);
  e.perm = 0777;
  return e;
}

std::string write_tar(const std::vector<TarEntry>& entries) {
  std::string out;
  ArchiveWriter w = open_memory_writer();
  // "restricted" pax writes plain ustar headers and adds pax extensions only
  // for what ustar cannot say: no atime/ctime records to break determinism.
  archive_write_set_format_pax_restricted(w.get());
  open_writer(w.get(), out);
  for (const auto& t : entries) write_entry(w.get(), t);
  check_archive(w.get(), archive_write_close(w.get()), "write tar");
  return out;
}

namespace {

// DATA through one compression filter, with no archive around it: the
// "raw" format writes one entry's bytes and nothing else.
std::string compress(std::string_view data, int (*add_filter)(archive*), const char* options,
                     const std::string& what) {
  std::string out;
  ArchiveWriter w = open_memory_writer();
  archive_write_set_format_raw(w.get());
  check_archive(w.get(), add_filter(w.get()), what);
  if (options != nullptr) check_archive(w.get(), archive_write_set_options(w.get(), options), what);
  open_writer(w.get(), out);
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), "layer.tar");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
  check_archive(w.get(), archive_write_header(w.get(), e.get()), what);
  if (archive_write_data(w.get(), data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
    throw core::Error(what + ": " + archive_message(w.get()));
  check_archive(w.get(), archive_write_close(w.get()), what);
  return out;
}

}  // namespace

std::string gzip_deterministic(std::string_view data) {
  return compress(data, archive_write_add_filter_gzip, "gzip:!timestamp", "gzip");
}

std::string zstd_compress(std::string_view data) {
  return compress(data, archive_write_add_filter_zstd, nullptr, "zstd");
}

}  // namespace skiff::images
