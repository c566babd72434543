// 05-images/layer.cpp — unpacking layers (see layer.hpp).
//
// Lesson: lessons/05-images ("a layer is a tarball"). A layer comes from the
// network, so unpacking it is where an image could attack the host: every
// path is forced under the layer's directory, ".." and writes through
// symlinks are refused, and file owners are taken as numbers, never looked
// up in the host's /etc/passwd. Whiteouts (".wh.NAME") become overlayfs
// whiteouts here.
//
// What a hostile layer may try, and what happens:
//   "/etc/passwd"              neutralised: placed at LAYER/etc/passwd
//   "../x", "a/../../x"        refused ("climbs out of the layer")
//   "l -> /etc", "l/passwd"    the symlink is kept (it is resolved inside the
//                              container at run time); writing through it
//                              is refused
//   hard link "h" -> "../../etc/shadow" or -> "/etc/shadow" (not in the
//                              layer) or -> "l/passwd"   refused
//   ".wh..", "../.wh.x"        refused
//   dir "d", symlink "d -> /", "d/x"   the symlink replaces d only if d is
//                              empty (libarchive); "d/x" is then refused
//   "l -> /etc/passwd", then a file, a directory or a hard link named "l"
//                              the symlink is replaced, never followed
//   hard link "h" -> "l" carrying data   the link is made (to the symlink
//                              itself), the data dropped
//   xattr trusted.overlay.*    dropped
#include "05-images/layer.hpp"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "05-images/archive_owner.hpp"
#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::images {

namespace {

// What archive_write_disk may do. Names are handed to it relative to the
// layer's directory, which is the working directory while unpacking (see
// unpack_layer), so NOABSOLUTEPATHS, NODOTDOT and SYMLINKS check only what
// is inside the layer: a second wall behind clean_name() and
// refuse_symlinks_on_the_way() below. No archive_write_disk_set_standard_lookup():
// owners stay numeric, because the names in a layer belong to the image's
// /etc/passwd, not the host's.
constexpr int kExtractFlags = ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                              ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_PERM |
                              ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR;

ArchiveReader open_reader(const stdfs::path& tarball, bool raw) {
  ArchiveReader in(archive_read_new());
  if (!in) throw core::Error("libarchive: out of memory");
  // The compressions OCI names for layers: none, gzip and zstd.
  archive_read_support_filter_gzip(in.get());
  archive_read_support_filter_zstd(in.get());
  // A layer is a tar; "raw" instead reads the decompressed stream as one
  // blob, which is how the diff_id (sha256 of the tar itself) is computed.
  if (raw) archive_read_support_format_raw(in.get());
  else archive_read_support_format_tar(in.get());
  check_archive(in.get(), archive_read_open_filename(in.get(), tarball.c_str(), 1 << 16),
                "open layer " + tarball.string());
  return in;
}

[[noreturn]] void refuse(const std::string& entry, const std::string& why) {
  throw core::Error("refused entry \"" + entry + "\": " + why);
}

// A name from the archive made relative and plain: "/etc/./passwd" and
// "etc//passwd" → "etc/passwd", "./" → "" (the layer's root). A ".." is
// refused rather than resolved: no honest layer needs one, and resolving it
// right means knowing which components are symlinks.
std::string clean_name(std::string_view name, const std::string& entry) {
  std::string out;
  size_t pos = 0;
  while (pos <= name.size()) {
    size_t end = std::min(name.find('/', pos), name.size());
    std::string_view part = name.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") refuse(entry, "its path climbs out of the layer with \"..\"");
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

// Refuses REL (relative to ROOT) when one of the directories on its way is
// a symlink: writing through "link/passwd" with link -> /etc would write the
// host's /etc/passwd. The last component may be a symlink: it is replaced,
// never followed. A component that does not exist yet will be a directory.
void refuse_symlinks_on_the_way(const std::string& root, const std::string& rel,
                                const std::string& entry) {
  std::string path = root;
  for (size_t pos = 0; (pos = rel.find('/', pos)) != std::string::npos; ++pos) {
    path = root + "/" + rel.substr(0, pos);
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0) return;  // missing: made as a directory
    if (S_ISLNK(st.st_mode))
      refuse(entry, "it would be written through the symlink \"" + rel.substr(0, pos) + "\"");
  }
}

// Makes the directories of REL that are missing (a whiteout may come before,
// or without, an entry for its directory), 0755 as libarchive makes them.
void make_parents(const std::string& root, const std::string& rel) {
  for (size_t pos = 0; (pos = rel.find('/', pos)) != std::string::npos; ++pos) {
    std::string path = root + "/" + rel.substr(0, pos);
    if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST)
      throw core::SystemError(errno, "mkdir(" + path + ")");
  }
}

