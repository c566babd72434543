// 05-images/save.cpp — `skiff save`: images out of the store, into one tar
// (see archive.hpp).
//
// Lesson: lessons/05-images ("an image without a registry"). The steps:
//
//   names → images (all found before a byte is written) → for each image:
//   its layers as plain tars, its config as it is, a manifest naming them
//   → index.json, manifest.json, oci-layout, repositories
//
// Every entry has time 0, owner 0 and a fixed mode, and the JSON is written
// with sorted keys, so saving the same images twice gives the same bytes.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <vector>

#include "05-images/archive.hpp"
#include "05-images/archive_internal.hpp"
#include "05-images/layer.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::images {

using json = nlohmann::json;

namespace {

bool is_image_manifest(const oci::Descriptor& d) {
  return d.media_type == oci::kManifestType || d.media_type == oci::kDockerManifestType;
}

// A parsed name or nothing: names written by other tools may not parse.
std::optional<Reference> try_parse(const std::string& name) {
  try {
    return parse_reference(name);
  } catch (const core::Error&) {
    return std::nullopt;
  }
}

std::string config_digest_of(const oci::Layout& layout, const oci::Descriptor& manifest) {
  json m = oci::parse_json(layout.read_blob(manifest), "manifest " + manifest.digest);
  return m.at("config").at("digest").get<std::string>();
}

// The manifest in INDEX whose config is the image ID.
oci::Descriptor manifest_of(const oci::Layout& layout, const std::vector<oci::Descriptor>& index,
                            const std::string& id) {
  for (const auto& d : index)
    if (is_image_manifest(d) && config_digest_of(layout, d) == id) return d;
  throw core::Error("image " + id + ": no manifest in the store lists it");
}

// "busybox" with no tag and no digest: Docker saves every tag it has.
bool names_repository_only(const std::string& name) {
  auto last = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
  return name.find('@') == std::string::npos && last.find(':') == std::string::npos;
}

// Adds IMAGE_ID (under TAG, if any) to PLAN, merging with an earlier item.
void add_to_plan(std::vector<SaveItem>& plan, const std::string& image_id,
                 const oci::Descriptor& manifest, const std::optional<Reference>& tag) {
  auto item = std::find_if(plan.begin(), plan.end(), [&](auto& i) { return i.image_id == image_id; });
  if (item == plan.end()) {
    plan.push_back({image_id, manifest, {}});
    item = plan.end() - 1;
  }
  if (!tag) return;
  for (const auto& t : item->tags)
    if (t.full() == tag->full()) return;
  item->tags.push_back(*tag);
}

// Every tag of the repository REF names, with its image.
bool add_repository(Store& store, std::vector<SaveItem>& plan, const Reference& ref) {
  oci::Layout layout(store.dir());
  bool found = false;
  for (const auto& d : layout.read_index()) {
    auto named = try_parse(d.ref_name());
    if (!is_image_manifest(d) || !named || named->tag.empty() || named->registry != ref.registry ||
        named->repository != ref.repository)
      continue;
    add_to_plan(plan, config_digest_of(layout, d), d, named);
    found = true;
  }
  return found;
}

void add_name(Store& store, std::vector<SaveItem>& plan, const std::string& name) {
  auto ref = try_parse(name);
  if (ref && names_repository_only(name) && add_repository(store, plan, *ref)) return;
  auto image = store.find(name);  // also makes the built-in busybox on first use
  if (!image) throw core::Error("No such image: " + name);
  oci::Layout layout(store.dir());
  auto index = layout.read_index();
  // Found, but not under this name: it was an id or an id prefix.
  bool by_name = ref && ref->digest.empty() && detail::lookup_ref(index, ref->full());
  std::optional<Reference> tag;
  if (by_name) tag = ref;
  add_to_plan(plan, image->id, manifest_of(layout, index, image->id), tag);
}

// ---- writing ------------------------------------------------------------------

std::string blob_name(const std::string& digest) { return "blobs/sha256/" + oci::digest_hex(digest); }

// Copies the blob file FROM into the archive, hashing it as it goes: a blob
// whose content no longer matches DIGEST fails the save.
void copy_plain_blob(archive* out, const stdfs::path& from, const std::string& digest, int64_t size) {
  core::Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) throw core::SystemError(errno, "open(" + from.string() + ")");
  detail::write_file_header(out, blob_name(digest), size);
  oci::Sha256 hash;
  std::vector<char> buffer(1 << 16);  // on the heap: see digest.cpp
  char* buf = buffer.data();
  int64_t copied = 0;
  for (;;) {
    ssize_t n = ::read(in.get(), buf, buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw core::SystemError(errno, "read(" + from.string() + ")");
    if (n == 0) break;
    hash.update(std::string_view(buf, static_cast<size_t>(n)));
    detail::write_bytes(out, std::string_view(buf, static_cast<size_t>(n)), blob_name(digest));
    copied += n;
  }
  if ("sha256:" + hash.hex() != digest || copied != size)
    throw core::Error("blob " + from.string() + " is corrupt: its content does not match its digest");
}

// A compressed layer goes in as the tar inside it: one pass to learn its
// size (the tar header comes first) and check its diff_id, one to copy it.
oci::Descriptor copy_decompressed_layer(archive* out, const stdfs::path& blob,
                                        const std::string& diff_id) {
  std::vector<char> buffer(1 << 16);  // on the heap: see digest.cpp
  char* buf = buffer.data();
  int64_t size = 0;
  {
    detail::Decompressed in(blob);
    oci::Sha256 hash;
    for (size_t n; (n = in.read(buf, buffer.size())) > 0; size += static_cast<int64_t>(n))
      hash.update(std::string_view(buf, n));
    if ("sha256:" + hash.hex() != diff_id)
      throw core::Error("layer " + blob.string() + " does not match its diff_id " + diff_id);
  }
  detail::write_file_header(out, blob_name(diff_id), size);
  detail::Decompressed in(blob);
  int64_t copied = 0;
  for (size_t n; (n = in.read(buf, buffer.size())) > 0; copied += static_cast<int64_t>(n))
    detail::write_bytes(out, std::string_view(buf, n), blob_name(diff_id));
  if (copied != size) throw core::Error("layer " + blob.string() + " changed while it was saved");
  return {oci::kLayerTarType, diff_id, size, {}};
}

// What has been written already: images share layers, and a blob is in the
// archive once.
struct Writer {
  archive* out;
  oci::Layout layout;
  std::map<std::string, oci::Descriptor> layers;  // diff_id → as written
  std::set<std::string> small_blobs;

