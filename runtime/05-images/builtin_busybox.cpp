// 05-images/builtin_busybox.cpp — the image skiff can always run: busybox.
//
// Lesson: lessons/05-images ("an image from scratch"). With no registry at
// hand, skiff builds docker.io/library/busybox:latest itself from Debian's
// busybox-static: one static binary, a hard link per applet (sh, ls, awk…
// are all the same file, which picks its behaviour from argv[0]), the few
// directories and /etc files that programs expect, then a config and a
// manifest. Everything is fixed (times, owners, order, gzip header), so the
// same binary always gives the same image id, on any machine.
// Runs in: the CLI, once per store. Privilege: write access to the store.
#include <sys/stat.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>

#include "05-images/layer.hpp"
#include "05-images/store_internal.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images {

using json = nlohmann::json;

namespace {

// The image's user and group databases: the usual system accounts, so that
// `id`, `ls -l` and `su` show names. uid 0 is root; 65534 is "nobody".
constexpr const char* kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "bin:x:2:2:bin:/bin:/bin/false\n"
    "sys:x:3:3:sys:/dev:/bin/false\n"
    "sync:x:4:100:sync:/bin:/bin/sync\n"
    "mail:x:8:8:mail:/var/mail:/bin/false\n"
    "www-data:x:33:33:www-data:/var/www:/bin/false\n"
    "operator:x:37:37:operator:/var:/bin/false\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n";

constexpr const char* kGroup =
    "root:x:0:\n"
    "daemon:x:1:\n"
    "bin:x:2:\n"
    "sys:x:3:\n"
    "adm:x:4:\n"
    "tty:x:5:\n"
    "disk:x:6:\n"
    "lp:x:7:\n"
    "mail:x:8:\n"
    "kmem:x:9:\n"
    "wheel:x:10:root\n"
    "cdrom:x:11:\n"
    "dialout:x:18:\n"
    "floppy:x:19:\n"
    "video:x:28:\n"
    "audio:x:29:\n"
    "www-data:x:33:\n"
    "operator:x:37:\n"
    "shadow:x:42:\n"
    "staff:x:50:\n"
    "users:x:100:\n"
    "nogroup:x:65534:\n";

// The container gets its own /etc/hosts at run time; this one is what an
// image without a runtime would see.
constexpr const char* kHosts =
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n";

// Which databases the C library consults, and in what order (nsswitch.conf(5)).
constexpr const char* kNsswitch =
    "passwd:\tfiles\n"
    "group:\tfiles\n"
    "hosts:\tfiles dns\n";

// Directories every image has; /tmp is world-writable with the sticky bit,
// /root is private to root. dev, proc and sys are mount points.
const std::map<std::string, mode_t> kDirectories = {
    {"bin", 0755},  {"dev", 0755},   {"etc", 0755},   {"home", 0755},     {"proc", 0755},
    {"root", 0700}, {"sbin", 0755},  {"sys", 0755},   {"tmp", 01777},     {"usr", 0755},
    {"usr/bin", 0755}, {"usr/sbin", 0755}, {"var", 0755}, {"var/tmp", 01777}};

struct Busybox {
  std::string binary;
  int64_t mtime = 0;                 // every entry's time, and the image's "created"
  std::vector<std::string> applets;  // "bin/sh", "usr/bin/awk", …
};

// `busybox --list-full` prints each applet's usual path, without a leading '/'.
std::vector<std::string> list_applets() {
  std::string command = std::string(kBusyboxBinary) + " --list-full";
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) throw core::SystemError(errno, "popen(" + command + ")");
  std::vector<std::string> applets;
  char line[512];
  while (std::fgets(line, sizeof line, out) != nullptr) {
    std::string path(line);
    while (!path.empty() && (path.back() == '\n' || path.back() == '/')) path.pop_back();
    if (!path.empty() && path != "bin/busybox") applets.push_back(path);
  }
  if (::pclose(out) != 0 || applets.empty())
    throw core::Error("run " + command + ": it failed or listed no applets");
  return applets;
}

Busybox read_busybox() {
  struct stat st {};
  if (::stat(kBusyboxBinary, &st) < 0)
    throw core::Error(std::string("the built-in busybox image needs ") + kBusyboxBinary +
                      " (Debian package busybox-static): " + std::strerror(errno));
  return {core::fs::read_file(kBusyboxBinary), st.st_mtime, list_applets()};
}