std::string dir_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}
std::string base_of(const std::string& rel) {
  auto slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

// ".wh..wh..opq" in DIR: DIR hides what lower layers hold under it.
void make_opaque(const std::string& root, const std::string& dir) {
  std::string path = dir.empty() ? root : root + "/" + dir;
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST)
    throw core::SystemError(errno, "mkdir(" + path + ")");
  if (::lsetxattr(path.c_str(), kOverlayOpaqueXattr, "y", 1, 0) < 0)
    throw core::SystemError(errno, std::string("lsetxattr(") + path + ", " + kOverlayOpaqueXattr +
                                       "=y) (whiteouts need root)");
}

// ".wh.NAME": NAME was deleted. overlayfs' whiteout is a character device
// with device number 0/0. If NAME is also in this layer, this layer's NAME
// already hides the lower one and is kept (image-spec: a whiteout applies
// to lower layers only).
void make_whiteout(const std::string& root, const std::string& rel) {
  std::string path = root + "/" + rel;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) make_opaque(root, rel);
    return;
  }
  if (::mknod(path.c_str(), S_IFCHR | 0000, ::makedev(0, 0)) < 0)
    throw core::SystemError(errno, "mknod(" + path + ", S_IFCHR 0/0) (whiteouts need root)");
}

bool is_whiteout(const std::string& root, const std::string& rel) {
  struct stat st {};
  return !rel.empty() && ::lstat((root + "/" + rel).c_str(), &st) == 0 && S_ISCHR(st.st_mode) &&
         st.st_rdev == 0;
}

// Handles ENTRY if it is a whiteout; returns false for an ordinary entry.
bool apply_whiteout(const std::string& root, const std::string& rel, const std::string& entry) {
  std::string base = base_of(rel);
  if (!base.starts_with(kWhiteoutPrefix)) return false;
  refuse_symlinks_on_the_way(root, rel, entry);
  make_parents(root, rel);
  if (base == kOpaqueMarker) {
    make_opaque(root, dir_of(rel));
  } else if (base.starts_with(".wh..wh.")) {
    // AUFS' own bookkeeping (.wh..wh.plnk, .wh..wh.aufs): means nothing here.
  } else {
    std::string name = base.substr(kWhiteoutPrefix.size());
    if (name.empty() || name == "." || name == "..")
      refuse(entry, "a whiteout must name a file, not \"" + name + "\"");
    make_whiteout(root, (dir_of(rel).empty() ? "" : dir_of(rel) + "/") + name);
  }
  return true;
}

// A hard link's target must already be in this layer, reached without a
// symlink. A hard link to a symlink links the symlink itself (link(2) does
// not follow it); any data the entry carries is dropped, so that it can
// never be written through that symlink.
void vet_hard_link(archive_entry* entry, const std::string& root, const std::string& name) {
  std::string target = clean_name(archive_entry_hardlink(entry), name);
  if (target.empty()) refuse(name, "a hard link to the layer's root directory");
  refuse_symlinks_on_the_way(root, target, name);
  struct stat st {};
  if (::lstat((root + "/" + target).c_str(), &st) < 0)
    refuse(name, "a hard link to \"" + target + "\", which is not in this layer");
  if (S_ISDIR(st.st_mode)) refuse(name, "a hard link to the directory \"" + target + "\"");
  if (!S_ISREG(st.st_mode)) archive_entry_set_size(entry, 0);
  archive_entry_copy_hardlink(entry, target.c_str());  // relative to the layer: see unpack_layer
}

