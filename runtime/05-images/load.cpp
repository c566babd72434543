// 05-images/load.cpp — `skiff load`: images from a tar into the store
// (see archive.hpp).
//
// Lesson: lessons/05-images ("trust nothing you did not hash"). The steps,
// under the store lock:
//
//   unpack the tar into a temporary directory inside the store → read its
//   index.json (OCI) or else its manifest.json (Docker) → for each image:
//   the config's digest is the image id; each layer's uncompressed digest
//   must be the config's diff_id → move the blobs in, unpack the layers
//   → name the images in index.json
//
// Until the last step nothing points at what was added, so a load that fails
// removes it again (and puts index.json back): the store is as it was.
#include <archive_entry.h>
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
#include "core/fs.hpp"

namespace skiff::images {

using json = nlohmann::json;

namespace {

using detail::Undo;

constexpr int64_t kMaxJsonSize = 8 << 20;  // manifests and configs are small

// ---- the archive, unpacked in a temporary directory -------------------------

// Regular files are written under ROOT; links are only remembered, never
// made on disk, so nothing in the archive can point outside it.
struct Unpacked {
  stdfs::path root;
  std::set<std::string> files;
  std::map<std::string, std::string> symlinks, hardlinks;

  bool has(const std::string& name) const { return files.count(name) != 0; }

  // The file NAME (links followed); WHO says which manifest named it.
  stdfs::path file(const std::string& name, const std::string& who) const {
    auto resolved = resolve_archive_path(symlinks, hardlinks, name);
    if (!resolved || !has(*resolved))
      throw core::Error(who + " names " + name + ", which the archive does not hold");
    return root / *resolved;
  }

  std::string read_json_text(const std::string& name, const std::string& who) const {
    auto path = file(name, who);
    if (static_cast<int64_t>(stdfs::file_size(path)) > kMaxJsonSize)
      throw core::Error(name + " is too large to be JSON of an image");
    return core::fs::read_file(path);
  }
};

void write_entry_data(archive* in, const stdfs::path& to, int64_t size) {
  core::Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!out.valid()) throw core::SystemError(errno, "open(" + to.string() + ")");
  const void* block;
  size_t n;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(in, &block, &n, &offset);
    if (r == ARCHIVE_EOF) break;
    check_archive(in, r, "read the archive");
    if (::pwrite(out.get(), block, n, offset) != static_cast<ssize_t>(n))
      throw core::SystemError(errno, "write(" + to.string() + ")");
  }
  if (::ftruncate(out.get(), size) < 0) throw core::SystemError(errno, "ftruncate(" + to.string() + ")");
}

void add_entry(archive* in, archive_entry* entry, Unpacked& u) {
  auto name = clean_archive_path(archive_entry_pathname(entry));
  if (!name) return;  // ".", or a name that would leave the archive: never read
  if (const char* link = archive_entry_hardlink(entry)) {
    if (auto target = clean_archive_path(link)) u.hardlinks[*name] = *target;
    return;
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR:
      core::fs::make_dirs(u.root / *name);
      return;
    case AE_IFLNK:
      u.symlinks[*name] = archive_entry_symlink(entry);
      return;
    case AE_IFREG:
      core::fs::make_dirs((u.root / *name).parent_path());
      write_entry_data(in, u.root / *name, archive_entry_size(entry));
      u.files.insert(*name);
      return;
    default:
      return;  // devices, fifos: nothing an image archive holds
  }
}

// Reads the whole tar from FD into U.root. A file that is not a tar, or one
// cut short, fails here, before anything is looked at.
Unpacked unpack_archive(int fd, const stdfs::path& root) {
  Unpacked u{root, {}, {}, {}};
  ArchiveReader in(archive_read_new());
  if (!in) throw core::Error("libarchive: out of memory");
  detail::support_compression(in.get());
  archive_read_support_format_tar(in.get());
  if (archive_read_open_fd(in.get(), fd, 1 << 16) != ARCHIVE_OK)
    throw core::Error("not a tar archive: " + archive_message(in.get()));
  archive_entry* entry;
  int count = 0;
  for (;; ++count) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN && count == 0)
      throw core::Error("not a tar archive (plain, gzip, bzip2, xz or zstd): " +
                        archive_message(in.get()));
    check_archive(in.get(), r, "read the archive");
    add_entry(in.get(), entry, u);
  }
  if (count == 0) throw core::Error("the archive is empty");
  return u;
}

