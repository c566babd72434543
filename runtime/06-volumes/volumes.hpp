// 06-volumes/volumes.hpp — the volume store: data that outlives containers.
//
// Kernel concept: none new — a volume is a directory skiff owns,
//   ROOT/volumes/NAME/_data (Docker's /var/lib/docker/volumes/NAME/_data),
//   bound into each container that names it. Removing a container removes
//   its overlay upper dir, never a volume: that is the whole point.
//   A volume made with `-o type=tmpfs -o device=tmpfs -o o=size=64m` is
//   instead a new tmpfs, mounted in each container that uses it.
//
//   ROOT/volumes/
//     lock              flock(2) held while volumes are made or removed
//     NAME/volume.json  CreatedAt, Driver, Labels, Options
//     NAME/_data/       the content
// A volume appears whole or not at all: it is made as .new-NAME-PID and
// renamed; it is removed by renaming it .rm-NAME-PID first.
// Man pages: rename(2), flock(2).
// Runs in: CLI.
// Privilege: write access to ROOT (root for the default /var/lib/skiff).
// Lesson: lessons/06-volumes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "06-volumes/mounts.hpp"

namespace skiff::volumes {

namespace stdfs = std::filesystem;

// Docker ≥ 23 marks anonymous volumes with this label; `volume prune`
// without -a removes only volumes that carry it.
inline constexpr const char* kAnonymousLabel = "com.docker.volume.anonymous";

struct Volume {
  std::string name;
  std::string created;                         // "2024-05-01T10:00:00Z"
  std::string driver = "local";
  std::map<std::string, std::string> labels;   // --label K=V
  std::map<std::string, std::string> options;  // -o type=…, device=…, o=…
};

bool is_anonymous(const Volume& v);

// "type=tmpfs" → {"type", "tmpfs"}: one `volume create -o`, checked
// against the local driver's keys (type, device, o, size).
std::pair<std::string, std::string> parse_volume_option(const std::string& text);

class VolumeStore {
 public:
  explicit VolumeStore(const stdfs::path& skiff_root);

  const stdfs::path& dir() const { return dir_; }
  stdfs::path lock_path() const { return dir_ / "lock"; }
  stdfs::path data_dir(const std::string& name) const { return dir_ / name / "_data"; }

  std::optional<Volume> find(const std::string& name) const;
  std::vector<Volume> list() const;  // sorted by name

  // Makes the volume V.name, whole or not at all. Callers hold the lock.
  // An existing volume of that name is returned as it is (Docker's create
  // is idempotent).
  Volume create(Volume v) const;
  // Deletes the volume and its data. Callers hold the lock and have
  // checked that no container uses it.
  void remove(const std::string& name) const;

  // A fresh anonymous volume name: 64 hex digits from the kernel.
  static std::string new_anonymous_name();

 private:
  stdfs::path dir_;
};

// Fills M's host side for volume V: its _data bound, or the filesystem
// its options describe (-o type=tmpfs …).
void attach_volume(const VolumeStore& store, const Volume& v, Mount& m);

// Bytes held by the files under DIR (for "Total reclaimed space").
uint64_t disk_usage(const stdfs::path& dir);

}  // namespace skiff::volumes
