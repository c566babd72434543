// 05-images/archive_files.cpp — tar in, tar out, for save, load and export
// (see archive_internal.hpp and archive.hpp).
//
// Lesson: lessons/05-images. Names inside an archive come from whoever made
// it: clean_archive_path() and resolve_archive_path() keep every one of them,
// links included, inside the archive.
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <sstream>
#include <vector>

#include "05-images/archive.hpp"
#include "05-images/archive_internal.hpp"
#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::images {

namespace detail {

namespace {

struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<archive_entry, EntryFree>;

void write_header(archive* out, const std::string& path, int64_t size, mode_t type, mode_t perm) {
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), path.c_str());
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_size(e.get(), size);
  archive_entry_set_mtime(e.get(), 0, 0);
  check_archive(out, archive_write_header(out, e.get()), "write " + path);
}

}  // namespace

ArchiveWriter open_tar_writer(int fd) {
  ArchiveWriter w(archive_write_new());
  if (!w) throw core::Error("libarchive: out of memory");
  archive_write_set_format_pax_restricted(w.get());
  // No padding to tar's 10 KiB blocks (Go's archive/tar adds none either):
  // a file and a pipe then get the same bytes.
  archive_write_set_bytes_in_last_block(w.get(), 1);
  check_archive(w.get(), archive_write_open_fd(w.get(), fd), "write archive");
  return w;
}

void write_file_header(archive* out, const std::string& path, int64_t size) {
  write_header(out, path, size, AE_IFREG, 0644);
}

void write_directory_header(archive* out, const std::string& path) {
  write_header(out, path, 0, AE_IFDIR, 0755);
}

void write_bytes(archive* out, std::string_view data, const std::string& what) {
  if (data.empty()) return;
  if (archive_write_data(out, data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
    throw core::Error("write " + what + ": " + archive_message(out));
}

void support_compression(archive* in) {
  archive_read_support_filter_gzip(in);
  archive_read_support_filter_bzip2(in);
  archive_read_support_filter_xz(in);
  archive_read_support_filter_zstd(in);
}

Decompressed::Decompressed(const stdfs::path& blob)
    : in_(archive_read_new()), what_("read layer " + blob.string()) {
  if (!in_) throw core::Error("libarchive: out of memory");
  support_compression(in_.get());
  // "raw": the decompressed stream as one entry, the bytes a diff_id names.
  archive_read_support_format_raw(in_.get());
  check_archive(in_.get(), archive_read_open_filename(in_.get(), blob.c_str(), 1 << 16), what_);
  archive_entry* entry;
  check_archive(in_.get(), archive_read_next_header(in_.get(), &entry), what_);
}

size_t Decompressed::read(char* buf, size_t size) {
  la_ssize_t n = archive_read_data(in_.get(), buf, size);
  if (n < 0) throw core::Error(what_ + ": " + archive_message(in_.get()));
  return static_cast<size_t>(n);
}

std::string layer_media_type_of(const stdfs::path& blob) {
  core::Fd fd(::open(blob.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw core::SystemError(errno, "open(" + blob.string() + ")");
  unsigned char head[4] = {};
  ssize_t n = ::read(fd.get(), head, sizeof head);
  if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) return oci::kLayerGzipType;
  if (n >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return oci::kLayerZstdType;
  return oci::kLayerTarType;
}

}  // namespace detail

std::optional<std::string> clean_archive_path(const std::string& path) {
  if (path.empty() || path[0] == '/') return std::nullopt;
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    parts.push_back(part);
  }
  if (parts.empty()) return std::nullopt;
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) out += "/" + parts[i];
  return out;
}

namespace {

// "a/b/c" → "a/b"; "c" → "".
std::string parent_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

// Resolves the symlinks among the first components of PATH, then PATH itself.
std::optional<std::string> resolve_once(const std::map<std::string, std::string>& symlinks,
                                        const std::map<std::string, std::string>& hardlinks,
                                        const std::string& path, bool& changed) {
  std::string done;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '/');) {
    std::string here = done.empty() ? part : done + "/" + part;
    if (auto s = symlinks.find(here); s != symlinks.end()) {
      changed = true;
      std::string target = s->second;
      if (!target.empty() && target[0] == '/') return std::nullopt;  // leaves the archive
      std::string joined = parent_of(here).empty() ? target : parent_of(here) + "/" + target;
      // ".." is resolved against the path so far, never above the root.
      std::vector<std::string> parts;
      std::stringstream j(joined);
      for (std::string p; std::getline(j, p, '/');) {
        if (p.empty() || p == ".") continue;
        if (p == "..") {
          if (parts.empty()) return std::nullopt;
          parts.pop_back();
        } else {
          parts.push_back(p);
        }
      }
      here.clear();
      for (const auto& p : parts) here += (here.empty() ? "" : "/") + p;
    } else if (auto h = hardlinks.find(here); h != hardlinks.end()) {
      changed = true;
      here = h->second;
    }
    done = here;
  }
  return clean_archive_path(done);
}

}  // namespace

std::optional<std::string> resolve_archive_path(const std::map<std::string, std::string>& symlinks,
                                                const std::map<std::string, std::string>& hardlinks,
                                                const std::string& path) {
  auto current = clean_archive_path(path);
  for (int hops = 0; current && hops < 40; ++hops) {
    bool changed = false;
    auto next = resolve_once(symlinks, hardlinks, *current, changed);
    if (!changed) return next;
    current = next;
  }
  return std::nullopt;  // gone outside, or a loop
}

}  // namespace skiff::images
