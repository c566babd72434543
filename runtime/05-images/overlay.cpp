// 05-images/overlay.cpp — see overlay.hpp.
//
// Lesson: lessons/05-images ("why 40 layers broke, and how 500 work").
#include "05-images/overlay.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::images {

namespace stdfs = std::filesystem;

std::string overlay_options(const std::vector<stdfs::path>& layers, const stdfs::path& upper,
                            const stdfs::path& work, const stdfs::path& relative_to) {
  std::string lower;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    if (!lower.empty()) lower += ':';
    bool inside = !relative_to.empty() && it->parent_path() == relative_to;
    lower += inside ? it->filename().string() : it->string();
  }
  return "lowerdir=" + lower + ",upperdir=" + upper.string() + ",workdir=" + work.string();
}

namespace {

// Thrown when the kernel lacks the new mount API or "lowerdir+": then
// mount(2) is used instead.
struct Unsupported {};

void fsconfig_string(int fs, const char* key, const std::string& value) {
  core::trace::call(std::string("fsconfig(overlay, ") + key + "=" + value + ")");
  if (::fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) {
    // EINVAL on "lowerdir+": a kernel from 6.5 to 6.7 parses the
    // parameters one by one but has no "lowerdir+" yet.
    if (errno == EINVAL && std::string(key) == "lowerdir+") throw Unsupported{};
    throw core::SystemError(errno, std::string("fsconfig(overlay, ") + key + "=" + value + ")");
  }
}

// fsopen → fsconfig per parameter → fsmount → move_mount. The superblock is
// only created by FSCONFIG_CMD_CREATE, once every layer is listed.
void mount_with_new_api(const std::vector<stdfs::path>& layers, const stdfs::path& upper,
                        const stdfs::path& work, const stdfs::path& target, bool disposable) {
  core::Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs.valid()) {
    if (errno == ENOSYS) throw Unsupported{};
    throw core::SystemError(errno, "fsopen(overlay)");
  }
  // The mount's "source", what /proc/mounts shows first: "overlay", as
  // mount(2) was told, rather than "none".
  fsconfig_string(fs.get(), "source", "overlay");
  for (auto it = layers.rbegin(); it != layers.rend(); ++it)  // top layer first
    fsconfig_string(fs.get(), "lowerdir+", it->string());
  fsconfig_string(fs.get(), "upperdir", upper.string());
  fsconfig_string(fs.get(), "workdir", work.string());
  if (disposable) {
    core::trace::call("fsconfig(overlay, volatile)");
    if (::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0) < 0)
      throw core::SystemError(errno, "fsconfig(overlay, volatile)");
  }
  core::trace::call("fsconfig(overlay, FSCONFIG_CMD_CREATE)");
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
    // Before Linux 6.5, overlayfs took the new API's parameters as one
    // legacy option string: FSCONFIG_SET_STRING accepts "lowerdir+" and
    // only CMD_CREATE refuses it, with EINVAL (Debian 12's 6.1 does this).
    // mount(2) then says whether the layers themselves are the problem.
    if (errno == EINVAL) throw Unsupported{};
    throw core::SystemError(errno, "fsconfig(overlay, FSCONFIG_CMD_CREATE) with " +
                                       std::to_string(layers.size()) + " lower layers");
  }
  core::Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt.valid()) throw core::SystemError(errno, "fsmount(overlay)");
  core::trace::call("move_mount(overlay → " + target.string() + ")");
  if (::move_mount(mnt.get(), "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    throw core::SystemError(errno, "move_mount(overlay → " + target.string() + ")");
}

// The short names of the mount(2) fallback: LINKS/0 → the top layer,
// LINKS/1 → the one below…, made afresh in a folder of the container's own.
// Returned bottom first, as LAYERS is.
std::vector<stdfs::path> short_layer_links(const std::vector<stdfs::path>& layers,
                                           const stdfs::path& links) {
  std::error_code ec;
  stdfs::remove_all(links, ec);
  stdfs::create_directory(links);
  std::vector<stdfs::path> out(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    out[i] = links / std::to_string(layers.size() - 1 - i);
    stdfs::create_directory_symlink(stdfs::absolute(layers[i]), out[i]);
  }
  return out;
}

}  // namespace

// mount(2) from inside a folder of short links to the layers (beside WORK,
// in the container's own directory), so each lower dir costs at most four
// bytes of the page: "0:1:…:499". The working directory is put back.
void mount_overlay_legacy(const std::vector<stdfs::path>& layers, const stdfs::path& upper,
                          const stdfs::path& work, const stdfs::path& target, bool relative,
                          bool disposable) {
  stdfs::path from;
  std::vector<stdfs::path> lower = layers;
  if (relative && !layers.empty()) {
    from = stdfs::absolute(work).parent_path() / "layer-links";
    lower = short_layer_links(layers, from);
  }
  core::Fd cwd(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!from.empty()) core::sys::chdir(from.string());
  try {
    core::sys::mount("overlay", target, "overlay", 0,
                     overlay_options(lower, stdfs::absolute(upper), stdfs::absolute(work), from) +
                         (disposable ? ",volatile" : ""));
  } catch (...) {
    if (cwd.valid()) (void)::fchdir(cwd.get());
    throw;
  }
  if (cwd.valid()) (void)::fchdir(cwd.get());
}

namespace {

// The sign a volatile mount leaves in WORK. Removed only before mounting
// the same disposable upper again: its last mount ended cleanly (the
// container stopped), or the machine crashed and the container, being --rm,
// is thrown away with its upper.
void forget_volatile_marker(const stdfs::path& work) {
  for (const char* dir : {"work/incompat/volatile", "work/incompat"})
    if (::rmdir((work / dir).c_str()) < 0 && errno != ENOENT)
      throw core::SystemError(errno, "rmdir(" + (work / dir).string() + ")");
}

}  // namespace

void mount_overlay(const std::vector<stdfs::path>& layers, const stdfs::path& upper,
                   const stdfs::path& work, const stdfs::path& target, bool disposable) {
  if (layers.size() > kMaxOverlayLayers)
    throw core::Error("the image has " + std::to_string(layers.size()) +
                      " layers; overlayfs stacks at most " + std::to_string(kMaxOverlayLayers));
  if (disposable) forget_volatile_marker(work);
  try {
    mount_with_new_api(layers, upper, work, target, disposable);
  } catch (const Unsupported&) {
    mount_overlay_legacy(layers, upper, work, target, true, disposable);
  }
}

}  // namespace skiff::images
