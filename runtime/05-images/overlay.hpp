// 05-images/overlay.hpp — a container's root: image layers + its own changes.
//
// Kernel concept: overlayfs merges read-only "lower" directories (the image
//   layers, shared by every container of the image) under one writable
//   "upper" directory (this container's changes). A write to a lower file
//   first copies it up; a deletion leaves a whiteout in upper.
// Man pages: mount(8) "overlay", fsopen(2), fsconfig(2), fsmount(2),
//   move_mount(2), the kernel's filesystems/overlayfs.rst.
// Runs in: the child, in its own mount namespace, so the mount disappears
//   with the container and the host never sees it (except in --upto chroot,
//   where there is no mount namespace and skiff unmounts it afterwards).
// Privilege: CAP_SYS_ADMIN.
// Lesson: lessons/05-images.
//
// How many layers? Two limits, one of them surprising:
//   1. mount(2) passes all options as one string, and the kernel copies at
//      most one page of it (4096 bytes). Each layer costs its path plus a
//      ':' — /var/lib/skiff/images/layers/<64 hex digits> is 94 bytes — so
//      past about 40 layers the string is cut and the mount fails.
//   2. overlayfs itself stacks at most 500 lower layers (OVL_MAX_STACK).
// The new mount API (Linux 5.2) configures a filesystem one parameter at a
// time: fsopen("overlay") → fsconfig("lowerdir+", DIR) once per layer (Linux
// 6.8 and later; each call carries one short path) → fsmount() →
// move_mount() onto the target. Only limit 2 remains. On older kernels
// (Debian 12's 6.1) skiff falls back to mount(2) from a folder of the
// container's own holding one short symbolic link per layer ("0" for the
// top one, up to "499"), so the page holds all 500; Docker's overlay2 does
// the same with "l/" and 26 characters a link (about 128 layers).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::images {

// overlayfs' own limit on lower layers (fs/overlayfs/params.h).
inline constexpr size_t kMaxOverlayLayers = 500;

// The mount option string: "lowerdir=TOP:…:BOTTOM,upperdir=…,workdir=…".
// Overlayfs lists lower layers top first; LAYERS is bottom first, as images
// store them. With RELATIVE_TO non-empty, a layer inside that directory is
// written relative to it (for a mount(2) made from there). Pure.
std::string overlay_options(const std::vector<std::filesystem::path>& layers,
                            const std::filesystem::path& upper,
                            const std::filesystem::path& work,
                            const std::filesystem::path& relative_to = {});

// Mounts the overlay on TARGET: through the new mount API, one "lowerdir+"
// per layer, when the kernel has it; else through mount(2) (see above).
// Throws core::Error when the image has more layers than the kernel stacks.
//
// DISPOSABLE (a --rm container's root): with overlayfs' "volatile" option
// (Linux 5.10). Without it, the overlay's last unmount — when the
// container's mount namespace dies, in its PID 1's exit — syncs the whole
// filesystem holding UPPER, the host's /var/lib with everything else dirty
// on it, and the exit waits for the disk. With it, nothing is synced, and
// after a crash overlayfs refuses to mount UPPER again (it leaves
// WORK/work/incompat/volatile as the sign); a --rm container's upper is
// deleted with it, so nothing is lost. A marker left by an earlier, cleanly
// unmounted start of the same container is removed first.
void mount_overlay(const std::vector<std::filesystem::path>& layers,
                   const std::filesystem::path& upper, const std::filesystem::path& work,
                   const std::filesystem::path& target, bool disposable = false);

// The fallback alone, for kernels before 6.8 (and for the tests): one
// mount(2), made from WORK's sibling folder layer-links/, where each layer
// is a short symbolic link. RELATIVE=false names them by their full paths,
// as skiff once did, to show the one-page limit.
void mount_overlay_legacy(const std::vector<std::filesystem::path>& layers,
                          const std::filesystem::path& upper, const std::filesystem::path& work,
                          const std::filesystem::path& target, bool relative = true,
                          bool disposable = false);

}  // namespace skiff::images
