// 05-images/archive_owner.hpp — owners for libarchive handles.
//
// Every resource has an owner (STYLE.md): a libarchive reader or writer is
// freed when its scope ends, even when unpacking throws half-way.
// Lesson: lessons/05-images.
#pragma once

#include <archive.h>

#include <memory>
#include <string>

#include "core/error.hpp"

namespace skiff::images {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;

// libarchive's message for its last failure, for an error line.
inline std::string archive_message(archive* a) {
  const char* m = archive_error_string(a);
  return m != nullptr ? m : "unknown libarchive error";
}

// Throws core::Error("DOING: <libarchive's message>") when R is worse than
// a warning. Warnings (e.g. "cannot restore owner" as non-root) are allowed.
inline void check_archive(archive* a, int r, const std::string& doing) {
  if (r < ARCHIVE_WARN) throw core::Error(doing + ": " + archive_message(a));
}

}  // namespace skiff::images