// ---- what the archive says: images to store ------------------------------------

struct IncomingLayer {
  stdfs::path file;          // inside the temporary directory
  oci::Descriptor desc;      // as the manifest names it (digest checked on the move)
};

struct Incoming {
  std::string manifest_text;
  std::string manifest_type;
  std::string config_text;
  oci::Descriptor config;
  std::vector<IncomingLayer> layers;
  std::vector<std::string> diff_ids;
  std::vector<Reference> names;
};

// Checks that TEXT is the blob DIGEST names: the one check that makes every
// other blob trustworthy (a manifest names its config and layers by digest).
void check_digest(const std::string& text, const std::string& digest, const std::string& what) {
  if ("sha256:" + oci::sha256_hex(text) != digest)
    throw core::Error(what + ": its content does not match its digest " + digest);
}

std::vector<std::string> diff_ids_of(const json& config, const std::string& id) {
  auto rootfs = config.find("rootfs");
  if (rootfs == config.end() || !rootfs->contains("diff_ids") || !(*rootfs)["diff_ids"].is_array())
    throw core::Error("config " + id + " has no rootfs.diff_ids");
  return (*rootfs)["diff_ids"].get<std::vector<std::string>>();
}

// Reads the config named by CONFIG_DESC and fills what it gives.
void read_config(const Unpacked& u, Incoming& image, const std::string& path, const std::string& who) {
  image.config_text = u.read_json_text(path, who);
  image.config.media_type = oci::kConfigType;
  image.config.digest = "sha256:" + oci::sha256_hex(image.config_text);  // the image id
  image.config.size = static_cast<int64_t>(image.config_text.size());
  image.diff_ids = diff_ids_of(oci::parse_json(image.config_text, path), image.config.digest);
}

// Docker's manifest.json: [{"Config": "<path>", "RepoTags": [...], "Layers": ["<path>", ...]}].
Incoming read_docker_entry(const Unpacked& u, const json& entry) {
  Incoming image;
  read_config(u, image, entry.at("Config").get<std::string>(), "manifest.json");
  for (const auto& path : entry.value("Layers", json::array())) {
    auto file = u.file(path.get<std::string>(), "manifest.json");
    oci::Descriptor d{detail::layer_media_type_of(file), "sha256:" + oci::sha256_file_hex(file),
                      static_cast<int64_t>(stdfs::file_size(file)), {}};
    image.layers.push_back({file, d});
  }
  if (auto tags = entry.find("RepoTags"); tags != entry.end() && tags->is_array())
    for (const auto& t : *tags) image.names.push_back(parse_reference(t.get<std::string>()));
  std::vector<oci::Descriptor> descs;
  for (const auto& l : image.layers) descs.push_back(l.desc);
  image.manifest_text = archive_manifest_json(image.config, descs).dump();
  image.manifest_type = oci::kManifestType;
  return image;
}

std::vector<Incoming> read_docker_archive(const Unpacked& u) {
  json manifest = oci::parse_json(u.read_json_text("manifest.json", "the archive"), "manifest.json");
  if (!manifest.is_array()) throw core::Error("manifest.json is not a list of images");
  std::vector<Incoming> out;
  for (const auto& entry : manifest) out.push_back(read_docker_entry(u, entry));
  return out;
}

std::string blob_path_in_archive(const std::string& digest) {
  return "blobs/sha256/" + oci::digest_hex(digest);
}

bool is_index_type(const std::string& t) {
  return t == oci::kIndexType || t == "application/vnd.docker.distribution.manifest.list.v2+json";
}

