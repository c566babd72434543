// 05-images/store.cpp — finding and listing images (see images.hpp).
//
// Lesson: lessons/05-images ("from a name to a root filesystem"). A name is
// looked up in index.json, which points at a manifest, which points at a
// config and the layer blobs; the config's diff_ids name the unpacked layer
// directories. `skiff run` does this on every start, so the path where the
// image is already there reads only three small files and checks that the
// layer directories exist: it never re-hashes a layer.
#include <algorithm>
#include <set>

#include "05-images/layer.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images {

using json = nlohmann::json;

namespace {

std::vector<std::string> strings(const json& config, const char* key) {
  auto it = config.find(key);
  if (it == config.end() || !it->is_array()) return {};  // absent or null
  return it->get<std::vector<std::string>>();
}

std::string string_or_empty(const json& config, const char* key) {
  auto it = config.find(key);
  return it != config.end() && it->is_string() ? it->get<std::string>() : "";
}

RuntimeConfig runtime_config(const json& config) {
  if (!config.is_object()) return {};
  return {strings(config, "Env"), strings(config, "Entrypoint"), strings(config, "Cmd"),
          string_or_empty(config, "WorkingDir"), string_or_empty(config, "User")};
}

// "docker.io/library/busybox:latest" → "busybox:latest". Names written by
// other tools may not parse (skopeo stores only the tag): shown as they are.
std::optional<Reference> parse_ref_name(const std::string& name) {
  try {
    return parse_reference(name);
  } catch (const core::Error&) {
    return std::nullopt;
  }
}

// The names index.json gives MANIFEST_DIGEST: tags ("busybox:latest") and,
// for pulled images, repo digests ("busybox@sha256:…"), which are not tags.
void names_of(const std::vector<oci::Descriptor>& index, const std::string& manifest_digest,
              Image& image) {
  for (const auto& d : index) {
    if (d.digest != manifest_digest || d.ref_name().empty()) continue;
    auto ref = parse_ref_name(d.ref_name());
    if (!ref) image.repo_tags.push_back(d.ref_name());
    else if (!ref->tag.empty()) image.repo_tags.push_back(ref->familiar());
    else image.repo_digests.push_back(ref->familiar());
  }
}

using detail::is_manifest;

// Unpacks the layers that have no directory yet. Taking the lock only when
// one is missing keeps `run` from queueing behind a long pull.
void ensure_unpacked(const stdfs::path& dir, const std::vector<oci::Descriptor>& blobs,
                     const std::vector<std::string>& diff_ids) {
  bool all_there = true;
  for (const auto& d : diff_ids) all_there = all_there && stdfs::exists(unpacked_layer_dir(dir, d));
  if (all_there) return;
  oci::Layout layout(dir);
  core::fs::FileLock lock(dir / "lock");
  for (size_t i = 0; i < blobs.size(); ++i) {
    if (stdfs::exists(unpacked_layer_dir(dir, diff_ids[i]))) continue;
    layout.verify_blob_file(blobs[i]);  // the one time a layer blob is hashed
    install_layer(dir, layout.blob_path(blobs[i].digest), diff_ids[i]);
  }
}

// The config digest of each manifest in INDEX: what image ids are.
std::string config_digest(const stdfs::path& dir, const oci::Descriptor& manifest) {
  json m = oci::parse_json(oci::Layout(dir).read_blob(manifest), "manifest " + manifest.digest);
  return m.at("config").at("digest").get<std::string>();
}

}  // namespace

namespace detail {

Undo::Undo(stdfs::path index) : index_(std::move(index)), saved_index_(core::fs::read_file_if_exists(*index_)) {}

Undo::~Undo() {
  if (committed_) return;
  std::error_code ec;
  for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) stdfs::remove_all(*it, ec);
  if (!index_) return;
  try {
    if (saved_index_) core::fs::write_file_atomic(*index_, *saved_index_);
    else stdfs::remove(*index_, ec);
  } catch (...) {  // a destructor must not throw; the store's blobs are gone already
  }
}

bool is_manifest(const oci::Descriptor& d) {
  return d.media_type == oci::kManifestType || d.media_type == oci::kDockerManifestType;
}

std::optional<oci::Descriptor> lookup_ref(const std::vector<oci::Descriptor>& index,
                                          const std::string& full_name) {
  for (const auto& d : index)
    if (d.ref_name() == full_name && is_manifest(d)) return d;
  return std::nullopt;
}

void name_image(const oci::Layout& layout, const oci::Descriptor& manifest,
                const std::optional<Reference>& name) {
  if (!name) {
    layout.add_unnamed(manifest);
    return;
  }
  if (!name->digest.empty()) throw core::Error("refusing to create a tag with a digest reference");
  // The image that held the name before keeps its place, untagged.
  auto before = lookup_ref(layout.read_index(), name->full());
  layout.set_ref(manifest, name->full());
  if (before && before->digest != manifest.digest) {
    bool still_listed = false;
    for (const auto& d : layout.read_index()) still_listed = still_listed || d.digest == before->digest;
    if (!still_listed) layout.add_unnamed(*before);
  }
}

