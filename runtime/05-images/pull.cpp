// 05-images/pull.cpp — `skiff pull`: from a name to an image in the store.
//
// Lesson: lessons/05-images ("pull, step by step"). The steps:
//
//   resolve   GET the manifest named by the tag or digest (a Docker Hub name
//             tries the configured mirrors first); an index (one manifest per
//             platform) leads to the manifest for this machine or --platform;
//             every manifest is checked against the sha256 of its bytes
//   compare   the tag already names that manifest: "Image is up to date"
//   download  the config, then the missing layers, a few at once, each into
//             a temporary file inside the store and checked against its digest
//   commit    under the store lock: move the blobs into blobs/sha256/, unpack
//             each layer once (layers/<diff_id>/), store the manifest byte for
//             byte, name the image (tag, and name@digest for `images --digests`)
//
// Until the last step nothing names what was downloaded, and a failure
// removes every file the pull added: the store is as it was.
// Runs in: the CLI. Privilege: write access to the store.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <thread>

#include "05-images/layer.hpp"
#include "05-images/registry.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images::registry {

using json = nlohmann::json;

namespace {

using detail::Undo;


// "sha256:3f57d9…" → "3f57d9401f8d", the id Docker shows for a layer.
std::string short_id(const std::string& digest) { return oci::digest_hex(digest).substr(0, 12); }

std::string sha256_digest(const std::string& bytes) { return "sha256:" + oci::sha256_hex(bytes); }

// What a reference resolved to.
struct Resolved {
  std::string digest;          // of what the name points at (an index or a manifest)
  std::string manifest_bytes;  // the image manifest, exactly as served
  oci::Descriptor manifest;    // its media type, digest and size
  ImageManifest parts;
};

http::Response get_manifest(Session& s, const std::string& reference, const Reference& ref) {
  http::Request request{.headers = {accept_header()}};
  auto r = s.send(request, "/v2/" + s.repository() + "/manifests/" + reference);
  if (r.status == 200) return r;
  if (r.status == 404)
    throw core::Error(daemon_error("manifest for " + ref.full() + " not found: " + error_text(r)));
  if (r.status == 401 || r.status == 403)
    throw core::Error(daemon_error("pull access denied for " + ref.familiar_repository() +
                                   ", repository does not exist or may require 'skiff login': " +
                                   error_text(r)));
  throw core::Error(daemon_error("Get \"" + s.base_url() + "/v2/" + s.repository() + "/manifests/" +
                                 reference + "\": " + error_text(r)));
}

// The bytes must be those the digest names: a registry (or a mirror, or a
// proxy on the way) cannot hand over another manifest than the one pinned.
void check_manifest_digest(const std::string& bytes, const std::string& expected) {
  if (sha256_digest(bytes) != expected)
    throw core::Error(daemon_error("manifest verification failed for digest " + expected));
}

Resolved resolve(Session& s, const Reference& ref, const Platform& platform) {
  std::string reference = ref.digest.empty() ? ref.tag : ref.digest;
  http::Response r = get_manifest(s, reference, ref);
  Resolved out;
  out.digest = sha256_digest(r.body);
  if (!ref.digest.empty()) check_manifest_digest(r.body, ref.digest);
  json m = oci::parse_json(r.body, "manifest " + out.digest);
  std::string type = manifest_media_type(m, r.header("content-type"));
  if (is_index_type(type)) {
    oci::Descriptor chosen = choose_platform(m, platform);
    r = get_manifest(s, chosen.digest, ref);
    check_manifest_digest(r.body, chosen.digest);
    type = manifest_media_type(oci::parse_json(r.body, "manifest " + chosen.digest), r.header("content-type"));
  }
  if (!is_image_manifest_type(type))
    throw core::Error(daemon_error("unsupported manifest media type \"" + type + "\" for " + ref.full()));
  out.manifest_bytes = r.body;
  out.manifest = {type, sha256_digest(r.body), static_cast<int64_t>(r.body.size()), {}};
  out.parts = parse_image_manifest(r.body);
  return out;
}

// Docker Hub's mirrors first, then the registry itself. A mirror that fails
// in any way is passed over, as Docker does.
std::vector<Session::Target> targets(const Reference& ref, const ClientConfig& config) {
  std::vector<Session::Target> out;
  if (ref.registry == kDockerHub)
    for (const auto& mirror : config.mirrors) out.push_back(mirror_target(mirror, ref.repository, config));
  out.push_back(target_for(ref.registry, ref.repository, "pull", config));
  return out;
}

struct Connected {
  std::unique_ptr<Session> session;
  Resolved resolved;
};

Connected connect_and_resolve(const Reference& ref, const ClientConfig& config, const Platform& platform) {
  auto list = targets(ref, config);
  for (size_t i = 0;; ++i) {
    bool is_mirror = i + 1 < list.size();
    auto credentials = is_mirror ? std::nullopt : config.credentials_for(ref.registry);
    auto session = std::make_unique<Session>(list[i], credentials);
    try {
      Resolved resolved = resolve(*session, ref, platform);
      return {std::move(session), std::move(resolved)};
    } catch (const core::Error&) {
      if (!is_mirror) throw;
    }
  }
}

// A temporary file inside the store, so that rename(2) can move it into place.
stdfs::path temp_path(const stdfs::path& dir, const std::string& digest) {
  return dir / ("pull-" + std::to_string(::getpid()) + "-" + oci::digest_hex(digest) + ".tmp");
}

// GETs the blob D into TO and checks it against its digest.
void download_blob(Session& s, const oci::Descriptor& d, const stdfs::path& to, Progress& progress,
                   bool report) {
  std::string id = short_id(d.digest);
  http::Request request{.save_to = to};
  if (report)
    request.progress = [&](int64_t done, int64_t total) {
      progress.layer(id, "Downloading", done, total > 0 ? total : d.size);
    };
  auto r = s.send(request, "/v2/" + s.repository() + "/blobs/" + d.digest);
  if (r.status != 200)
    throw core::Error(daemon_error("Get blob " + d.digest + " of " + s.repository() + ": " + error_text(r)));
  if (report) progress.layer(id, "Verifying Checksum");
  if ("sha256:" + oci::sha256_file_hex(to) != d.digest)
    throw core::Error(daemon_error("filesystem layer verification failed for digest " + d.digest));
  if (report) progress.layer(id, "Download complete");
}

// Downloads JOBS with up to PARALLEL threads; the first failure stops the
// others from starting more, and is rethrown once all have ended.
void download_all(Session& s, const std::vector<oci::Descriptor>& jobs, const stdfs::path& dir,
                  int parallel, Progress& progress) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::vector<std::exception_ptr> errors(jobs.size());
  auto worker = [&] {
    for (size_t i; !failed && (i = next++) < jobs.size();) {
      try {
        download_blob(s, jobs[i], temp_path(dir, jobs[i].digest), progress, true);
      } catch (...) {
        errors[i] = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < parallel && static_cast<size_t>(t) < jobs.size(); ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// The layers that are not in the store yet, each blob once.
std::vector<oci::Descriptor> missing_layers(const oci::Layout& layout, const ImageManifest& parts,
                                            Progress& progress) {
  std::vector<oci::Descriptor> out;
  for (const auto& l : parts.layers) {
    bool queued = std::any_of(out.begin(), out.end(), [&](auto& o) { return o.digest == l.digest; });
    if (layout.has_blob(l.digest) && !queued) progress.layer(short_id(l.digest), "Already exists");
    else if (!queued) out.push_back(l), progress.layer(short_id(l.digest), "Pulling fs layer");
  }
  return out;
}

json read_config(const stdfs::path& file, const std::string& digest) {
  return oci::parse_json(core::fs::read_file(file), "config " + digest);
}

void check_platform(const json& config, const std::optional<Platform>& wanted, const Reference& ref) {
  if (!wanted) return;
  Platform actual{config.value("os", ""), config.value("architecture", ""), config.value("variant", "")};
  if (actual.os != wanted->os || actual.architecture != wanted->architecture)
    throw core::Error(daemon_error("image with reference " + ref.full() +
                                   " was found but does not match the specified platform: wanted " +
                                   wanted->text() + ", actual: " + actual.text()));
}

std::string repo_digest_name(const Reference& ref, const std::string& digest) {
  return ref.registry + "/" + ref.repository + "@" + digest;
}

// Moves a verified temporary file to its blob path, tracked by UNDO.
void move_blob(const oci::Layout& layout, const stdfs::path& tmp, const std::string& digest, Undo& undo) {
  auto blob = layout.blob_path(digest);
  undo.add_if_new(blob);
  if (::rename(tmp.c_str(), blob.c_str()) < 0)
    throw core::SystemError(errno, "rename(" + tmp.string() + " → " + blob.string() + ")");
}

// The image's names: its tag (when pulled by tag) and name@digest.
void name_pulled(const oci::Layout& layout, const Reference& ref, const Resolved& r) {
  if (ref.digest.empty()) detail::name_image(layout, r.manifest, ref);
  layout.set_ref(r.manifest, repo_digest_name(ref, r.digest));
}

// The commit step of the header comment; the caller holds the store lock.
void commit_locked(const stdfs::path& dir, const Reference& ref, const Resolved& r,
                   const std::vector<oci::Descriptor>& downloaded, const std::vector<std::string>& diff_ids,
                   Progress& progress) {
  oci::Layout layout(dir);
  Undo undo;
  for (const auto& d : downloaded) move_blob(layout, temp_path(dir, d.digest), d.digest, undo);
  for (size_t i = 0; i < r.parts.layers.size(); ++i) {
    const auto& l = r.parts.layers[i];
    bool fresh = std::any_of(downloaded.begin(), downloaded.end(), [&](auto& d) { return d.digest == l.digest; });
    auto layer_dir = unpacked_layer_dir(dir, diff_ids[i]);
    undo.add_if_new(layer_dir);
    undo.add_if_new(stdfs::path(layer_dir.string() + ".size"));
    if (fresh) progress.layer(short_id(l.digest), "Extracting");
    install_layer(dir, layout.blob_path(l.digest), diff_ids[i]);
    if (fresh) progress.layer(short_id(l.digest), "Pull complete");
  }
  undo.add_if_new(layout.blob_path(r.manifest.digest));
  layout.put_blob(r.manifest.media_type, r.manifest_bytes);
  name_pulled(layout, ref, r);
  undo.commit();
}

bool up_to_date(const oci::Layout& layout, const Reference& ref, const Resolved& r) {
  auto index = layout.read_index();
  auto named = detail::lookup_ref(index, ref.digest.empty() ? ref.full() : repo_digest_name(ref, r.digest));
  return named && named->digest == r.manifest.digest && layout.has_blob(r.manifest.digest);
}

}  // namespace

PullResult pull(const stdfs::path& dir, const Reference& ref, const ClientConfig& config,
                const PullOptions& options, Progress& progress) {
  auto [session, resolved] = connect_and_resolve(ref, config, options.platform.value_or(host_platform()));
  progress.line((ref.digest.empty() ? ref.tag : ref.digest) + ": Pulling from " + ref.repository);
  core::fs::make_dirs(dir);
  oci::Layout layout(dir);
  layout.init();
  PullResult result{resolved.digest, false, {}};

  if (up_to_date(layout, ref, resolved)) {
    core::fs::FileLock lock(dir / "lock");
    name_pulled(layout, ref, resolved);  // the name@digest of an older skiff's pull
  } else {
    Undo temps;  // every temporary file, whatever happens
    const auto& config_desc = resolved.parts.config;
    std::vector<oci::Descriptor> downloads;
    if (!layout.has_blob(config_desc.digest)) {
      temps.add(temp_path(dir, config_desc.digest));
      download_blob(*session, config_desc, temp_path(dir, config_desc.digest), progress, false);
      downloads.push_back(config_desc);
    }
    json image_config = read_config(layout.has_blob(config_desc.digest) ? layout.blob_path(config_desc.digest)
                                                                         : temp_path(dir, config_desc.digest),
                                    config_desc.digest);
    check_platform(image_config, options.platform, ref);
    auto diff_ids = image_config.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
    if (diff_ids.size() != resolved.parts.layers.size())
      throw core::Error(daemon_error("image " + config_desc.digest + ": manifest and config disagree on the layers"));

    auto layers = missing_layers(layout, resolved.parts, progress);
    for (const auto& l : layers) temps.add(temp_path(dir, l.digest));
    download_all(*session, layers, dir, options.parallel_downloads, progress);
    downloads.insert(downloads.end(), layers.begin(), layers.end());
    core::fs::FileLock lock(dir / "lock");
    commit_locked(dir, ref, resolved, downloads, diff_ids, progress);
    result.downloaded = true;
  }
  progress.line("Digest: " + resolved.digest);
  result.image = detail::load_image(dir, resolved.manifest, layout.read_index());
  return result;
}

}  // namespace skiff::images::registry