// An index (or Docker manifest list) inside the archive: the manifest for
// this machine, as `docker load` of a multi-platform image picks it.
oci::Descriptor pick_platform(const Unpacked& u, const oci::Descriptor& index) {
  std::string text = u.read_json_text(blob_path_in_archive(index.digest), "index.json");
  check_digest(text, index.digest, "index " + index.digest);
  auto manifests = oci::parse_json(text, "index " + index.digest).value("manifests", json::array());
  for (const auto& m : manifests) {
    auto p = m.value("platform", json::object());
    if (p.value("os", "") == "linux" && p.value("architecture", "") == detail::oci_architecture())
      return oci::descriptor_from_json(m);
  }
  if (manifests.size() == 1) return oci::descriptor_from_json(manifests[0]);
  throw core::Error("index " + index.digest + " has no image for linux/" + detail::oci_architecture());
}

Incoming read_oci_manifest(const Unpacked& u, oci::Descriptor manifest) {
  if (is_index_type(manifest.media_type)) manifest = pick_platform(u, manifest);
  Incoming image;
  image.manifest_text = u.read_json_text(blob_path_in_archive(manifest.digest), "index.json");
  check_digest(image.manifest_text, manifest.digest, "manifest " + manifest.digest);
  image.manifest_type = manifest.media_type.empty() ? oci::kManifestType : manifest.media_type;
  json m = oci::parse_json(image.manifest_text, "manifest " + manifest.digest);
  auto config = oci::descriptor_from_json(m.at("config"));
  read_config(u, image, blob_path_in_archive(config.digest), "manifest " + manifest.digest);
  if (image.config.digest != config.digest)
    throw core::Error("config " + config.digest + ": its content does not match its digest");
  image.config.media_type = config.media_type;
  for (const auto& l : m.value("layers", json::array())) {
    auto d = oci::descriptor_from_json(l);
    image.layers.push_back({u.file(blob_path_in_archive(d.digest), "manifest " + manifest.digest), d});
  }
  return image;
}

std::vector<Incoming> read_oci_archive(const Unpacked& u) {
  json index = oci::parse_json(u.read_json_text("index.json", "the archive"), "index.json");
  std::vector<Incoming> out;
  std::vector<std::string> seen;  // manifest digests: one image, many names
  for (const auto& entry : index.value("manifests", json::array())) {
    auto d = oci::descriptor_from_json(entry);
    auto name = name_from_annotations(d.annotations);
    size_t at = static_cast<size_t>(std::find(seen.begin(), seen.end(), d.digest) - seen.begin());
    if (at == seen.size()) {
      seen.push_back(d.digest);
      out.push_back(read_oci_manifest(u, d));
    }
    if (name) out[at].names.push_back(*name);
  }
  if (out.empty()) throw core::Error("index.json lists no image");
  return out;
}

// ---- into the store ---------------------------------------------------------------


// The sha256 of the uncompressed bytes of the layer blob FILE.
std::string diff_id_of(const stdfs::path& file) {
  if (detail::layer_media_type_of(file) == oci::kLayerTarType) return "sha256:" + oci::sha256_file_hex(file);
  detail::Decompressed in(file);
  oci::Sha256 hash;
  std::vector<char> buffer(1 << 16);  // on the heap: see digest.cpp
  char* buf = buffer.data();
  for (size_t k; (k = in.read(buf, buffer.size())) > 0;) hash.update(std::string_view(buf, k));
  return "sha256:" + hash.hex();
}

// The layer's uncompressed bytes must be what the config says they are. A
// blob an earlier image of the archive already moved in is checked there.
void check_diff_id(const oci::Layout& layout, const IncomingLayer& layer, const std::string& diff_id,
                   size_t n) {
  auto file = stdfs::exists(layer.file) ? layer.file : layout.blob_path(layer.desc.digest);
  std::string got = diff_id_of(file);
  if (got != diff_id)
    throw core::Error("layer " + std::to_string(n + 1) + " (" + layer.desc.digest +
                      "): its content does not match the diff_id " + diff_id +
                      " the image's config gives (got " + got + ")");
}

void store_layer(const oci::Layout& layout, const stdfs::path& dir, const IncomingLayer& layer,
                 const std::string& diff_id, Undo& undo) {
  auto blob = layout.blob_path(layer.desc.digest);
  if (!stdfs::exists(blob)) {
    undo.add_if_new(blob);
    // The same file may serve two images: the first one moves it in.
    if (stdfs::exists(layer.file)) layout.put_blob_file(layer.desc.media_type, layer.file, layer.desc.digest);
    else throw core::Error("layer " + layer.desc.digest + " vanished from the archive's directory");
  }
  auto unpacked = unpacked_layer_dir(dir, diff_id);
  undo.add_if_new(unpacked);
  undo.add_if_new(stdfs::path(unpacked.string() + ".size"));
  install_layer(dir, blob, diff_id);
}