Image load_image(const stdfs::path& dir, const oci::Descriptor& manifest,
                 const std::vector<oci::Descriptor>& index) {
  oci::Layout layout(dir);
  json m = oci::parse_json(layout.read_blob(manifest), "manifest " + manifest.digest);
  oci::Descriptor config_desc = oci::descriptor_from_json(m.at("config"));
  json config = oci::parse_json(layout.read_blob(config_desc), "config " + config_desc.digest);
  std::vector<oci::Descriptor> blobs;
  for (const auto& l : m.value("layers", json::array())) blobs.push_back(oci::descriptor_from_json(l));
  auto diff_ids = config.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
  if (diff_ids.size() != blobs.size())
    throw core::Error("image " + config_desc.digest + ": manifest and config disagree on the layers");
  ensure_unpacked(dir, blobs, diff_ids);

  Image image;
  image.id = config_desc.digest;
  image.manifest_digest = manifest.digest;
  names_of(index, manifest.digest, image);
  image.created = config.value("created", "");
  image.config = runtime_config(config.value("config", json::object()));
  for (const auto& d : diff_ids) {
    image.layers.push_back(unpacked_layer_dir(dir, d));
    image.size += unpacked_layer_size(dir, d);
  }
  return image;
}

}  // namespace detail

Store::Store(stdfs::path images_dir) : dir_(std::move(images_dir)) {}

namespace {

// The image whose id starts with HEX (Docker: `docker run 3f57`).
std::optional<Image> find_by_id(const stdfs::path& dir, const std::vector<oci::Descriptor>& index,
                                const std::string& hex) {
  std::optional<oci::Descriptor> hit;
  std::set<std::string> ids;
  for (const auto& d : index) {
    if (!is_manifest(d)) continue;
    std::string id = config_digest(dir, d);
    if (!id.starts_with("sha256:" + hex)) continue;
    ids.insert(id);
    hit = d;
  }
  if (ids.size() > 1)
    throw core::Error("image id prefix " + hex + " is ambiguous: it matches " +
                      std::to_string(ids.size()) + " images");
  if (!hit) return std::nullopt;
  return detail::load_image(dir, *hit, index);
}

// A pinned reference (name@sha256:…) matches the manifest with that digest
// under any tag of the same repository.
std::optional<oci::Descriptor> lookup_digest(const std::vector<oci::Descriptor>& index,
                                             const Reference& ref) {
  for (const auto& d : index) {
    auto named = parse_ref_name(d.ref_name());
    if (d.digest == ref.digest && named && named->registry == ref.registry &&
        named->repository == ref.repository)
      return d;
  }
  return std::nullopt;
}

bool looks_like_id_prefix(const std::string& text) {
  return text.size() >= 4 && text.size() <= 64 && oci::is_hex(text);
}

}  // namespace

std::optional<Image> Store::find(const std::string& name_or_id) {
  auto index = oci::Layout(dir_).read_index();
  // "sha256:…" and 64 hex digits can only be ids (parse_reference refuses
  // the latter as a name, as Docker does).
  if (name_or_id.starts_with("sha256:")) {
    std::string hex = name_or_id.substr(7);
    return looks_like_id_prefix(hex) ? find_by_id(dir_, index, hex) : std::nullopt;
  }
  if (name_or_id.size() == 64 && oci::is_hex(name_or_id)) return find_by_id(dir_, index, name_or_id);

  Reference ref = parse_reference(name_or_id);
  auto manifest = detail::lookup_ref(index, ref.full());
  if (!manifest && !ref.digest.empty()) manifest = lookup_digest(index, ref);
  if (manifest) return detail::load_image(dir_, *manifest, index);
  if (ref.full() == detail::kBuiltinBusybox) return ensure_builtin_busybox();
  // Like Docker, a short hex string that names no image may be an id prefix.
  if (looks_like_id_prefix(name_or_id)) return find_by_id(dir_, index, name_or_id);
  return std::nullopt;
}

std::vector<Image> Store::list() {
  auto index = oci::Layout(dir_).read_index();
  std::vector<Image> images;
  std::set<std::string> seen_manifests;
  for (const auto& d : index) {
    // One manifest named twice (busybox:latest, busybox:1.36) is one image.
    if (!is_manifest(d) || !seen_manifests.insert(d.digest).second) continue;
    Image image = detail::load_image(dir_, d, index);
    auto same = std::find_if(images.begin(), images.end(), [&](auto& i) { return i.id == image.id; });
    if (same == images.end()) images.push_back(std::move(image));
    else {
      same->repo_tags.insert(same->repo_tags.end(), image.repo_tags.begin(), image.repo_tags.end());
      same->repo_digests.insert(same->repo_digests.end(), image.repo_digests.begin(),
                                image.repo_digests.end());
    }
  }
  return images;
}

}  // namespace skiff::images
