// 05-images/oci.hpp — the OCI image layout: content-addressed blobs + an index.
//
// Concept: every blob (layer tarball, config, manifest) is stored under the
//   sha256 of its bytes, so its name is also its checksum: whoever reads a
//   blob can tell whether it is the one that was meant. index.json is the
//   only mutable file; it points at manifests and gives them names.
// Spec: github.com/opencontainers/image-spec, image-layout.md, descriptor.md.
// Runs in: the CLI. Privilege: write access to the store.
// Lesson: lessons/05-images.
//
// This header is internal to 05-images (store.cpp, builtin_busybox.cpp and,
// later, the registry client and commit); the rest of skiff uses images.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::images::oci {

namespace stdfs = std::filesystem;

inline constexpr const char* kIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kManifestType = "application/vnd.oci.image.manifest.v1+json";
// Docker's own schema 2 manifest: same shape, other media types; a layout
// filled by other tools may hold it.
inline constexpr const char* kDockerManifestType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kConfigType = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kLayerTarType = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kLayerGzipType = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kLayerZstdType = "application/vnd.oci.image.layer.v1.tar+zstd";
// The annotation that names a manifest in index.json. skiff stores the full
// reference ("docker.io/library/busybox:latest") so that names never clash.
inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";

// ---- digests (digest.cpp) -------------------------------------------------

// Incremental sha256 through OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  ~Sha256();
  void update(std::string_view data);
  std::string hex();  // finishes the hash: 64 lowercase hex digits

 private:
  struct State;
  std::unique_ptr<State> state_;  // nettle's context, kept out of this header
};

std::string sha256_hex(std::string_view data);
// Streams the file through sha256 in 64 KiB reads: layers can be large.
std::string sha256_file_hex(const stdfs::path& path);
bool is_hex(std::string_view text);
// "sha256:<64 lowercase hex>", the only algorithm skiff accepts.
bool is_sha256_digest(std::string_view digest);
// "sha256:abc…" → "abc…"; throws core::Error if DIGEST is not sha256.
std::string digest_hex(std::string_view digest);

// ---- descriptors and the layout (layout.cpp) --------------------------------

// What points at a blob: its media type, digest and size (descriptor.md).
struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::map<std::string, std::string> annotations;

  std::string ref_name() const;  // the kRefNameAnnotation, or ""
};

Descriptor descriptor_from_json(const nlohmann::json& j);
nlohmann::json descriptor_to_json(const Descriptor& d);
// Parses TEXT; throws core::Error("read WHAT: not valid JSON: …").
nlohmann::json parse_json(const std::string& text, const std::string& what);

class Layout {
 public:
  explicit Layout(stdfs::path dir) : dir_(std::move(dir)) {}

  // Creates oci-layout, blobs/sha256/ and layers/ if missing. Idempotent.
  void init() const;

  stdfs::path blob_path(std::string_view digest) const;
  // Stores CONTENT under its digest (atomically; no-op if already there).
  Descriptor put_blob(std::string_view media_type, std::string_view content) const;
  // Hashes FILE (written somewhere inside the store, so rename works) and
  // moves it to its place under its digest. With EXPECTED_DIGEST, a file whose
  // content does not match is deleted and core::Error is thrown: a download
  // is never stored under a name it does not deserve.
  Descriptor put_blob_file(std::string_view media_type, const stdfs::path& file,
                           std::string_view expected_digest = {}) const;
  bool has_blob(std::string_view digest) const;
  // Reads a small blob and checks it against its digest.
  std::string read_blob(const Descriptor& d) const;
  // Hashes a (possibly large) blob file without loading it.
  void verify_blob_file(const Descriptor& d) const;

  // index.json's manifests; empty when there is no index yet.
  std::vector<Descriptor> read_index() const;
  // Points NAME (a full reference) at MANIFEST, replacing the entry that
  // held NAME before. The caller holds the store lock.
  void set_ref(const Descriptor& manifest, const std::string& name) const;
  // Drops from index.json every entry for which DROP is true; returns them.
  // The caller holds the lock.
  std::vector<Descriptor> remove_entries(const std::function<bool(const Descriptor&)>& drop) const;
  // Lists MANIFEST in index.json without a name, unless an entry without a
  // name already lists it: an untagged image (Docker's <none>:<none>), kept
  // so that `images` shows it and its id finds it. The caller holds the lock.
  void add_unnamed(const Descriptor& manifest) const;

 private:
  stdfs::path dir_;
};

}  // namespace skiff::images::oci
