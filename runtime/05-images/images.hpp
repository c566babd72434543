// 05-images/images.hpp — the image store: what `run` starts from.
//
// Kernel concept: none of its own; an image is files. Its layers are stacked
//   by overlayfs (see rootfs.hpp) so that many containers share one copy.
// Format: the OCI image layout (oci-layout, index.json, blobs/sha256/…), so
//   skopeo and umoci can read skiff's store. Each layer is also unpacked once
//   under layers/<sha256 of its uncompressed tar>/ for overlayfs to use.
// Runs in: the CLI, before anything is cloned. Privilege: write access to the
//   store (root, to keep file owners inside layers).
// Lesson: lessons/05-images.
//
// On disk, under the store's images/ directory:
//   oci-layout, index.json        the OCI layout; each manifest in index.json
//                                 carries its name in the annotation
//                                 "org.opencontainers.image.ref.name"
//                                 (e.g. "docker.io/library/busybox:latest")
//   blobs/sha256/<hex>            layer tarballs, configs, manifests
//   layers/<diffid hex>/          one unpacked layer (a directory tree)
//   layers/<diffid hex>.size      bytes of its uncompressed tar (Image::size)
//   lock                          flock(2) held while the store is changed
//
// The code: reference.cpp (names), oci.hpp + digest.cpp + layout.cpp (the
// layout), layer.hpp + layer.cpp + tar_writer.cpp (layers), store.cpp
// (find, list), builtin_busybox.cpp (the image made from /bin/busybox).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace skiff::images {

namespace stdfs = std::filesystem;

// "busybox" → {docker.io, library/busybox, latest}. Docker's rules: the first
// component is a registry when it has a '.' or ':' or is "localhost".
struct Reference {
  std::string registry = "docker.io";
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" unless a digest is given
  std::string digest;      // "sha256:…" or empty

  std::string full() const;      // "docker.io/library/busybox:latest"
  std::string familiar() const;  // "busybox:latest", as `docker images` shows
  std::string familiar_repository() const;  // "busybox"
};

// Parses NAME[:TAG][@DIGEST]; throws core::Error("invalid reference format…")
// on anything Docker would reject (upper case, empty parts, bad characters).
Reference parse_reference(const std::string& text);

// The parts of an image's config that become a container's defaults.
struct RuntimeConfig {
  std::vector<std::string> env;         // "K=V"
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
};

struct Image {
  std::string id;                       // "sha256:<hex of the config blob>"
  std::vector<std::string> repo_tags;   // familiar names, e.g. "busybox:latest"
  std::vector<std::string> repo_digests;  // "busybox@sha256:…": where it was pulled from
  std::string manifest_digest;          // the manifest index.json points at
  std::string created;                  // RFC 3339, from the config
  int64_t size = 0;                     // bytes of the unpacked layers
  RuntimeConfig config;
  std::vector<stdfs::path> layers;      // unpacked layer dirs, bottom first
};

class Store {
 public:
  explicit Store(stdfs::path images_dir);

  // Finds an image by name ("busybox", "busybox:latest",
  // "docker.io/library/busybox:latest") or by id or unique id prefix
  // (with or without "sha256:", at least 4 hex digits… as Docker does).
  // The built-in busybox is made on first use, so it is always found.
  // std::nullopt when nothing matches; throws core::Error for an invalid
  // name, an ambiguous id prefix or a corrupt blob. Missing layer
  // directories are unpacked again; present ones are not re-hashed.
  std::optional<Image> find(const std::string& name_or_id);
  std::vector<Image> list();

  // ---- changing names and removing images (manage.cpp) ----
  // What removing did, in Docker's words: the names dropped ("Untagged:")
  // and the blobs and layers freed ("Deleted:"), with their unpacked size.
  struct Removal {
    std::vector<std::string> untagged;  // "busybox:latest", "busybox@sha256:…"
    std::vector<std::string> deleted;   // image id, then each freed layer's diff_id
    int64_t reclaimed = 0;              // bytes of the unpacked layers freed
  };

  // Gives IMAGE the name TARGET too (`skiff tag`). A name that pointed at
  // another image leaves that one untagged.
  void tag(const Image& image, const Reference& target);
  // Drops the name REF (a tag, or name@digest). An image left without any
  // name stays in the store, untagged, unless REMOVE_IF_LAST: then it is
  // removed as remove() does. Throws core::Error if nothing has that name.
  Removal untag(const Reference& ref, bool remove_if_last);
  // Removes IMAGE: every name, its manifest and config, and each layer
  // (blob and unpacked directory) that no other image uses. The caller
  // decides whether containers still need it (Docker's policy is in cli/).
  Removal remove(const Image& image);
  // The image's config blob (verified), for inspect and history.
  nlohmann::json config(const Image& image) const;

  // Builds docker.io/library/busybox:latest from Debian's busybox-static
  // (/bin/busybox) if the store lacks it, and returns it. Safe to call from
  // several processes at once.
  Image ensure_builtin_busybox();

  const stdfs::path& dir() const { return dir_; }

 private:
  stdfs::path dir_;
};

// The static busybox binary the built-in image is made from.
inline constexpr const char* kBusyboxBinary = "/bin/busybox";

}  // namespace skiff::images
