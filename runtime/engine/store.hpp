// engine/store.hpp — the on-disk store: containers, their names and ids.
//
//   ROOT/                      /var/lib/skiff, or --root DIR, or $SKIFF_ROOT
//     containers/<id>/         config.json, state.json, hostname, hosts,
//                              upper/ work/ merged/ (the overlay's dirs)
//     containers/by-name/<n>   a symlink to the id: a name is taken or not
//     containers/lock          flock(2) held while names and ids change
//     images/                  see 05-images/images.hpp
// A container directory appears whole or not at all: it is made under a
// temporary name and renamed into place.
// Lesson: lessons/01-first-container.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "engine/container.hpp"

namespace skiff::engine {

namespace stdfs = std::filesystem;

// The store's root: --root, else $SKIFF_ROOT, else /var/lib/skiff.
stdfs::path default_root();

class Store {
 public:
  explicit Store(stdfs::path root);

  const stdfs::path& root() const { return root_; }
  stdfs::path images_dir() const { return root_ / "images"; }
  stdfs::path container_dir(const std::string& id) const { return root_ / "containers" / id; }

  // A fresh 64-hex-digit id, from the kernel's random source.
  static std::string new_id();

  // Reserves CONFIG.name (a random "adjective_noun" one when empty) and
  // writes the container's directory: config.json, state.json and FILES
  // (name → content, e.g. the container's own /etc/hostname). Throws
  // core::Error naming the container that already holds the name.
  void create(ContainerConfig& config,
              const std::vector<std::pair<std::string, std::string>>& files = {});

  // A full id, a name, or a unique prefix of an id, as Docker accepts them.
  // std::nullopt when nothing matches; core::Error when a prefix is ambiguous.
  std::optional<std::string> resolve(const std::string& name_or_id) const;

  ContainerConfig load_config(const std::string& id) const;
  ContainerState load_state(const std::string& id) const;
  void save_state(const std::string& id, const ContainerState& state) const;

  // Every container id, newest first (as `ps` lists them).
  std::vector<std::string> list() const;

  // Gives container ID the name NEW_NAME (validated, and free: else the
  // same Conflict error as create) and frees its old name.
  void rename(const std::string& id, const std::string& new_name) const;

  // Deletes the container's directory and its name. Missing parts are fine.
  void remove(const std::string& id) const;

 private:
  stdfs::path names_dir() const { return root_ / "containers" / "by-name"; }
  stdfs::path root_;
};

// "Docker's name rules": [a-zA-Z0-9][a-zA-Z0-9_.-]+. Throws core::Error.
void validate_name(const std::string& name);

}  // namespace skiff::engine
