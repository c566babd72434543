// 05-images/manage.cpp — naming and removing images (see images.hpp).
//
// Lesson: lessons/05-images ("names are pointers, blobs are shared"). A tag
// is only an entry in index.json that points at a manifest; removing a tag
// removes that entry. An image goes away when nothing names it any more,
// and with it each blob and unpacked layer that no other image still
// points at: layers are shared, so deleting one image must never take a
// layer another image, or a container of that image, stands on.
#include <set>

#include "05-images/layer.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images {

using json = nlohmann::json;

namespace {

// Everything one manifest points at.
struct ManifestParts {
  std::string config;                // digest of the config blob: the image id
  std::vector<std::string> layers;   // digests of the layer blobs
  std::vector<std::string> diff_ids; // names of the unpacked layer directories
};

ManifestParts read_parts(const oci::Layout& layout, const oci::Descriptor& manifest) {
  json m = oci::parse_json(layout.read_blob(manifest), "manifest " + manifest.digest);
  ManifestParts parts;
  auto config = oci::descriptor_from_json(m.at("config"));
  parts.config = config.digest;
  for (const auto& l : m.value("layers", json::array()))
    parts.layers.push_back(oci::descriptor_from_json(l).digest);
  json c = oci::parse_json(layout.read_blob(config), "config " + config.digest);
  parts.diff_ids = c.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
  return parts;
}

// "docker.io/library/busybox:latest" → "busybox:latest"; other tools' names as they are.
std::string familiar_name(const std::string& ref_name) {
  try {
    return parse_reference(ref_name).familiar();
  } catch (const core::Error&) {
    return ref_name;
  }
}

bool is_tag(const std::string& ref_name) {
  try {
    return !parse_reference(ref_name).tag.empty();
  } catch (const core::Error&) {
    return true;  // a name another tool wrote: treat it as a tag
  }
}

// Deletes what the manifests GONE pointed at, unless a manifest still in the
// index points at it too. If any remaining manifest cannot be read, nothing
// is deleted: a blob kept by mistake costs space, one deleted by mistake
// costs an image.
void free_unreferenced(const stdfs::path& dir, const std::vector<oci::Descriptor>& gone,
                       Store::Removal& removal) {
  oci::Layout layout(dir);
  std::set<std::string> blobs_in_use, layers_in_use;
  try {
    for (const auto& d : layout.read_index()) {
      if (!detail::is_manifest(d)) {
        blobs_in_use.insert(d.digest);
        continue;
      }
      auto parts = read_parts(layout, d);
      blobs_in_use.insert(d.digest);
      blobs_in_use.insert(parts.config);
      blobs_in_use.insert(parts.layers.begin(), parts.layers.end());
      layers_in_use.insert(parts.diff_ids.begin(), parts.diff_ids.end());
    }
  } catch (const core::Error&) {
    return;
  }
  std::error_code ec;
  std::set<std::string> done;
  for (const auto& manifest : gone) {
    if (blobs_in_use.count(manifest.digest) || !done.insert(manifest.digest).second) continue;
    ManifestParts parts;
    try {
      parts = read_parts(layout, manifest);
    } catch (const core::Error&) {
      continue;  // already half gone: leave the rest alone
    }
    if (!blobs_in_use.count(parts.config)) removal.deleted.push_back(parts.config);
    for (const auto& diff_id : parts.diff_ids) {
      if (layers_in_use.count(diff_id) || !done.insert(diff_id).second) continue;
      removal.reclaimed += unpacked_layer_size(dir, diff_id);
      auto unpacked = unpacked_layer_dir(dir, diff_id);
      stdfs::remove_all(unpacked, ec);
      stdfs::remove(stdfs::path(unpacked.string() + ".size"), ec);
      removal.deleted.push_back(diff_id);
    }
    for (const auto& blob : parts.layers)
      if (!blobs_in_use.count(blob)) stdfs::remove(layout.blob_path(blob), ec);
    if (!blobs_in_use.count(parts.config)) stdfs::remove(layout.blob_path(parts.config), ec);
    stdfs::remove(layout.blob_path(manifest.digest), ec);
  }
}

// Removes every index entry of every manifest whose config is IMAGE_ID.
Store::Removal remove_locked(const stdfs::path& dir, const std::string& image_id) {
  oci::Layout layout(dir);
  std::set<std::string> manifests;
  for (const auto& d : layout.read_index())
    if (detail::is_manifest(d) && read_parts(layout, d).config == image_id) manifests.insert(d.digest);
  Store::Removal removal;
  auto dropped = layout.remove_entries([&](const oci::Descriptor& d) { return manifests.count(d.digest) > 0; });
  for (const auto& d : dropped)
    if (!d.ref_name().empty()) removal.untagged.push_back(familiar_name(d.ref_name()));
  free_unreferenced(dir, dropped, removal);
  return removal;
}

}  // namespace

void Store::tag(const Image& image, const Reference& target) {
  core::fs::FileLock lock(dir_ / "lock");
  oci::Layout layout(dir_);
  for (const auto& d : layout.read_index()) {
    if (d.digest != image.manifest_digest) continue;
    detail::name_image(layout, d, target);
    return;
  }
  throw core::Error("No such image: " + image.id, 1);
}

Store::Removal Store::untag(const Reference& ref, bool remove_if_last) {
  core::fs::FileLock lock(dir_ / "lock");
  oci::Layout layout(dir_);
  const std::string name = ref.full();
  auto dropped = layout.remove_entries([&](const oci::Descriptor& d) { return d.ref_name() == name; });
  if (dropped.empty()) throw core::Error("No such image: " + ref.familiar(), 1);
  Removal removal;
  removal.untagged.push_back(ref.familiar());
  const std::string manifest = dropped.front().digest;
  bool tagged = false, listed = false;
  for (const auto& d : layout.read_index()) {
    if (d.digest != manifest) continue;
    listed = true;
    tagged = tagged || (!d.ref_name().empty() && is_tag(d.ref_name()));
  }
  if (tagged) return removal;
  if (remove_if_last) {
    // Its repo digests go with it, then what it alone used.
    auto rest = layout.remove_entries([&](const oci::Descriptor& d) { return d.digest == manifest; });
    for (const auto& d : rest)
      if (!d.ref_name().empty()) removal.untagged.push_back(familiar_name(d.ref_name()));
    rest.insert(rest.end(), dropped.begin(), dropped.end());
    free_unreferenced(dir_, rest, removal);
  } else if (!listed) {
    layout.add_unnamed(dropped.front());  // kept for the container that uses it: <none>
  }
  return removal;
}

Store::Removal Store::remove(const Image& image) {
  core::fs::FileLock lock(dir_ / "lock");
  return remove_locked(dir_, image.id);
}

json Store::config(const Image& image) const {
  oci::Layout layout(dir_);
  for (const auto& d : layout.read_index()) {
    if (d.digest != image.manifest_digest) continue;
    json m = oci::parse_json(layout.read_blob(d), "manifest " + d.digest);
    auto config = oci::descriptor_from_json(m.at("config"));
    return oci::parse_json(layout.read_blob(config), "config " + config.digest);
  }
  throw core::Error("No such image: " + image.id, 1);
}

}  // namespace skiff::images