  oci::Descriptor layer(const oci::Descriptor& stored, const std::string& diff_id) {
    if (auto done = layers.find(diff_id); done != layers.end()) return done->second;
    auto blob = layout.blob_path(stored.digest);
    oci::Descriptor written{oci::kLayerTarType, diff_id, stored.size, {}};
    if (detail::layer_media_type_of(blob) != oci::kLayerTarType) {
      written = copy_decompressed_layer(out, blob, diff_id);
    } else if (stored.digest != diff_id) {
      throw core::Error("layer " + stored.digest + ": a plain tar whose digest is not its diff_id " +
                        diff_id);
    } else {
      copy_plain_blob(out, blob, stored.digest, stored.size);
    }
    return layers[diff_id] = written;
  }

  void small_blob(const std::string& content) {
    std::string digest = "sha256:" + oci::sha256_hex(content);
    if (!small_blobs.insert(digest).second) return;
    detail::write_file_header(out, blob_name(digest), static_cast<int64_t>(content.size()));
    detail::write_bytes(out, content, blob_name(digest));
  }

  void file(const std::string& name, const std::string& content) {
    detail::write_file_header(out, name, static_cast<int64_t>(content.size()));
    detail::write_bytes(out, content, name);
  }
};

// Writes one image's blobs; returns how the archive describes it.
ArchivedImage write_image(Writer& w, const SaveItem& item, std::vector<oci::Descriptor>& manifests) {
  json m = oci::parse_json(w.layout.read_blob(item.manifest), "manifest " + item.manifest.digest);
  ArchivedImage image;
  image.config = oci::descriptor_from_json(m.at("config"));
  std::string config_text = w.layout.read_blob(image.config);  // verified: the id stays
  json config = oci::parse_json(config_text, "config " + image.config.digest);
  image.config.media_type = oci::kConfigType;
  image.config.annotations.clear();
  image.architecture = config.value("architecture", image.architecture);
  image.os = config.value("os", image.os);
  image.tags = item.tags;
  auto diff_ids = config.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
  auto stored = m.value("layers", json::array());
  if (stored.size() != diff_ids.size())
    throw core::Error("image " + item.image_id + ": manifest and config disagree on the layers");
  for (size_t i = 0; i < diff_ids.size(); ++i)
    image.layers.push_back(w.layer(oci::descriptor_from_json(stored[i]), diff_ids[i]));
  w.small_blob(config_text);
  std::string manifest_text = archive_manifest_json(image.config, image.layers).dump();
  w.small_blob(manifest_text);
  manifests.push_back({oci::kManifestType, "sha256:" + oci::sha256_hex(manifest_text),
                       static_cast<int64_t>(manifest_text.size()), {}});
  return image;
}

}  // namespace

