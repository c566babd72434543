// cli/volume.hpp — what `run`, `rm` and `_exited` share with `skiff volume`:
// turning run's mount flags into mounts, making the volumes they name, and
// knowing which containers use a volume (there is no daemon to ask: the
// container records say).
// Runs in: CLI. Privilege: write access to the store.
// Lesson: lessons/06-volumes.
#pragma once

#include <string>
#include <vector>

#include "06-volumes/mounts.hpp"
#include "engine/store.hpp"

namespace skiff::cli {

// run's -v, --mount, --tmpfs and --volumes-from, as typed.
struct RunMountFlags {
  std::vector<std::string> volumes, mounts, tmpfs, volumes_from;
};

// Parses and checks every flag (bad modes, names, a --mount bind whose
// source is missing, an unknown --volumes-from container, duplicates) and
// returns the mounts in mount order. Makes nothing: a failure here leaves
// no volume and no directory behind.
std::vector<volumes::Mount> parse_run_mounts(const engine::Store& store, const RunMountFlags& flags);

// Writes CONFIG's record (Store::create) after making what its mounts need:
// a -v bind's missing host directory, named volumes not made yet, and a
// fresh name for each anonymous one. Holds the volume lock throughout, so
// a concurrent `volume rm` sees the volume in use or not there yet; removes
// the volumes it made if the record cannot be written (a taken name).
void create_with_volumes(engine::Store& store, engine::ContainerConfig& config,
                         const std::vector<std::pair<std::string, std::string>>& files);

// Ids of the containers (other than EXCEPT) whose mounts use volume NAME.
std::vector<std::string> containers_using(const engine::Store& store, const std::string& name,
                                          const std::string& except = "");

// Removes CONFIG's anonymous volumes that no other container uses: `rm -v`,
// and `run --rm` once the record is gone. Named volumes and binds are never
// touched.
void remove_anonymous_volumes(const engine::Store& store, const engine::ContainerConfig& config);

// For `run --rm`: when it goes out of scope, if the container's record has
// been removed, its anonymous volumes go too (never throws).
class AnonymousVolumesOfRemoved {
 public:
  AnonymousVolumesOfRemoved(const engine::Store& store, engine::ContainerConfig config)
      : store_(store), config_(std::move(config)) {}
  AnonymousVolumesOfRemoved(const AnonymousVolumesOfRemoved&) = delete;
  AnonymousVolumesOfRemoved& operator=(const AnonymousVolumesOfRemoved&) = delete;
  ~AnonymousVolumesOfRemoved();

 private:
  const engine::Store& store_;
  engine::ContainerConfig config_;
};

}  // namespace skiff::cli
