// 05-images/layer.hpp — layers: tarballs of files, unpacked once, shared by all.
//
// Concept: a layer is a tar archive of the files one build step added or
//   changed. Its blob is usually gzip-compressed and named by the sha256 of
//   the compressed bytes (the digest); the image config names it by the
//   sha256 of the uncompressed tar (the diff_id), which does not change when
//   a registry recompresses it. skiff unpacks each layer once, under
//   layers/<diff_id hex>/, and overlayfs stacks those directories.
// Man pages: tar(5), libarchive(3), archive_write_disk(3).
// Runs in: the CLI, before anything is cloned.
// Privilege: root to keep the files' owners; as another user every file
//   becomes that user's (fine for tests).
// Lesson: lessons/05-images.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::images {

namespace stdfs = std::filesystem;

// ---- deletions inside a layer (image-spec layer.md, "Whiteouts") -----------
//
// A tar can only add files, so a layer says "NAME was deleted" with an empty
// entry ".wh.NAME" beside it, and "everything this directory held below me is
// gone" with ".wh..wh..opq" inside it. overlayfs says the same things its own
// way: a character device 0/0 named NAME, and the xattr
// trusted.overlay.opaque="y" on the directory. Unpacking turns the first form
// into the second (so unpacked layers stack as overlay lower dirs); commit
// (diff.hpp) turns a container's upper dir back into the first.
inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
inline constexpr const char* kOverlayOpaqueXattr = "trusted.overlay.opaque";
// overlayfs keeps its own bookkeeping in this xattr namespace (opaque,
// redirect, origin, metacopy): never taken from a layer, never put in one.
inline constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

// Unpacks TARBALL (a tar, plain or compressed: gzip, zstd…) into the existing
// directory DEST. Every entry is placed under DEST ("/etc/passwd" and
// "etc/passwd" both land in DEST/etc/passwd). Whiteouts become overlayfs
// whiteouts. Refused, with core::Error("unpack layer TARBALL: refused entry
// …"), and nothing written outside DEST: a path with "..", a write through a
// symlink ("link -> /etc" then "link/passwd"), a hard link to what is not in
// the layer, a whiteout that names "." or "..". Owners, modes, times and
// xattrs are kept, except trusted.overlay.* (see above).
void unpack_layer(const stdfs::path& tarball, const stdfs::path& dest);

// A layer's diff_id ("sha256:…" of the uncompressed tar) and that tar's size.
struct DiffId {
  std::string digest;
  int64_t size = 0;
};
DiffId uncompressed_digest(const stdfs::path& tarball);

// ---- the unpacked layers of a store: IMAGES_DIR/layers/ ----------------------

stdfs::path unpacked_layer_dir(const stdfs::path& images_dir, std::string_view diff_id);
// Bytes of the layer's uncompressed tar, recorded when it was unpacked.
int64_t unpacked_layer_size(const stdfs::path& images_dir, std::string_view diff_id);
// Makes layers/<diff_id hex>/ from the verified blob BLOB if it is missing:
// checks BLOB's uncompressed digest against DIFF_ID, unpacks into a temporary
// directory, then renames it into place, so the layer directory is either
// complete or absent. The caller holds the store lock.
stdfs::path install_layer(const stdfs::path& images_dir, const stdfs::path& blob,
                          std::string_view diff_id);
// The same for a layer skiff has just written itself (commit), whose diff_id
// and size are already known: the blob is not hashed a second time.
stdfs::path install_own_layer(const stdfs::path& images_dir, const stdfs::path& blob,
                              const DiffId& diff);

// ---- writing layers (tar_writer.cpp) -----------------------------------------

struct TarEntry {
  enum class Kind { kDirectory, kFile, kHardLink, kSymlink };
  Kind kind = Kind::kFile;
  std::string path;      // relative: "bin/sh"
  mode_t perm = 0644;    // permission bits, including sticky/setuid
  std::string content;   // kFile (and, unusually, kHardLink)
  std::string target;    // kHardLink: the path it links to; kSymlink: its target
  int64_t mtime = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::map<std::string, std::string> xattrs;  // name → value, e.g. "user.origin"

  static TarEntry directory(std::string path, mode_t perm);
  static TarEntry file(std::string path, std::string content, mode_t perm);
  // PERM repeats the target's mode: a hard link is the same inode.
  static TarEntry hard_link(std::string path, std::string target, mode_t perm);
  static TarEntry symlink(std::string path, std::string target);
};

// The entries, in the given order, as one uncompressed tar (POSIX pax).
// Identical entries give identical bytes.
std::string write_tar(const std::vector<TarEntry>& entries);
// gzip without a timestamp or file name in its header, so that identical
// input gives an identical blob and therefore an identical digest.
std::string gzip_deterministic(std::string_view data);
// zstd, the other compression OCI names for layers ("+zstd"): for tests and
// for anyone who wants smaller layers than gzip at a fraction of its time.
std::string zstd_compress(std::string_view data);

}  // namespace skiff::images
