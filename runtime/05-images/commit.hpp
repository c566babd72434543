// 05-images/commit.hpp — `skiff commit`: a container's changes become a new image.
//
// Concept: an image is a stack of layers plus a config. A container adds one
//   more, writable layer on top (overlayfs' upper dir). Committing freezes
//   that layer: it is written as a tar (diff.hpp), stored as a blob, and a
//   new config lists the parent's layers plus this one. The parent's layers
//   are shared, not copied: the new image costs only what the container
//   changed.
// Spec: image-spec config.md (rootfs.diff_ids, history), manifest.md.
//   Docker: `docker commit`, and the Dockerfile reference for --change.
// Runs in: the CLI. The container is frozen (cgroup freezer) while its
//   upper dir is read, so that no half-written file is committed; cli/commit.cpp
//   does that, and thaws it before the layer is unpacked into the store.
// Privilege: root (the upper dir is root's; file owners are kept).
// Lesson: lessons/05-images ("commit: a container becomes an image").
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"

namespace skiff::images {

// The container's changes, written as a layer tar into the store's images/
// directory but not yet part of any image. Removed when dropped unused.
class PendingLayer {
 public:
  PendingLayer(std::filesystem::path file, DiffId diff) : file_(std::move(file)), diff_(std::move(diff)) {}
  PendingLayer(PendingLayer&& other) noexcept
      : file_(std::exchange(other.file_, {})), diff_(std::move(other.diff_)) {}
  PendingLayer(const PendingLayer&) = delete;
  PendingLayer& operator=(const PendingLayer&) = delete;
  PendingLayer& operator=(PendingLayer&&) = delete;
  ~PendingLayer();
  const std::filesystem::path& file() const { return file_; }
  const DiffId& diff() const { return diff_; }

 private:
  std::filesystem::path file_;
  DiffId diff_;
};

// Step 1, while the container is paused: its upper dir UPPER → a layer tar.
// The tar is uncompressed on purpose: it is a valid OCI layer
// ("application/vnd.oci.image.layer.v1.tar"), its digest is its diff_id (one
// hash, not two), and compressing 100 MiB with gzip would keep the
// container frozen ten times longer. `push` may compress it later.
PendingLayer diff_container(const std::filesystem::path& images_dir,
                            const std::filesystem::path& upper);

struct CommitRequest {
  std::string parent_id;           // the container's image, "sha256:…"
  RuntimeConfig container;         // the container's Env, Cmd, Entrypoint, WorkingDir, User
  std::string created_by;          // history: the container's command
  std::string author;              // -a
  std::string comment;             // -m
  std::vector<std::string> changes;  // -c, Dockerfile instructions
  std::optional<Reference> name;   // REPO[:TAG], or untagged
};

// Step 2: stores LAYER as a blob, unpacks it under layers/, writes the new
// config and manifest and names the image. Returns the image id
// ("sha256:<hex>"). A failure removes what this call added; the parent
// image and every other image are untouched.
std::string commit_image(const std::filesystem::path& images_dir, PendingLayer layer,
                         const CommitRequest& request);

// ---- the pure parts, for tests ---------------------------------------------

// Applies Dockerfile instructions to an image config's "config" object, as
// `docker commit --change` does: CMD, ENTRYPOINT (JSON or shell form; the
// shell form becomes ["/bin/sh","-c","…"]), ENV, LABEL, WORKDIR, USER,
// EXPOSE, VOLUME, STOPSIGNAL. ENTRYPOINT clears Cmd unless a CMD came before
// it in CHANGES (the Dockerfile rule). Throws core::Error: "FROM is not a
// valid change command", "ENV requires at least one argument", …
nlohmann::json apply_changes(nlohmann::json config, const std::vector<std::string>& changes);

// The new image's config: PARENT's, with the container's runtime settings,
// CHANGES applied, one more diff_id and one more history entry, created at
// CREATED (RFC 3339).
nlohmann::json committed_config_json(const nlohmann::json& parent, const CommitRequest& request,
                                     const std::string& diff_id, const std::string& created);

}  // namespace skiff::images
