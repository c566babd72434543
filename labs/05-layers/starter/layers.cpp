// labs/05-layers/starter/layers.cpp — your part of apply-layers.
//
// fixed/main.cpp calls apply_layer() once per layer, the bottom one first.
// Read layers.hpp first: it says what each function must achieve and gives
// you refuse(), is_whiteout(), for_each_entry(), open_disk_writer(),
// check_archive() and copy_data().
// Try it by hand:   apply-layers /tmp/root layer1.tar layer2.tar
// Build and grade:  make grade LAB=05 SRC=path/to/your/folder
#include "layers.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace lab {

std::string clean_path(std::string_view name) {
  // TODO(part 1): split NAME at '/'; drop empty and "." parts (a leading
  // "/" gives an empty first part); refuse() a ".." part; join the rest.
  return std::string(name);
}

void refuse_symlinks_on_the_way(const stdfs::path& rootfs, const std::string& rel) {
  // TODO(part 2): walk ROOTFS/first, ROOTFS/first/second, … up to the last
  // component of REL, excluded, and refuse() when one is a symlink. Look at
  // the link itself (lstat(2), std::filesystem::symlink_status), not at
  // what it points to.
  (void)rootfs, (void)rel;
}

void apply_whiteout(const stdfs::path& rootfs, const std::string& rel) {
  // TODO(part 3): no symlink on the way; then, by the last component of REL:
  //   kOpaqueMarker      remove every child of the directory (it stays);
  //   ".wh..wh.*"        nothing;
  //   ".wh.NAME"         refuse "", ".", ".."; remove the tree DIR/NAME.
  (void)rootfs, (void)rel;
}

void apply_layer(const stdfs::path& layer_tar, const stdfs::path& rootfs) {
  // TODO(part 4): apply the layer's whiteouts to what the lower layers left,
  // then unpack its other entries. for_each_entry() walks the tar; nothing
  // says in which order a layer lists a whiteout and the files it keeps (an
  // opaque marker may come after this layer's files in that directory).
  // For each entry to unpack, with a disk writer (open_disk_writer(): which
  // ARCHIVE_EXTRACT_* flags restore modes and owners?):
  //   the destination is ROOTFS/clean_path(name), reached without a symlink
  //   (a symlink already at the destination is removed, not followed);
  //   a hard link's target (archive_entry_hardlink) is a name too: vet it
  //   and rewrite it the same way;
  //   archive_entry_copy_pathname, archive_write_header, copy_data,
  //   archive_write_finish_entry.
  (void)layer_tar, (void)rootfs;
}

}  // namespace lab
