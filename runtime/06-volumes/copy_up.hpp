// 06-volumes/copy_up.hpp — an empty volume starts as a copy of the image's
// directory it is mounted over (Docker's "copy-up").
//
// Kernel concept: the copy writes into the volume's directory on the host
//   (ROOT/volumes/NAME/_data), and another container that already runs
//   with the same volume can change that directory at any moment: replace
//   a directory we just made with a symlink to /etc, say. A copy by path
//   ("_data/conf/app.ini") would then follow the symlink and write on the
//   host. So the copy never names a path: every entry is made relative to
//   a directory fd with the *at() calls, new entries with O_EXCL (mkdirat,
//   O_CREAT|O_EXCL, symlinkat and mknodat all fail on an existing name),
//   and a directory is entered with O_NOFOLLOW|O_DIRECTORY, which refuses
//   a symlink raced into its place. Owners, modes and times are set through
//   the entry's own fd, never through a name.
// Man pages: openat(2), mkdirat(2), symlinkat(2), mknodat(2), fchownat(2),
//   copy_file_range(2), utimensat(2).
// Runs in: the child, before the volume is mounted over the image's dir.
// Privilege: CAP_CHOWN, CAP_FOWNER, CAP_MKNOD (to keep owners and devices).
// Lessons: lessons/06-volumes, lessons/11-security (the race).
#pragma once

namespace skiff::volumes {

// True when the directory DIR_FD holds no entry.
bool empty_directory(int dir_fd);

// Copies every entry of the directory FROM_DIR into the directory TO_DIR
// (both fds, readable), recursively, keeping owners, modes and times, and
// FROM_DIR's own attributes onto TO_DIR. Symlinks are copied as symlinks,
// never followed. Throws core::Error when an entry it makes is already
// there (someone raced it in) or is not what it made.
void copy_tree(int from_dir, int to_dir);

}  // namespace skiff::volumes