void add_with_parents(std::map<std::string, mode_t>& dirs, const std::string& file) {
  for (auto slash = file.find('/'); slash != std::string::npos; slash = file.find('/', slash + 1))
    dirs.emplace(file.substr(0, slash), 0755);  // keeps a mode already set
}

// Directories first (parents before children), then files, then the hard
// links, which must follow the file they link to. Each group is sorted.
std::vector<TarEntry> rootfs_entries(const Busybox& bb) {
  const std::map<std::string, std::string> etc = {{"etc/group", kGroup},
                                                  {"etc/hosts", kHosts},
                                                  {"etc/nsswitch.conf", kNsswitch},
                                                  {"etc/passwd", kPasswd}};
  auto dirs = kDirectories;
  for (const auto& a : bb.applets) add_with_parents(dirs, a);
  std::vector<TarEntry> out;
  for (const auto& [path, perm] : dirs) out.push_back(TarEntry::directory(path, perm));
  out.push_back(TarEntry::file("bin/busybox", bb.binary, 0755));
  for (const auto& [path, text] : etc) out.push_back(TarEntry::file(path, text, 0644));
  std::vector<std::string> applets = bb.applets;
  std::sort(applets.begin(), applets.end());
  for (const auto& a : applets)
    out.push_back(TarEntry::hard_link(a, "bin/busybox", 0755));
  for (auto& e : out) e.mtime = bb.mtime;
  return out;
}

json config_json(const Busybox& bb, const std::string& diff_id) {
  std::string created = detail::rfc3339(bb.mtime);
  return {
      {"created", created},
      {"architecture", detail::oci_architecture()},
      {"os", "linux"},
      {"config",
       {{"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
        {"Cmd", {"sh"}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
      {"history",
       {{{"created", created}, {"created_by", "skiff: built-in image from Debian's busybox-static"}}}}};
}

// Writes the blobs, unpacks the layer, and only then names the image: a
// build killed half-way leaves unnamed blobs, never a broken image.
void build_busybox(const stdfs::path& dir) {
  oci::Layout layout(dir);
  Busybox bb = read_busybox();
  std::string tar = write_tar(rootfs_entries(bb));
  std::string diff_id = "sha256:" + oci::sha256_hex(tar);
  auto layer = layout.put_blob(oci::kLayerGzipType, gzip_deterministic(tar));
  auto config = layout.put_blob(oci::kConfigType, config_json(bb, diff_id).dump());
  auto manifest = layout.put_blob(oci::kManifestType, detail::manifest_json(config, layer).dump());
  install_layer(dir, layout.blob_path(layer.digest), diff_id);
  layout.set_ref(manifest, detail::kBuiltinBusybox);
}

}  // namespace

namespace detail {

std::string rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// OCI (and Go) names for the machine the binary runs on.
std::string oci_architecture() {
  static const std::map<std::string, std::string> kNames = {
      {"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"},  {"i686", "386"},
      {"riscv64", "riscv64"}, {"ppc64le", "ppc64le"}, {"s390x", "s390x"}};
  struct utsname u {};
  ::uname(&u);
  auto it = kNames.find(u.machine);
  return it != kNames.end() ? it->second : u.machine;
}

nlohmann::json manifest_json(const oci::Descriptor& config, const oci::Descriptor& layer) {
  return {{"schemaVersion", 2},
          {"mediaType", oci::kManifestType},
          {"config", oci::descriptor_to_json(config)},
          {"layers", {oci::descriptor_to_json(layer)}}};
}

}  // namespace detail

Image Store::ensure_builtin_busybox() {
  oci::Layout layout(dir_);
  auto index = layout.read_index();
  if (auto m = detail::lookup_ref(index, detail::kBuiltinBusybox))
    return detail::load_image(dir_, *m, index);
  {
    core::fs::make_dirs(dir_);
    // Several first `skiff run`s at once: one builds, the others wait here,
    // then find the image made and skip the build.
    core::fs::FileLock lock(dir_ / "lock");
    layout.init();
    if (!detail::lookup_ref(layout.read_index(), detail::kBuiltinBusybox)) {
      try {
        build_busybox(dir_);
      } catch (...) {
        core::rethrow_with_context("build the built-in busybox image");
      }
    }
  }  // the lock is released before load_image, which may take it again
  index = layout.read_index();
  return detail::load_image(dir_, *detail::lookup_ref(index, detail::kBuiltinBusybox), index);
}

}  // namespace skiff::images
