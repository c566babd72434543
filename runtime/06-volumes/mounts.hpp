// 06-volumes/mounts.hpp — -v, --mount and --tmpfs turned into mount specs.
//
// Kernel concept: a bind mount makes one directory (or file) of the host
//   appear at a second place — here, inside the container's root; a tmpfs is
//   a filesystem in memory. Both are made in the container's own mount
//   namespace, so the host never sees them and nothing needs undoing.
//   A *volume* is only a directory that skiff owns (ROOT/volumes/NAME/_data),
//   bound the same way: its data outlives every container that used it.
// Man pages: mount(2) (MS_BIND, MS_REC, MS_REMOUNT|MS_RDONLY), tmpfs(5),
//   mount_namespaces(7).
// Runs in: CLI (parsing, pure) and the child (plan_mount, pure).
// Privilege: none to parse; CAP_SYS_ADMIN to mount.
// Lesson: lessons/06-volumes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace skiff::volumes {

// What `inspect` shows as a mount's Type.
enum class Kind { bind, volume, tmpfs };

std::string to_string(Kind kind);  // "bind", "volume", "tmpfs"

// One mount of a container, as the user asked for it and, once the CLI has
// resolved names, with its host side filled in.
struct Mount {
  Kind kind = Kind::volume;
  std::string name;         // the volume's name (Kind::volume); "" until an anonymous one is named
  std::string source;       // host path: the bind's source or the volume's _data ("" for tmpfs)
  std::string destination;  // absolute path inside the container
  bool read_only = false;
  std::string mode;         // as typed after the second ':' of -v ("ro", "rw,nocopy", …)
  bool anonymous = false;   // -v /path, or --mount type=volume without a source
  bool copy_up = true;      // volumes: fill an empty one with the image's content (not with nocopy)
  bool create_source = false;  // -v /host:/ctr makes a missing /host; --mount refuses it
  // A new filesystem instead of a bind: --tmpfs, or a volume made with
  // `volume create -o type=… -o device=… -o o=…`.
  std::string fstype;
  std::string device;
  std::string options;      // "size=64m,mode=1777,noexec": flags and data, as typed
  std::string bind_spec;    // the -v text as typed ("data:/d:ro"), for inspect's HostConfig.Binds
};

void to_json(nlohmann::json& j, const Mount& m);
void from_json(const nlohmann::json& j, Mount& m);

// `-v SPEC`: "/ctr" (anonymous volume), "NAME:/ctr[:MODE]" (named volume),
// "/host:/ctr[:MODE]" (bind). MODE is a comma list of ro, rw, nocopy, z, Z,
// private, rprivate. Throws core::Error with Docker's message.
Mount parse_volume_flag(const std::string& spec);

// `--mount type=bind|volume|tmpfs,source=…,target=…[,readonly]` (also src,
// dst, destination, ro, volume-nocopy, tmpfs-size, tmpfs-mode,
// bind-propagation). Does not look at the host: the CLI checks a bind's
// source exists.
Mount parse_mount_flag(const std::string& spec);

// `--tmpfs /path[:OPTIONS]`, OPTIONS as mount(8) takes them: "size=64m,mode=1777".
Mount parse_tmpfs_flag(const std::string& spec);

// A `--volumes-from` argument: "CONTAINER" or "CONTAINER:ro|rw".
struct VolumesFrom {
  std::string container;
  std::string mode;  // "", "ro" or "rw"
};
VolumesFrom parse_volumes_from(const std::string& spec);

// Docker's local volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+. Never a path.
void validate_volume_name(const std::string& name);
bool valid_volume_name(const std::string& name);

// Refuses two mounts on the same destination ("Duplicate mount point"), and
// returns the mounts in the order they must be made: a parent before what
// is mounted below it (/data before /data/logs).
std::vector<Mount> ordered(std::vector<Mount> mounts);

// What mount(2) is called with for one mount: pure, unit-tested.
struct MountCall {
  std::string source;
  std::string fstype;
  unsigned long flags = 0;
  std::string data;
  bool remount_read_only = false;  // a bind ignores MS_RDONLY: a second, remount call makes it so
};
MountCall plan_mount(const Mount& m);

}  // namespace skiff::volumes
