// 05-images/archive.hpp — `skiff save` and `skiff load`: images as one tarball.
//
// Concept: an image is blobs plus a little JSON, so moving it between
//   machines without a registry is just packing those blobs into a tar. Two
//   layouts of that tar exist, and skiff writes both at once, as Docker ≥ 25
//   does, so that every tool reads what skiff saves:
//     - an OCI image layout (oci-layout, index.json, blobs/sha256/…), which
//       skopeo's oci-archive:, podman and containerd read;
//     - Docker's manifest.json ([{"Config", "RepoTags", "Layers"}]) and
//       `repositories`, which every `docker load` since 1.10 reads.
//   The two share the blobs: manifest.json names the same files the OCI
//   manifest does. Docker's format wants each layer as a plain tar, so a
//   layer stored gzip- or zstd-compressed is written uncompressed, under
//   its diff_id, as Docker ≥ 25 does; the config, hence the image id, is
//   kept byte for byte.
//   `load` reads either layout (and old archives with <hex>/layer.tar),
//   plain or compressed, and trusts nothing in it: the config's digest is the
//   image id, every layer's uncompressed digest must be the config's diff_id.
// Spec: image-spec image-layout.md, manifest.md, annotations.md; Docker's
//   `docker save`/`docker load` (moby's image/tarexport). Man pages: tar(5),
//   libarchive(3).
// Runs in: the CLI. Privilege: write access to the store for load (root, to
//   keep the owners of the layers' files); read access for save.
// Lesson: lessons/05-images.
//
// The code: archive.hpp (this), save.cpp, load.cpp, archive_files.cpp (the
// tar reading and writing both share).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "05-images/images.hpp"
#include "05-images/oci.hpp"

namespace skiff::images {

namespace stdfs = std::filesystem;

// ---- save -------------------------------------------------------------------

// One image to save: its id, the manifest that stores it, and the names it
// is saved under (none when it was named by id, as Docker does).
struct SaveItem {
  std::string image_id;
  oci::Descriptor manifest;
  std::vector<Reference> tags;
};

// Resolves NAMES as `docker save` does: "busybox:1.36" is that tag, a bare
// "busybox" every tag of that repository, an id (or unique prefix) the image
// without a name. One item per image, tags merged, in the order first named.
// Throws core::Error("No such image: NAME") before anything is written.
std::vector<SaveItem> plan_save(Store& store, const std::vector<std::string>& names);

// Writes the images of PLAN as one uncompressed tar to OUT_FD (see the
// header comment). Every blob is checked against its digest as it is copied;
// a store that no longer matches throws core::Error, and the caller discards
// what was written. The same images give the same bytes.
void save_images(const stdfs::path& images_dir, const std::vector<SaveItem>& plan, int out_fd);

// ---- load -------------------------------------------------------------------

// What one loaded image prints: its names ("busybox:latest", familiar) or,
// untagged, nothing, and then its id is printed.
struct LoadedImage {
  std::string id;
  std::vector<std::string> tags;
};

// Reads a tar (plain, gzip, bzip2, xz or zstd) from IN_FD, in either layout,
// verifies every blob, stores the images, unpacks their layers and names
// them (a name held by another image leaves that image untagged). SOURCE
// names the input in errors ("busybox.tar", "stdin"). A failure of any kind
// (not a tar, truncated, a digest that does not match) throws core::Error
// and leaves the store exactly as it was.
std::vector<LoadedImage> load_images(const stdfs::path& images_dir, int in_fd,
                                     const std::string& source);

// ---- the pure parts, for tests ----------------------------------------------

// One image as the archive describes it: its blobs' descriptors and names.
struct ArchivedImage {
  oci::Descriptor config;
  std::vector<oci::Descriptor> layers;  // plain tars, named by their diff_ids
  std::vector<Reference> tags;
  std::string architecture = "amd64";
  std::string os = "linux";
};

// The OCI manifest skiff writes for an image it saves, and builds for one it
// loads from a Docker archive: the same bytes both ways, so a round trip
// keeps the manifest digest as well as the image id.
nlohmann::json archive_manifest_json(const oci::Descriptor& config,
                                     const std::vector<oci::Descriptor>& layers);
// index.json: one entry per tag (io.containerd.image.name = the full name,
// org.opencontainers.image.ref.name = the tag, as Docker ≥ 25 writes), one
// entry without annotations for an image saved untagged.
nlohmann::json archive_index_json(const std::vector<ArchivedImage>& images,
                                  const std::vector<oci::Descriptor>& manifests);
// manifest.json: [{"Config": "blobs/sha256/…", "RepoTags": […] or null,
// "Layers": ["blobs/sha256/…", …]}].
nlohmann::json docker_manifest_json(const std::vector<ArchivedImage>& images);
// repositories: {"busybox": {"latest": "<hex of the top layer>"}}.
nlohmann::json repositories_json(const std::vector<ArchivedImage>& images);

// The name an OCI index entry gives its image: io.containerd.image.name, or
// else org.opencontainers.image.ref.name when it is a whole reference
// ("other:tag", "docker.io/x/y:1"); a bare tag ("latest") names nothing.
std::optional<Reference> name_from_annotations(const std::map<std::string, std::string>& a);

// "a/./b" → "a/b"; std::nullopt for an absolute path, "..", or nothing.
// Names inside an archive never leave it.
std::optional<std::string> clean_archive_path(const std::string& path);

// Follows the symlinks and hard links an archive holds (LINKS: path → its
// target; a symlink's target is relative to its directory, a hard link's to
// the archive's root) until PATH names a real entry. std::nullopt when a
// link leaves the archive or loops.
std::optional<std::string> resolve_archive_path(const std::map<std::string, std::string>& symlinks,
                                                const std::map<std::string, std::string>& hardlinks,
                                                const std::string& path);

}  // namespace skiff::images