std::vector<SaveItem> plan_save(Store& store, const std::vector<std::string>& names) {
  std::vector<SaveItem> plan;
  for (const auto& name : names) add_name(store, plan, name);
  return plan;
}

void save_images(const stdfs::path& images_dir, const std::vector<SaveItem>& plan, int out_fd) {
  ArchiveWriter out = detail::open_tar_writer(out_fd);
  Writer w{out.get(), oci::Layout(images_dir), {}, {}};
  detail::write_directory_header(out.get(), "blobs/");
  detail::write_directory_header(out.get(), "blobs/sha256/");
  std::vector<ArchivedImage> images;
  std::vector<oci::Descriptor> manifests;
  for (const auto& item : plan) images.push_back(write_image(w, item, manifests));
  w.file("index.json", archive_index_json(images, manifests).dump());
  w.file("manifest.json", docker_manifest_json(images).dump());
  w.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  json repositories = repositories_json(images);
  if (!repositories.empty()) w.file("repositories", repositories.dump());
  check_archive(out.get(), archive_write_close(out.get()), "write archive");
}

// ---- the pure parts -------------------------------------------------------------

json archive_manifest_json(const oci::Descriptor& config, const std::vector<oci::Descriptor>& layers) {
  json l = json::array();
  for (const auto& d : layers) l.push_back(oci::descriptor_to_json(d));
  return {{"schemaVersion", 2},
          {"mediaType", oci::kManifestType},
          {"config", oci::descriptor_to_json(config)},
          {"layers", l}};
}

json archive_index_json(const std::vector<ArchivedImage>& images,
                        const std::vector<oci::Descriptor>& manifests) {
  json entries = json::array();
  for (size_t i = 0; i < images.size(); ++i) {
    json entry = oci::descriptor_to_json(manifests.at(i));
    entry["platform"] = {{"architecture", images[i].architecture}, {"os", images[i].os}};
    if (images[i].tags.empty()) entries.push_back(entry);
    for (const auto& tag : images[i].tags) {
      entry["annotations"] = {{"io.containerd.image.name", tag.full()},
                              {oci::kRefNameAnnotation, tag.tag}};
      entries.push_back(entry);
    }
  }
  return {{"schemaVersion", 2}, {"mediaType", oci::kIndexType}, {"manifests", entries}};
}

json docker_manifest_json(const std::vector<ArchivedImage>& images) {
  json out = json::array();
  for (const auto& image : images) {
    json layers = json::array();
    for (const auto& l : image.layers) layers.push_back(blob_name(l.digest));
    json tags = nullptr;  // Docker writes null for an image saved untagged
    for (const auto& t : image.tags) tags.push_back(t.familiar());
    out.push_back({{"Config", blob_name(image.config.digest)}, {"RepoTags", tags}, {"Layers", layers}});
  }
  return out;
}

json repositories_json(const std::vector<ArchivedImage>& images) {
  json out = json::object();
  for (const auto& image : images)
    for (const auto& t : image.tags)
      if (!image.layers.empty())
        out[t.familiar_repository()][t.tag] = oci::digest_hex(image.layers.back().digest);
  return out;
}

}  // namespace skiff::images
