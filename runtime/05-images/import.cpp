// 05-images/import.cpp — `skiff import` (see import.hpp).
//
// Lesson: lessons/00-why-containers builds one small root filesystem per
// application and imports each; lessons/05-images shows what it becomes on
// disk. The steps, under the store lock:
//
//   copy the input into the store, hashing it (its digest) → check it is a tar
//   → hash the uncompressed tar (its diff_id) → make it a blob → unpack it
//   → write the config and the manifest → name the image in index.json
//
// Everything before the last step only adds files nothing points at, so an
// import that fails removes what it added and the store is as it was; the
// index is written last, in one rename.
#include "05-images/import.hpp"

#include "05-images/commit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "05-images/archive_owner.hpp"
#include "05-images/layer.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"

namespace skiff::images {

using json = nlohmann::json;

namespace {

using detail::Undo;

// Docker's wording, lower case: "open x.tar: no such file or directory".
std::string errno_text(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

// Now, to the nanosecond as Docker writes it: two imports of the same tarball
// get different configs, hence different ids.
std::string now_rfc3339() {
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  char nanos[16];
  std::snprintf(nanos, sizeof nanos, ".%09ld", static_cast<long>(now.tv_nsec));
  std::string text = detail::rfc3339(now.tv_sec);
  return text.insert(text.size() - 1, nanos);  // before the 'Z'
}

core::Fd open_source(const std::string& source) {
  core::Fd fd(source == "-" ? ::dup(STDIN_FILENO) : ::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw core::Error("open " + source + ": " + errno_text(errno));
  return fd;
}



struct Copied {
  std::string digest;  // "sha256:…" of the bytes as they came
  std::string head;    // the first bytes, to tell gzip from tar
  int64_t size = 0;
};

// Copies IN to the new file TO, hashing as it goes.
Copied copy_hashing(int in, const stdfs::path& to, const std::string& source) {
  core::Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) throw core::SystemError(errno, "open(" + to.string() + ")");
  oci::Sha256 hash;
  Copied c;
  std::vector<char> buffer(1 << 16);  // on the heap: see digest.cpp
  char* buf = buffer.data();
  for (;;) {
    ssize_t n = ::read(in, buf, buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw core::Error("read " + source + ": " + errno_text(errno));
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    hash.update(chunk);
    if (c.head.size() < 2) c.head += chunk.substr(0, 2 - c.head.size());
    for (size_t done = 0; done < chunk.size();) {
      ssize_t w = ::write(out.get(), chunk.data() + done, chunk.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw core::SystemError(errno, "write(" + to.string() + ")");
      done += static_cast<size_t>(w);
    }
    c.size += n;
  }
  c.digest = "sha256:" + hash.hex();
  return c;
}

// Reads every header of TARBALL as a tar (plain or gzip): a file that is not
// one, or is cut short, is refused here, before anything names it.
void check_is_tar(const stdfs::path& tarball, const std::string& source, int64_t size) {
  const std::string refused = "import " + source + ": not a tar archive (plain or gzip-compressed)";
  if (size == 0) throw core::Error(refused + ": the input is empty");
  ArchiveReader in(archive_read_new());
  if (!in) throw core::Error("libarchive: out of memory");
  archive_read_support_filter_gzip(in.get());
  archive_read_support_format_tar(in.get());
  auto fail = [&] { throw core::Error(refused + ": " + archive_message(in.get())); };
  if (archive_read_open_filename(in.get(), tarball.c_str(), 1 << 16) != ARCHIVE_OK) fail();
  archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) return;
    if (r < ARCHIVE_WARN) fail();
    if (archive_read_data_skip(in.get()) < ARCHIVE_WARN) fail();
  }
}

// The steps of the header comment; the caller holds the store lock.
std::string import_locked(const stdfs::path& dir, int in, const std::string& source,
                          const std::optional<Reference>& name, const json& config_changes,
                          const std::string& message) {
  oci::Layout layout(dir);
  Undo undo;
  auto tmp = dir / ("import.tmp-" + std::to_string(::getpid()));
  stdfs::remove(tmp);  // a killed import of ours, long ago, with the same pid
  undo.add(tmp);
  Copied copied = copy_hashing(in, tmp, source);
  check_is_tar(tmp, source, copied.size);
  DiffId diff = uncompressed_digest(tmp);

  oci::Descriptor layer{layer_media_type(copied.head), copied.digest, copied.size, {}};
  auto blob = layout.blob_path(layer.digest);
  undo.add_if_new(blob);
  if (::rename(tmp.c_str(), blob.c_str()) < 0)
    throw core::SystemError(errno, "rename(" + tmp.string() + " → " + blob.string() + ")");
  auto layer_dir = unpacked_layer_dir(dir, diff.digest);
  undo.add_if_new(layer_dir);
  undo.add_if_new(stdfs::path(layer_dir.string() + ".size"));
  install_layer(dir, blob, diff.digest);

  json config_json = imported_config_json(diff.digest, now_rfc3339(),
                                          detail::oci_architecture(), source);
  config_json["config"] = config_changes;
  if (!message.empty()) config_json["history"][0]["comment"] = message;
  undo.add_if_new(layout.blob_path("sha256:" + oci::sha256_hex(config_json.dump())));
  auto config = layout.put_blob(oci::kConfigType, config_json.dump());
  std::string manifest_text = detail::manifest_json(config, layer).dump();
  undo.add_if_new(layout.blob_path("sha256:" + oci::sha256_hex(manifest_text)));
  auto manifest = layout.put_blob(oci::kManifestType, manifest_text);

  detail::name_image(layout, manifest, name);
  undo.commit();
  return config.digest;
}

}  // namespace

std::string layer_media_type(std::string_view first_bytes) {
  bool gzip = first_bytes.size() >= 2 && static_cast<unsigned char>(first_bytes[0]) == 0x1f &&
              static_cast<unsigned char>(first_bytes[1]) == 0x8b;
  return gzip ? oci::kLayerGzipType : oci::kLayerTarType;
}

json imported_config_json(const std::string& diff_id, const std::string& created,
                          const std::string& architecture, const std::string& source) {
  return {{"created", created},
          {"architecture", architecture},
          {"os", "linux"},
          {"config", {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}}},
          {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
          {"history", {{{"created", created}, {"comment", "Imported from " + source}}}}};
}

std::string import_image(const stdfs::path& dir, const std::string& source,
                         const std::optional<Reference>& name, const std::vector<std::string>& changes,
                         const std::string& message) {
  // Bad changes are refused before anything is read or stored.
  json config_changes = apply_changes(
      imported_config_json("sha256:" + std::string(64, '0'), "", "", "").at("config"), changes);
  if (name && !name->digest.empty())
    throw core::Error("refusing to create a tag with a digest reference");
  core::Fd in = open_source(source);
  core::fs::make_dirs(dir);
  core::fs::FileLock lock(dir / "lock");
  oci::Layout(dir).init();
  return import_locked(dir, in.get(), source, name, config_changes, message);
}

}  // namespace skiff::images