void store_image(const oci::Layout& layout, const stdfs::path& dir, const Incoming& image, Undo& undo) {
  if (image.diff_ids.size() != image.layers.size())
    throw core::Error("image " + image.config.digest + ": its manifest lists " +
                      std::to_string(image.layers.size()) + " layers, its config " +
                      std::to_string(image.diff_ids.size()));
  for (size_t i = 0; i < image.layers.size(); ++i) {
    check_diff_id(layout, image.layers[i], image.diff_ids[i], i);
    store_layer(layout, dir, image.layers[i], image.diff_ids[i], undo);
  }
  undo.add_if_new(layout.blob_path(image.config.digest));
  layout.put_blob(image.config.media_type, image.config_text);
  undo.add_if_new(layout.blob_path("sha256:" + oci::sha256_hex(image.manifest_text)));
  layout.put_blob(image.manifest_type, image.manifest_text);
}

oci::Descriptor manifest_descriptor(const Incoming& image) {
  return {image.manifest_type, "sha256:" + oci::sha256_hex(image.manifest_text),
          static_cast<int64_t>(image.manifest_text.size()), {}};
}

std::vector<LoadedImage> load_locked(const stdfs::path& dir, int in_fd) {
  oci::Layout layout(dir);
  Undo undo(dir / "index.json");
  auto tmp = dir / ("load.tmp-" + std::to_string(::getpid()));
  struct RemoveTmp {
    stdfs::path p;
    ~RemoveTmp() { std::error_code ec; stdfs::remove_all(p, ec); }
  } remove_tmp{tmp};
  core::fs::make_dirs(tmp);
  Unpacked u = unpack_archive(in_fd, tmp);

  std::vector<Incoming> images;
  if (u.has("index.json")) images = read_oci_archive(u);
  else if (u.has("manifest.json")) images = read_docker_archive(u);
  else throw core::Error("not an image archive: it holds neither index.json nor manifest.json");

  std::vector<LoadedImage> loaded;
  for (const auto& image : images) store_image(layout, dir, image, undo);
  for (const auto& image : images) {
    LoadedImage out{image.config.digest, {}};
    if (image.names.empty()) detail::name_image(layout, manifest_descriptor(image), std::nullopt);
    for (const auto& name : image.names) {
      detail::name_image(layout, manifest_descriptor(image), name);
      out.tags.push_back(name.familiar());
    }
    loaded.push_back(out);
  }
  undo.commit();
  return loaded;
}

// A load killed long ago left load.tmp-PID; only the lock holder loads.
void remove_stale_temporaries(const stdfs::path& dir) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(dir, ec))
    if (e.path().filename().string().starts_with("load.tmp-")) stdfs::remove_all(e.path(), ec);
}

}  // namespace

std::optional<Reference> name_from_annotations(const std::map<std::string, std::string>& a) {
  std::string text;
  if (auto c = a.find("io.containerd.image.name"); c != a.end()) text = c->second;
  else if (auto r = a.find(oci::kRefNameAnnotation); r != a.end()) text = r->second;
  // A bare tag ("latest", as Docker writes beside the containerd name) says
  // which tag, not which image.
  if (text.find_first_of(":/@") == std::string::npos) return std::nullopt;
  try {
    auto ref = parse_reference(text);
    if (ref.tag.empty()) return std::nullopt;  // name@digest is no tag
    return ref;
  } catch (const core::Error&) {
    return std::nullopt;
  }
}

std::vector<LoadedImage> load_images(const stdfs::path& dir, int in_fd, const std::string& source) {
  try {
    core::fs::make_dirs(dir);
    core::fs::FileLock lock(dir / "lock");
    oci::Layout(dir).init();
    remove_stale_temporaries(dir);
    return load_locked(dir, in_fd);
  } catch (...) {
    core::rethrow_with_context("load " + source);
  }
}

}  // namespace skiff::images
