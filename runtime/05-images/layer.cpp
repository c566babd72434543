// 05-images/layer.cpp — unpacking layers (see layer.hpp).
//
// Lesson: lessons/05-images ("a layer is a tarball"). A layer comes from the
// network, so unpacking it is where an image could attack the host: every
// path is forced under the layer's directory, ".." and writes through
// symlinks are refused, and file owners are taken as numbers, never looked
// up in the host's /etc/passwd.
#include "05-images/layer.hpp"

#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "05-images/archive_owner.hpp"
#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images {

namespace {

// What archive_write_disk may do. NOABSOLUTEPATHS is left out on purpose:
// place_under() turns every name into DEST/name, an absolute path, which that
// flag would refuse; keeping names inside DEST is exactly what the rewrite
// does. NODOTDOT and SYMLINKS still check the rewritten paths. No
// archive_write_disk_set_standard_lookup(): owners stay numeric, because the
// names in a layer belong to the image's /etc/passwd, not the host's.
constexpr int kExtractFlags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                              ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                              ARCHIVE_EXTRACT_XATTR;

ArchiveReader open_reader(const stdfs::path& tarball, bool raw) {
  ArchiveReader in(archive_read_new());
  if (!in) throw core::Error("libarchive: out of memory");
  archive_read_support_filter_gzip(in.get());
  // A layer is a tar; "raw" instead reads the decompressed stream as one
  // blob, which is how the diff_id (sha256 of the tar itself) is computed.
  if (raw) archive_read_support_format_raw(in.get());
  else archive_read_support_format_tar(in.get());
  check_archive(in.get(), archive_read_open_filename(in.get(), tarball.c_str(), 1 << 16),
                "open layer " + tarball.string());
  return in;
}

// Rewrites NAME (and a hard link's target) to live under ROOT.
void place_under(archive_entry* entry, const std::string& root) {
  archive_entry_copy_pathname(entry, (root + "/" + archive_entry_pathname(entry)).c_str());
  if (const char* link = archive_entry_hardlink(entry))
    archive_entry_copy_hardlink(entry, (root + "/" + link).c_str());
}

void copy_data(archive* in, archive* out, const std::string& what) {
  const void* block;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(in, &block, &size, &offset);
    if (r == ARCHIVE_EOF) return;
    check_archive(in, r, "read " + what);
    check_archive(out, static_cast<int>(archive_write_data_block(out, block, size, offset)),
                  "write " + what);
  }
}

void extract_entry(archive* in, archive* out, archive_entry* entry, const std::string& root) {
  std::string name = archive_entry_pathname(entry);
  // Whiteouts plug in here (a later issue): an entry named ".wh.NAME" means
  // "NAME was deleted in this layer" and must become an overlayfs whiteout
  // (a 0/0 character device), ".wh..wh..opq" an opaque directory. Hostile
  // layers (device nodes, setuid files, huge entries) are vetted here too.
  place_under(entry, root);
  check_archive(out, archive_write_header(out, entry), "unpack " + name);
  if (archive_entry_size(entry) > 0) copy_data(in, out, name);
  check_archive(out, archive_write_finish_entry(out), "unpack " + name);
}

}  // namespace

void unpack_layer(const stdfs::path& tarball, const stdfs::path& dest) {
  // SECURE_SYMLINKS checks every component of the path it is given; DEST
  // itself must therefore be free of symlinks (/var → /mnt/var would
  // otherwise refuse the whole layer): canonical() resolves them.
  const std::string root = stdfs::canonical(dest).string();
  ArchiveReader in = open_reader(tarball, /*raw=*/false);
  ArchiveWriter out(archive_write_disk_new());
  if (!out) throw core::Error("libarchive: out of memory");
  archive_write_disk_set_options(out.get(), kExtractFlags);
  const std::string what = "unpack layer " + tarball.string();
  archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    check_archive(in.get(), r, what);
    try {
      extract_entry(in.get(), out.get(), entry, root);
    } catch (...) {
      core::rethrow_with_context(what);
    }
  }
  // Directory modes and times are set last (a 0555 directory must stay
  // writable until its files are in): archive_write_close applies them.
  check_archive(out.get(), archive_write_close(out.get()), what);
}

DiffId uncompressed_digest(const stdfs::path& tarball) {
  ArchiveReader in = open_reader(tarball, /*raw=*/true);
  archive_entry* entry;
  check_archive(in.get(), archive_read_next_header(in.get(), &entry), "read " + tarball.string());
  oci::Sha256 hash;
  DiffId out;
  static thread_local char buf[1 << 16];
  for (;;) {
    la_ssize_t n = archive_read_data(in.get(), buf, sizeof buf);
    if (n < 0) throw core::Error("read " + tarball.string() + ": " + archive_message(in.get()));
    if (n == 0) break;
    hash.update(std::string_view(buf, static_cast<size_t>(n)));
    out.size += n;
  }
  out.digest = "sha256:" + hash.hex();
  return out;
}

stdfs::path unpacked_layer_dir(const stdfs::path& images_dir, std::string_view diff_id) {
  return images_dir / "layers" / oci::digest_hex(diff_id);
}

namespace {

stdfs::path size_file(const stdfs::path& images_dir, std::string_view diff_id) {
  auto path = unpacked_layer_dir(images_dir, diff_id);
  path += ".size";
  return path;
}

// A process killed while unpacking leaves LAYER.tmp-PID behind. Only the
// lock holder unpacks, so any temporary seen while holding it is stale.
void remove_stale_temporaries(const stdfs::path& layers) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(layers, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      stdfs::remove_all(e.path(), ec);
}

}  // namespace

int64_t unpacked_layer_size(const stdfs::path& images_dir, std::string_view diff_id) {
  auto text = core::fs::read_file_if_exists(size_file(images_dir, diff_id));
  if (!text) return 0;  // a layer unpacked by another tool: size unknown
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return 0;
  }
}

stdfs::path install_layer(const stdfs::path& images_dir, const stdfs::path& blob,
                          std::string_view diff_id) {
  auto dir = unpacked_layer_dir(images_dir, diff_id);
  if (stdfs::exists(dir)) return dir;
  remove_stale_temporaries(dir.parent_path());
  DiffId sum = uncompressed_digest(blob);
  if (sum.digest != diff_id)
    throw core::Error("layer " + blob.string() + " does not match its diff_id " +
                      std::string(diff_id) + " (got " + sum.digest + ")");
  auto tmp = dir;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    core::fs::make_dirs(tmp);
    unpack_layer(blob, tmp);
    core::fs::write_file_atomic(size_file(images_dir, diff_id), std::to_string(sum.size));
    // The rename is the commit: before it there is no layer, after it a whole one.
    if (::rename(tmp.c_str(), dir.c_str()) < 0)
      throw core::SystemError(errno, "rename(" + tmp.string() + " → " + dir.string() + ")");
  } catch (...) {
    std::error_code ec;
    stdfs::remove_all(tmp, ec);
    throw;
  }
  return dir;
}

}  // namespace skiff::images
