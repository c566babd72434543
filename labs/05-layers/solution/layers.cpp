// labs/05-layers/solution/layers.cpp — the reference solution.
#include "layers.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <system_error>

namespace lab {

std::string clean_path(std::string_view name) {
  std::string out;
  while (!name.empty()) {
    const auto slash = name.find('/');
    const std::string_view part = name.substr(0, slash);
    name = slash == std::string_view::npos ? std::string_view{} : name.substr(slash + 1);
    if (part.empty() || part == ".") continue;  // a leading "/" ends here too
    if (part == "..") refuse("its path climbs with \"..\"");
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

void refuse_symlinks_on_the_way(const stdfs::path& rootfs, const std::string& rel) {
  // Every component but the last: a directory we would go through.
  stdfs::path path = rootfs, done;
  const stdfs::path components = rel;
  for (auto it = components.begin(); it != components.end() && std::next(it) != components.end(); ++it) {
    path /= *it;
    done /= *it;
    // symlink_status: lstat(2), the link itself. A missing path is no error.
    if (stdfs::is_symlink(stdfs::symlink_status(path)))
      refuse("it goes through the symlink \"" + done.string() + "\"");
  }
}

void apply_whiteout(const stdfs::path& rootfs, const std::string& rel) {
  refuse_symlinks_on_the_way(rootfs, rel);
  const stdfs::path dir = rootfs / stdfs::path(rel).parent_path();
  const std::string base = stdfs::path(rel).filename();
  if (base == kOpaqueMarker) {
    // DIR itself stays (with its mode and owner); only what is in it goes.
    if (!stdfs::is_directory(stdfs::symlink_status(dir))) return;
    for (const auto& child : stdfs::directory_iterator(dir)) stdfs::remove_all(child.path());
    return;
  }
  if (base.starts_with(".wh..wh.")) return;  // AUFS' bookkeeping: nothing to do
  const std::string name = base.substr(kWhiteoutPrefix.size());
  if (name.empty() || name == "." || name == "..") refuse("a whiteout of \"" + name + "\" is not a name");
  // remove_all works on the link, not its target (symlink_status).
  stdfs::remove_all(dir / name);
}

namespace {

// What the disk writer restores: permission bits (else the umask applies),
// owners (numbers as in the tar: no name is looked up in the host's
// /etc/passwd; only root can), modification times. No ARCHIVE_EXTRACT_SECURE_*:
// the checks of this file are the wall, so that each one is seen at work
// (runtime/05-images/layer.cpp adds libarchive's as a second wall).
constexpr int kFlags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME;

// The hard link's target, made a path inside ROOTFS: a regular file that an
// earlier entry unpacked, reached without a symlink.
std::string hard_link_target(const stdfs::path& rootfs, const char* target) {
  const std::string rel = clean_path(target);
  refuse_symlinks_on_the_way(rootfs, rel);
  struct stat st {};
  if (rel.empty() || ::lstat((rootfs / rel).c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    refuse("a hard link to \"" + std::string(target) + "\", not a file of the root");
  return rootfs / rel;
}

void unpack(archive* in, archive* out, archive_entry* entry, const stdfs::path& rootfs) {
  const std::string rel = clean_path(archive_entry_pathname(entry));
  if (rel.empty() || is_whiteout(rel)) return;  // the root; the whiteouts went first
  refuse_symlinks_on_the_way(rootfs, rel);
  const stdfs::path dest = rootfs / rel;
  // A symlink already at DEST is replaced, never followed (a directory
  // entry would otherwise chmod and chown the link's target).
  if (stdfs::is_symlink(stdfs::symlink_status(dest)) && ::unlink(dest.c_str()) != 0)
    throw std::system_error(errno, std::generic_category(), "unlink " + dest.string());
  if (const char* target = archive_entry_hardlink(entry))
    archive_entry_copy_hardlink(entry, hard_link_target(rootfs, target).c_str());
  archive_entry_copy_pathname(entry, dest.c_str());
  check_archive(out, archive_write_header(out, entry), "create " + dest.string());
  if (archive_entry_size(entry) > 0) copy_data(in, out);
  check_archive(out, archive_write_finish_entry(out), "finish " + dest.string());
}

}  // namespace

void apply_layer(const stdfs::path& layer_tar, const stdfs::path& rootfs_arg) {
  // Our own checks lstat every component from ROOTFS down: ROOTFS itself
  // must be a real path (canonical resolves the symlinks in the caller's path).
  const stdfs::path rootfs = stdfs::canonical(rootfs_arg);
  // Pass 1: the whiteouts, against the lower layers only. Done first, a
  // marker cannot delete what this layer adds, wherever it sits in the tar.
  for_each_entry(layer_tar, [&](archive*, archive_entry* entry) {
    const std::string rel = clean_path(archive_entry_pathname(entry));
    if (is_whiteout(rel)) apply_whiteout(rootfs, rel);
  });
  // Pass 2: everything else, in the tar's order.
  DiskWriter out = open_disk_writer(kFlags);
  for_each_entry(layer_tar, [&](archive* in, archive_entry* entry) { unpack(in, out.get(), entry, rootfs); });
  check_archive(out.get(), archive_write_close(out.get()), "close");
}

}  // namespace lab
