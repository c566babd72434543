// labs/05-layers/fixed/layers.hpp — the four functions you write in
// layers.cpp, and the helpers given to you. Do not change this file: the
// grader compiles its own copy.
//
// An image is a stack of layers, each a tar archive. apply_layer() is called
// once per layer, the bottom one first, on the same ROOTFS: at the end ROOTFS
// holds the image flattened into one directory (what `docker export` gives
// for a fresh container, and what an engine without overlayfs unpacks).
//
//   a later layer's entry replaces what lower layers had at that path;
//   "DIR/.wh.NAME"      deletes DIR/NAME (file or whole tree) of the lower layers;
//   "DIR/.wh..wh..opq"  makes DIR opaque: what lower layers put in DIR is
//                       gone, what this layer puts there stays.
//
// A layer is untrusted input. Whatever its entries say, nothing outside
// ROOTFS may be created, changed or deleted: a hostile entry is refused with
// an exception (refuse()), which stops the call. Names that start with "/"
// are not hostile: they are placed under ROOTFS ("/etc/x" is ROOTFS/etc/x).
//
// Man pages: tar(5) (libarchive-formats(5)), archive_read(3),
// archive_write_disk(3), archive_entry(3), symlink(7), path_resolution(7).
// The whiteouts: the OCI image spec, image-layer.md ("Whiteouts").
// Lesson: lessons/05-images. skiff's own version, which makes overlayfs
// whiteouts instead of deleting: runtime/05-images/layer.cpp — read it
// *after* the lab.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace lab {

namespace stdfs = std::filesystem;

// The two whiteout names of the OCI image spec (the first one is a prefix).
inline constexpr std::string_view kWhiteoutPrefix = ".wh.";
inline constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

// Part 1 (pure: touches no file). NAME, an entry's path as written in the
// tar, as a clean path relative to the root: no leading "/", no "." and no
// empty components. "./etc//passwd" → "etc/passwd", "/bin/sh" → "bin/sh",
// "./" → "" (the root itself). A ".." anywhere is refused: no honest layer
// needs one, and resolving it right would mean knowing which components
// are symlinks.
std::string clean_path(std::string_view name);

// Part 2. REL (a clean path) must be reached inside ROOTFS without following
// a symlink: refuse() when ROOTFS/a, ROOTFS/a/b, … (every component but the
// last) is a symlink. "lib/x" with lib → /usr/lib would write the host's
// /usr/lib/x. The last component may be a symlink: it will be replaced
// (or deleted), never followed. A missing component is fine: it will be
// made as a directory.
void refuse_symlinks_on_the_way(const stdfs::path& rootfs, const std::string& rel);

// Part 3. REL is a whiteout (is_whiteout(REL)): apply it to ROOTFS.
//   "DIR/.wh..wh..opq"  delete everything inside ROOTFS/DIR (DIR stays);
//   "DIR/.wh.NAME"      delete ROOTFS/DIR/NAME, a whole tree if a directory;
//                       a symlink is deleted, never followed. NAME must be a
//                       name: "", "." and ".." are refused;
//   ".wh..wh.OTHER"     (AUFS' bookkeeping, e.g. .wh..wh.plnk) nothing.
// What is not there is no error. Nothing is deleted through a symlink.
void apply_whiteout(const stdfs::path& rootfs, const std::string& rel);

// Part 4. Unpack the layer LAYER_TAR onto ROOTFS (an existing directory):
// first its whiteouts, against what the layers below left in ROOTFS, then
// its other entries (files, directories, symlinks, hard links, with their
// modes, and their owners when run as root), each at ROOTFS/clean_path(name).
// A whiteout deletes from the lower layers only, whatever its place in the
// tar: this layer's own entries stay, even the ones before the marker.
// A hard link's target is an entry name too (clean it, keep it inside
// ROOTFS, reached without a symlink); it must be a regular file already
// unpacked. The entry of the root itself ("./") is skipped: ROOTFS is the
// caller's. Throws on the first entry refused or failed.
void apply_layer(const stdfs::path& layer_tar, const stdfs::path& rootfs);

// ---- given (fixed/given.cpp) ---------------------------------------------------

// Throws std::runtime_error("refused: WHY"). main() prints it after the
// layer's and the entry's names: "apply-layers: L.tar: entry "../x": refused: WHY".
[[noreturn]] void refuse(const std::string& why);

// Whether the last component of REL starts with ".wh." (opaque marker included).
bool is_whiteout(const std::string& rel);

// Opens LAYER_TAR (a tar, compressed or not) and calls FN(in, entry) for each
// entry in the order of the archive: IN is the reader, to read the entry's
// data from (copy_data()). An exception thrown by FN stops the walk and goes
// on with the entry's name in front: `entry "NAME": what()`.
void for_each_entry(const stdfs::path& layer_tar,
                    const std::function<void(archive* in, archive_entry* entry)>& fn);

// A libarchive writer that creates files on disk (archive_write_disk(3))
// with the ARCHIVE_EXTRACT_* FLAGS you choose, freed (and so closed: the
// directories' modes and times are set at close) when it goes.
struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
using DiskWriter = std::unique_ptr<archive, ArchiveFree>;
DiskWriter open_disk_writer(int flags);

// Throws std::runtime_error("WHAT: <libarchive's message>") when RC is an
// error (below ARCHIVE_WARN); a warning (e.g. an owner that could not be
// set when not root) is not one.
void check_archive(archive* a, la_ssize_t rc, const std::string& what);

// Copies the data of the current entry of IN to the file that
// archive_write_header(OUT, …) just created.
void copy_data(archive* in, archive* out);

}  // namespace lab
