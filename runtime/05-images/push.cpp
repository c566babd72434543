// 05-images/push.cpp — `skiff push`: an image of the store to its registry.
//
// Lesson: lessons/05-images ("push"). Blobs first, manifest last, so that a
// tag on the registry never names a blob it does not hold:
//
//   for each layer, then the config:
//     HEAD /v2/NAME/blobs/DIGEST            200: "Layer already exists"
//     POST /v2/NAME/blobs/uploads/          202 + Location: an upload session
//     PUT  LOCATION?digest=DIGEST  <bytes>  201: the registry checked the digest
//   PUT /v2/NAME/manifests/TAG  <the manifest's bytes, unchanged>
//
// The manifest is sent byte for byte as the store holds it, so its digest on
// the registry is the one skiff already knows.
// Runs in: the CLI. Privilege: read access to the store.
#include <algorithm>

#include "05-images/registry.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images::registry {

using json = nlohmann::json;

namespace {

std::string short_hex(const std::string& digest) { return oci::digest_hex(digest).substr(0, 12); }

[[noreturn]] void refused(const http::Response& r, const std::string& what) {
  if (r.status == 401 || r.status == 403) throw core::Error(error_text(r) == "401 Unauthorized"
                                                                ? "denied: requested access to the resource is denied"
                                                                : error_text(r));
  throw core::Error(daemon_error(what + ": " + error_text(r)));
}

bool blob_exists(Session& s, const std::string& digest) {
  auto r = s.send({.method = "HEAD"}, "/v2/" + s.repository() + "/blobs/" + digest);
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  refused(r, "HEAD blob " + digest);
}

// A relative Location ("/v2/…/uploads/UUID?_state=…") is on the same server.
std::string absolute(const Session& s, const std::string& location) {
  return location.starts_with("/") ? s.base_url() + location : location;
}

// One monolithic upload: POST opens the session, PUT sends every byte.
void upload_blob(Session& s, const stdfs::path& file, const std::string& digest) {
  auto opened = s.send({.method = "POST"}, "/v2/" + s.repository() + "/blobs/uploads/");
  if (opened.status != 202 || opened.header("location").empty()) refused(opened, "POST upload of " + digest);
  std::string url = absolute(s, opened.header("location"));
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("digest=sha256%3A") +
         oci::digest_hex(digest);
  http::Request put{.method = "PUT", .headers = {"Content-Type: application/octet-stream"}, .body_file = file};
  auto done = s.send(put, url);
  if (done.status != 201) refused(done, "PUT blob " + digest);
}

// Pushes one blob unless the registry has it; false when it had it.
bool push_blob(Session& s, const oci::Layout& layout, const oci::Descriptor& d) {
  if (!layout.has_blob(d.digest))
    throw core::Error("blob " + d.digest + " is missing from the store: the image cannot be pushed");
  if (blob_exists(s, d.digest)) return false;
  upload_blob(s, layout.blob_path(d.digest), d.digest);
  return true;
}

std::string not_found(const Reference& ref) {
  if (ref.tag == "latest") return "An image does not exist locally with the tag: " + ref.familiar_repository();
  return "tag does not exist: " + ref.familiar();
}

}  // namespace

PushResult push(const stdfs::path& dir, const Reference& ref, const ClientConfig& config, Progress& progress) {
  if (!ref.digest.empty()) throw core::Error("cannot push a digest reference");
  oci::Layout layout(dir);
  auto manifest = detail::lookup_ref(layout.read_index(), ref.full());
  if (!manifest) throw core::Error(not_found(ref));
  std::string bytes = layout.read_blob(*manifest);
  ImageManifest parts = parse_image_manifest(bytes);
  json image_config = oci::parse_json(layout.read_blob(parts.config), "config " + parts.config.digest);
  auto diff_ids = image_config.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
  if (diff_ids.size() != parts.layers.size())
    throw core::Error("image " + parts.config.digest + ": manifest and config disagree on the layers");

  progress.line("The push refers to repository [" + ref.registry + "/" + ref.repository + "]");
  Session session(target_for(ref.registry, ref.repository, "pull,push", config),
                  config.credentials_for(ref.registry));
  // Docker lists the top layer first, and names layers by their diff_id.
  for (size_t i = parts.layers.size(); i-- > 0;) progress.layer(short_hex(diff_ids[i]), "Preparing");
  for (size_t i = parts.layers.size(); i-- > 0;) {
    std::string id = short_hex(diff_ids[i]);
    progress.layer(id, "Pushing");
    progress.layer(id, push_blob(session, layout, parts.layers[i]) ? "Pushed" : "Layer already exists");
  }
  push_blob(session, layout, parts.config);

  std::string type = manifest_media_type(oci::parse_json(bytes, "manifest"), manifest->media_type);
  http::Request put{.method = "PUT", .headers = {"Content-Type: " + type}, .body = bytes};
  auto r = session.send(put, "/v2/" + ref.repository + "/manifests/" + ref.tag);
  if (r.status != 201) refused(r, "PUT manifest " + ref.tag);
  PushResult result{manifest->digest, static_cast<int64_t>(bytes.size())};
  {
    // As Docker does: the image now also has the repo digest NAME@DIGEST,
    // which `images --digests` and inspect's RepoDigests show.
    core::fs::FileLock lock(dir / "lock");
    layout.set_ref(*manifest, ref.registry + "/" + ref.repository + "@" + manifest->digest);
  }
  progress.line(ref.tag + ": digest: " + result.digest + " size: " + std::to_string(result.size));
  return result;
}

}  // namespace skiff::images::registry