// The entry's xattrs without trusted.overlay.*: a layer could otherwise
// plant overlayfs' redirect or metacopy records and make the container see
// files from elsewhere in the stack. Opaque directories come only from
// ".wh..wh..opq".
void drop_overlay_xattrs(archive_entry* entry) {
  std::vector<std::pair<std::string, std::string>> kept;
  archive_entry_xattr_reset(entry);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK)
    if (!std::string_view(name).starts_with(kOverlayXattrPrefix))
      kept.emplace_back(name, std::string(static_cast<const char*>(value), size));
  archive_entry_xattr_clear(entry);
  for (const auto& [n, v] : kept) archive_entry_xattr_add_entry(entry, n.c_str(), v.data(), v.size());
}

void copy_data(archive* in, archive* out, const std::string& what) {
  const void* block;
  size_t size;
  la_int64_t offset;
  for (;;) {
    int r = archive_read_data_block(in, &block, &size, &offset);
    if (r == ARCHIVE_EOF) return;
    check_archive(in, r, "read " + what);
    check_archive(out, static_cast<int>(archive_write_data_block(out, block, size, offset)),
                  "write " + what);
  }
}

// One entry: vetted, then either a whiteout or handed to libarchive with its
// name made relative to ROOT, the working directory.
void extract_entry(archive* in, archive* out, archive_entry* entry, const std::string& root) {
  const char* pathname = archive_entry_pathname(entry);
  if (!pathname) refuse("?", "its name is not valid in this locale's character set");
  const std::string name = pathname;
  const std::string rel = clean_name(name, name);
  if (apply_whiteout(root, rel, name)) return;
  refuse_symlinks_on_the_way(root, rel, name);
  if (archive_entry_hardlink(entry) != nullptr) vet_hard_link(entry, root, name);
  drop_overlay_xattrs(entry);
  // ".wh.d" then "d/" in one layer: the lower d is deleted and a new one
  // made, so the new d must hide the old one's files: it becomes opaque.
  bool replaces_whiteout = archive_entry_filetype(entry) == AE_IFDIR && is_whiteout(root, rel);
  archive_entry_copy_pathname(entry, rel.empty() ? "." : rel.c_str());
  check_archive(out, archive_write_header(out, entry), "unpack " + name);
  if (archive_entry_size(entry) > 0) copy_data(in, out, name);
  check_archive(out, archive_write_finish_entry(out), "unpack " + name);
  if (replaces_whiteout) make_opaque(root, rel);
}

// Moves the process into DIR until the end of the scope. Unpacking runs
// on one thread, with no other thread using relative paths meanwhile.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::string& dir) : previous_(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    if (previous_ < 0) throw core::SystemError(errno, "open(.)");
    if (::chdir(dir.c_str()) < 0) {
      int err = errno;
      ::close(previous_);
      throw core::SystemError(err, "chdir(" + dir + ")");
    }
  }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;
  ~WorkingDirectory() {
    if (::fchdir(previous_) < 0) ::chdir("/");
    ::close(previous_);
  }

 private:
  int previous_;
};

// ---- unpacking one layer from several threads ------------------------------
//
// On a real image the cost of unpacking is the kernel's: creating thousands
// of inodes (tests/bench/README.md). That is CPU time, so a second core
// halves it, but only for entries whose order does not matter. The plan:
// a first reading of the headers marks the plain files that may be written
// in any order (a regular file, not a hard link, whose name occurs once in
// the layer, that no hard link points at and no whiteout of this layer
// names). Everything else is unpacked first, in archive order, by one
// thread; then the workers each read the archive again and write their
// share of the marked files, through the same checks. Directory modes and
// times are applied last, after every file is in.

// Which entries, by position in the archive, a worker may write.
struct ParallelPlan {
  std::vector<bool> parallel;
  size_t count = 0;
};

