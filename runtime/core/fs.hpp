// core/fs.hpp — small file helpers for the on-disk store.
//
// Writes that must survive a crash go to a temporary file that is then
// renamed over the old one: a reader sees the old content or the new, never
// half of it (DESIGN.md, "On disk").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace skiff::core::fs {

namespace stdfs = std::filesystem;

// Reads a whole file; throws SystemError naming the path when it cannot.
std::string read_file(const stdfs::path& path);
// Same, but std::nullopt when the file does not exist.
std::optional<std::string> read_file_if_exists(const stdfs::path& path);

// write to PATH.tmp-RANDOM (made with O_EXCL|O_NOFOLLOW), fsync-free (a container record is cheap to lose
// on power failure, but must never be torn), then rename over PATH.
void write_file_atomic(const stdfs::path& path, std::string_view content);

// Creates PATH and its parents (mode 0755 unless told); no error if present.
void make_dirs(const stdfs::path& path, stdfs::perms perms = stdfs::perms::unknown);

// Creates the directory PATH (its parents must exist, unless made with
// make_dirs first) with MODE, or gives an existing one MODE: the store's
// directories that no other user may enter.
void make_private_dir(const stdfs::path& path, mode_t mode);

// An exclusive flock(2) on PATH (created if needed), released by the
// destructor or when the process dies: a killed skiff never leaves a lock.
class FileLock {
 public:
  explicit FileLock(const stdfs::path& path);
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  int fd_ = -1;
};

}  // namespace skiff::core::fs
