// 05-images/store_internal.hpp — what store.cpp shares with the image builders.
//
// Internal to 05-images: the built-in busybox, import (and, later, pull and commit)
// add an image to the layout, then load it the same way find() does.
// Lesson: lessons/05-images.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "05-images/images.hpp"
#include "05-images/oci.hpp"

namespace skiff::images::detail {

// The name of the image skiff builds from /bin/busybox.
inline constexpr const char* kBuiltinBusybox = "docker.io/library/busybox:latest";

// An image manifest (OCI or Docker schema 2), not an index or anything else.
bool is_manifest(const oci::Descriptor& d);

// The manifest that index.json names FULL_NAME ("docker.io/library/x:tag").
std::optional<oci::Descriptor> lookup_ref(const std::vector<oci::Descriptor>& index,
                                          const std::string& full_name);

// Reads MANIFEST and its config (both verified against their digests) into
// an Image whose layers are unpacked: a missing layer is unpacked first,
// under the store lock. INDEX supplies the image's other names.
Image load_image(const stdfs::path& images_dir, const oci::Descriptor& manifest,
                 const std::vector<oci::Descriptor>& index);

// Gives MANIFEST the name NAME (a tag; a digest reference is refused) or, with
// no name, lists it untagged. The image that held NAME before stays in the
// store, untagged (Docker's <none>), unless another name still holds it.
// The caller holds the store lock.
void name_image(const oci::Layout& layout, const oci::Descriptor& manifest,
                const std::optional<Reference>& name);

// What a command added to the store, removed again unless it completes:
// the files and directories it made (newest first) and, when constructed
// with index.json's path, index.json as it was. import, pull, commit and
// load build on it, so that a failure leaves the store as it found it.
class Undo {
 public:
  Undo() = default;
  explicit Undo(stdfs::path index);
  Undo(const Undo&) = delete;
  Undo& operator=(const Undo&) = delete;
  ~Undo();
  void add(stdfs::path path) { paths_.push_back(std::move(path)); }
  // Tracks PATH only if it does not exist yet, i.e. if this command makes it.
  void add_if_new(const stdfs::path& path) {
    if (!stdfs::exists(path)) add(path);
  }
  void commit() { committed_ = true; }

 private:
  std::optional<stdfs::path> index_;
  std::optional<std::string> saved_index_;
  std::vector<stdfs::path> paths_;
  bool committed_ = false;
};

// What every image builder writes (builtin_busybox.cpp): SECONDS since the
// epoch as RFC 3339 ("2024-05-01T12:00:00Z"), the OCI name of this machine's
// architecture ("amd64"), and a one-layer manifest. Pure but the second.
std::string rfc3339(int64_t seconds);
std::string oci_architecture();
nlohmann::json manifest_json(const oci::Descriptor& config, const oci::Descriptor& layer);

}  // namespace skiff::images::detail