ParallelPlan plan_parallel(const stdfs::path& tarball) {
  ArchiveReader in = open_reader(tarball, /*raw=*/false);
  std::vector<std::string> names;
  std::vector<bool> plain;
  std::unordered_map<std::string, int> occurrences;
  std::unordered_set<std::string> pinned;  // hard-link targets, whited-out names
  archive_entry* entry;
  for (;;) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    check_archive(in.get(), r, "read " + tarball.string());
    const char* pathname = archive_entry_pathname(entry);  // NULL for a name libarchive cannot convert
    std::string rel;
    try {
      if (!pathname) throw core::Error("no name");
      rel = clean_name(pathname, "");
      if (const char* link = archive_entry_hardlink(entry)) pinned.insert(clean_name(link, ""));
    } catch (const core::Error&) {
      rel = "\n" + std::to_string(names.size());  // never written out of order: refused, in order
    }
    std::string base = base_of(rel);
    if (base.starts_with(kWhiteoutPrefix))
      pinned.insert((dir_of(rel).empty() ? "" : dir_of(rel) + "/") + base.substr(kWhiteoutPrefix.size()));
    ++occurrences[rel];
    names.push_back(rel);
    plain.push_back(archive_entry_filetype(entry) == AE_IFREG && archive_entry_hardlink(entry) == nullptr &&
                    !base.starts_with(kWhiteoutPrefix) && rel.find('\n') == std::string::npos);
  }
  ParallelPlan plan;
  plan.parallel.resize(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    plan.parallel[i] = plain[i] && occurrences[names[i]] == 1 && !pinned.count(names[i]);
    plan.count += plan.parallel[i];
  }
  return plan;
}

ArchiveWriter disk_writer() {
  ArchiveWriter out(archive_write_disk_new());
  if (!out) throw core::Error("libarchive: out of memory");
  archive_write_disk_set_options(out.get(), kExtractFlags);
  return out;
}

// Reads TARBALL and extracts the entries for which WANTED(position) holds.
// OUT is left open (the caller closes it: directory fix-ups happen then).
void extract_where(const stdfs::path& tarball, archive* out, const std::string& root,
                   const std::function<bool(size_t)>& wanted) {
  ArchiveReader in = open_reader(tarball, /*raw=*/false);
  const std::string what = "unpack layer " + tarball.string();
  archive_entry* entry;
  for (size_t i = 0;; ++i) {
    int r = archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    check_archive(in.get(), r, what);
    if (!wanted(i)) continue;  // its data is skipped by the next header read
    try {
      extract_entry(in.get(), out, entry, root);
    } catch (...) {
      core::rethrow_with_context(what);
    }
  }
}

// Below this many plain files, a second reading of the archive costs more
// than the threads save.
constexpr size_t kParallelThreshold = 256;
constexpr uintmax_t kParallelMinBytes = 256 * 1024;

}  // namespace

void unpack_layer(const stdfs::path& tarball, const stdfs::path& dest) {
  // Our own checks use ROOT + "/" + name; canonical() keeps a symlink in
  // DEST's own path (/var → /mnt/var) from looking like one inside the layer.
  const std::string root = stdfs::canonical(dest).string();
  // libarchive is given names relative to DEST, the working directory while
  // it writes: its per-component symlink check then walks only the layer's
  // own directories, not DEST's path from / for every entry (12 openat
  // calls per file instead of 5 on a typical image).
  WorkingDirectory here(root);
  const unsigned cores = std::min(4u, std::thread::hardware_concurrency());
  ParallelPlan plan;
  // Planning reads the archive once more: not worth it for a small one
  // (the built-in busybox, most imports), which cannot hold enough files.
  if (cores >= 2 && stdfs::file_size(tarball) >= kParallelMinBytes) plan = plan_parallel(tarball);
  const bool parallel = plan.count >= kParallelThreshold;
  auto in_order = [&](size_t i) { return !parallel || !plan.parallel[i]; };

  ArchiveWriter out = disk_writer();
  extract_where(tarball, out.get(), root, in_order);
  if (parallel) {
    // libarchive reads the umask by setting it (umask(2) has no "get"): two
    // threads doing that at once could leave it at 0. Put it back after.
    mode_t umask_before = ::umask(022);
    ::umask(umask_before);
    std::vector<std::exception_ptr> errors(cores);
    std::vector<std::thread> workers;
    for (unsigned k = 0; k < cores; ++k)
      workers.emplace_back([&, k] {
        try {
          ArchiveWriter mine = disk_writer();
          extract_where(tarball, mine.get(), root,
                        [&](size_t i) { return plan.parallel[i] && i % cores == k; });
          check_archive(mine.get(), archive_write_close(mine.get()), "unpack layer " + tarball.string());
        } catch (...) {
          errors[k] = std::current_exception();
        }
      });
    for (auto& w : workers) w.join();
    ::umask(umask_before);
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
  }
  // Directory modes and times are set last (a 0555 directory must stay
  // writable until its files are in): archive_write_close applies them.
  check_archive(out.get(), archive_write_close(out.get()), "unpack layer " + tarball.string());
}

