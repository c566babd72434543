// 05-images/layout.cpp — the OCI image layout on disk (see oci.hpp).
//
// Lesson: lessons/05-images ("what an image is on disk"). Blobs are
// immutable and named by their sha256; only index.json ever changes, and it
// is replaced whole (write to a temporary file, then rename), so a reader
// sees the old index or the new one, never half of one.
#include <nlohmann/json.hpp>
#include <stdio.h>

#include <cerrno>

#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images::oci {

using json = nlohmann::json;

json parse_json(const std::string& text, const std::string& what) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw core::Error("read " + what + ": not valid JSON: " + e.what());
  }
}

Descriptor descriptor_from_json(const json& j) {
  if (!j.is_object() || !j.contains("digest")) throw core::Error("malformed OCI descriptor: " + j.dump());
  Descriptor d;
  d.media_type = j.value("mediaType", "");
  d.digest = j.value("digest", "");
  d.size = j.value("size", int64_t{0});
  if (auto a = j.find("annotations"); a != j.end() && a->is_object())
    d.annotations = a->get<std::map<std::string, std::string>>();
  return d;
}

json descriptor_to_json(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  return j;
}

namespace {

json read_index_json(const stdfs::path& path) {
  auto text = core::fs::read_file_if_exists(path);
  if (!text) return json{{"schemaVersion", 2}, {"mediaType", kIndexType}, {"manifests", json::array()}};
  return parse_json(*text, path.string());
}

}  // namespace

std::string Descriptor::ref_name() const {
  auto it = annotations.find(kRefNameAnnotation);
  return it == annotations.end() ? "" : it->second;
}

void Layout::init() const {
  core::fs::make_dirs(dir_ / "blobs" / "sha256");
  core::fs::make_dirs(dir_ / "layers");
  // oci-layout marks the directory as an image layout, for skopeo and umoci.
  if (!stdfs::exists(dir_ / "oci-layout"))
    core::fs::write_file_atomic(dir_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
}

stdfs::path Layout::blob_path(std::string_view digest) const {
  return dir_ / "blobs" / "sha256" / digest_hex(digest);
}

Descriptor Layout::put_blob(std::string_view media_type, std::string_view content) const {
  Descriptor d{std::string(media_type), "sha256:" + sha256_hex(content),
               static_cast<int64_t>(content.size()), {}};
  auto path = blob_path(d.digest);
  // Same name means same bytes: a blob that exists need not be written again.
  if (!stdfs::exists(path)) core::fs::write_file_atomic(path, content);
  return d;
}

Descriptor Layout::put_blob_file(std::string_view media_type, const stdfs::path& file,
                                 std::string_view expected_digest) const {
  std::error_code ec;
  Descriptor d{std::string(media_type), "sha256:" + sha256_file_hex(file),
               static_cast<int64_t>(stdfs::file_size(file)), {}};
  if (!expected_digest.empty() && d.digest != expected_digest) {
    stdfs::remove(file, ec);
    throw core::Error("blob " + std::string(expected_digest) + ": the content received has digest " +
                      d.digest + ", not the one expected");
  }
  auto path = blob_path(d.digest);
  if (::rename(file.c_str(), path.c_str()) < 0) {
    int err = errno;
    stdfs::remove(file, ec);
    throw core::SystemError(err, "rename(" + file.string() + " → " + path.string() + ")");
  }
  return d;
}

bool Layout::has_blob(std::string_view digest) const { return stdfs::exists(blob_path(digest)); }

std::string Layout::read_blob(const Descriptor& d) const {
  auto path = blob_path(d.digest);
  std::string content = core::fs::read_file(path);
  if ("sha256:" + sha256_hex(content) != d.digest)
    throw core::Error("blob " + path.string() + " is corrupt: its content does not match its digest");
  return content;
}

void Layout::verify_blob_file(const Descriptor& d) const {
  auto path = blob_path(d.digest);
  if ("sha256:" + sha256_file_hex(path) != d.digest)
    throw core::Error("blob " + path.string() + " is corrupt: its content does not match its digest");
}

std::vector<Descriptor> Layout::read_index() const {
  json index = read_index_json(dir_ / "index.json");
  std::vector<Descriptor> out;
  for (const auto& m : index.value("manifests", json::array())) out.push_back(descriptor_from_json(m));
  return out;
}

void Layout::set_ref(const Descriptor& manifest, const std::string& name) const {
  // Edit the JSON itself rather than our Descriptor copies, so fields skiff
  // does not know (platform, urls…) written by other tools survive.
  json index = read_index_json(dir_ / "index.json");
  json kept = json::array();
  for (const auto& m : index.value("manifests", json::array()))
    if (descriptor_from_json(m).ref_name() != name) kept.push_back(m);
  Descriptor named = manifest;
  named.annotations[kRefNameAnnotation] = name;
  kept.push_back(descriptor_to_json(named));
  index["schemaVersion"] = 2;
  index["manifests"] = kept;
  core::fs::write_file_atomic(dir_ / "index.json", index.dump(2) + "\n");
}

std::vector<Descriptor> Layout::remove_entries(
    const std::function<bool(const Descriptor&)>& drop) const {
  json index = read_index_json(dir_ / "index.json");
  json kept = json::array();
  std::vector<Descriptor> dropped;
  for (const auto& m : index.value("manifests", json::array())) {
    auto d = descriptor_from_json(m);
    if (drop(d)) dropped.push_back(d);
    else kept.push_back(m);
  }
  if (dropped.empty()) return dropped;
  index["manifests"] = kept;
  core::fs::write_file_atomic(dir_ / "index.json", index.dump(2) + "\n");
  return dropped;
}

void Layout::add_unnamed(const Descriptor& manifest) const {
  json index = read_index_json(dir_ / "index.json");
  json manifests = index.value("manifests", json::array());
  for (const auto& m : manifests) {
    auto d = descriptor_from_json(m);
    if (d.digest == manifest.digest && d.ref_name().empty()) return;
  }
  Descriptor unnamed = manifest;
  unnamed.annotations.erase(kRefNameAnnotation);
  manifests.push_back(descriptor_to_json(unnamed));
  index["schemaVersion"] = 2;
  index["manifests"] = manifests;
  core::fs::write_file_atomic(dir_ / "index.json", index.dump(2) + "\n");
}

}  // namespace skiff::images::oci
