// 05-images/archive_internal.hpp — what save.cpp, load.cpp and export.cpp share.
//
// Internal to 05-images: a tar written straight to a file descriptor, and a
// layer blob read back decompressed, whatever its compression.
// Man pages: libarchive(3), archive_write(3), archive_read_filter(3).
// Lesson: lessons/05-images.
#pragma once

#include <archive.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "05-images/archive_owner.hpp"

namespace skiff::images::detail {

// A tar writer (POSIX pax, with extensions only where ustar cannot say it)
// whose output goes to FD. The caller closes it with archive_write_close.
ArchiveWriter open_tar_writer(int fd);

// Writes the header of a regular file (owner 0:0, mode 0644, time 0: the
// same images give the same bytes) or of a directory (0755).
void write_file_header(archive* out, const std::string& path, int64_t size);
void write_directory_header(archive* out, const std::string& path);
void write_bytes(archive* out, std::string_view data, const std::string& what);

// Turns on the decompressors a layer or an archive may use: gzip, bzip2,
// xz and zstd (libarchive recognises each by its first bytes).
void support_compression(archive* in);

// A layer blob read as one stream of uncompressed bytes.
class Decompressed {
 public:
  explicit Decompressed(const std::filesystem::path& blob);
  // Up to SIZE bytes into BUF; 0 at the end. Throws core::Error.
  size_t read(char* buf, size_t size);

 private:
  ArchiveReader in_;
  std::string what_;
};

// The media type a layer has, from its first bytes: gzip, zstd or plain tar.
std::string layer_media_type_of(const std::filesystem::path& blob);

}  // namespace skiff::images::detail