DiffId uncompressed_digest(const stdfs::path& tarball) {
  ArchiveReader in = open_reader(tarball, /*raw=*/true);
  archive_entry* entry;
  check_archive(in.get(), archive_read_next_header(in.get(), &entry), "read " + tarball.string());
  oci::Sha256 hash;
  DiffId out;
  std::vector<char> buffer(1 << 16);  // on the heap: see digest.cpp
  char* buf = buffer.data();
  for (;;) {
    la_ssize_t n = archive_read_data(in.get(), buf, buffer.size());
    if (n < 0) throw core::Error("read " + tarball.string() + ": " + archive_message(in.get()));
    if (n == 0) break;
    hash.update(std::string_view(buf, static_cast<size_t>(n)));
    out.size += n;
  }
  out.digest = "sha256:" + hash.hex();
  return out;
}

stdfs::path unpacked_layer_dir(const stdfs::path& images_dir, std::string_view diff_id) {
  return images_dir / "layers" / oci::digest_hex(diff_id);
}

namespace {

stdfs::path size_file(const stdfs::path& images_dir, std::string_view diff_id) {
  auto path = unpacked_layer_dir(images_dir, diff_id);
  path += ".size";
  return path;
}

// A process killed while unpacking leaves LAYER.tmp-PID behind. Only the
// lock holder unpacks, so any temporary seen while holding it is stale.
void remove_stale_temporaries(const stdfs::path& layers) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(layers, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      stdfs::remove_all(e.path(), ec);
}

}  // namespace

int64_t unpacked_layer_size(const stdfs::path& images_dir, std::string_view diff_id) {
  auto text = core::fs::read_file_if_exists(size_file(images_dir, diff_id));
  if (!text) return 0;  // a layer unpacked by another tool: size unknown
  try {
    return std::stoll(*text);
  } catch (const std::exception&) {
    return 0;
  }
}

namespace {

// Unpacks BLOB into a temporary directory beside DIR, then renames it into
// place: the layer directory is either complete or absent.
void unpack_into_place(const stdfs::path& images_dir, const stdfs::path& blob,
                       const DiffId& diff, const stdfs::path& dir) {
  auto tmp = dir;
  tmp += ".tmp-" + std::to_string(::getpid());
  try {
    core::fs::make_dirs(tmp);
    unpack_layer(blob, tmp);
    core::fs::write_file_atomic(size_file(images_dir, diff.digest), std::to_string(diff.size));
    // The rename is the commit: before it there is no layer, after it a whole one.
    if (::rename(tmp.c_str(), dir.c_str()) < 0)
      throw core::SystemError(errno, "rename(" + tmp.string() + " → " + dir.string() + ")");
  } catch (...) {
    std::error_code ec;
    stdfs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace

stdfs::path install_layer(const stdfs::path& images_dir, const stdfs::path& blob,
                          std::string_view diff_id) {
  auto dir = unpacked_layer_dir(images_dir, diff_id);
  if (stdfs::exists(dir)) return dir;
  remove_stale_temporaries(dir.parent_path());
  DiffId sum = uncompressed_digest(blob);
  if (sum.digest != diff_id)
    throw core::Error("layer " + blob.string() + " does not match its diff_id " +
                      std::string(diff_id) + " (got " + sum.digest + ")");
  unpack_into_place(images_dir, blob, sum, dir);
  return dir;
}

stdfs::path install_own_layer(const stdfs::path& images_dir, const stdfs::path& blob,
                              const DiffId& diff) {
  auto dir = unpacked_layer_dir(images_dir, diff.digest);
  if (stdfs::exists(dir)) return dir;
  remove_stale_temporaries(dir.parent_path());
  unpack_into_place(images_dir, blob, diff, dir);
  return dir;
}

}  // namespace skiff::images
