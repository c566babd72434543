// 11-security/userns.hpp — root in the container that is nobody on the host.
//
// Kernel concept: a user namespace maps a range of the host's uids and gids
//   to its own (uid_map: "0 100000 65536" makes uid 0 inside uid 100000
//   outside). A process is root only inside: capabilities it holds there
//   act on what the namespace owns (its network, hostname and IPC
//   namespaces, made by it) and on files whose owners it maps, never on the
//   host. If it escapes its root, it is uid 100000 on the host: nobody.
//   The range comes from /etc/subuid and /etc/subgid, where the host's
//   administrator hands ranges out ("skiff:100000:65536").
//   The image's files are owned by uid 0 on disk, which uid 0 inside does
//   not own any more: each layer, the container's upper dir and its volumes
//   are mounted *idmapped* (mount_setattr MOUNT_ATTR_IDMAP), a view in which
//   the disk's uid 0 is shown as 100000, so that inside it is 0 again, and
//   what the container writes lands on disk as uid 0. The layers stay
//   shared, unchanged, with every other container.
// Order (youki and runc explain the same): the namespace is made first, by a
//   short-lived helper, with the net, uts and ipc namespaces it is to own;
//   the container's process joins those, does every mount as the host's
//   root (the idmapped mounts need it), and joins the user namespace last,
//   just before it drops its capabilities.
// Man pages: user_namespaces(7), subuid(5), subgid(5), mount_setattr(2),
//   open_tree(2), move_mount(2), setns(2).
// Runs in: the CLI (the ranges), the parent (the namespace), the child (the
//   mounts, the join); exec joins it last, too.
// Privilege: root (CAP_SYS_ADMIN for idmapped mounts and setns).
// Lesson: lessons/11-security.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "core/fd.hpp"

namespace skiff::security {

struct IdRange {
  uint32_t outside = 0;  // the first host id
  uint32_t count = 0;    // 0: no mapping (the host's own ids)
  bool operator==(const IdRange&) const = default;
};

// --userns: "" and "host" share the host's ids (Docker's default);
// "remap[:USER]" maps uid and gid 0… to USER's subordinate ranges (USER is
// "skiff" unless named).
struct Userns {
  std::string mode;     // as typed: "", "host", "remap", "remap:alice"
  IdRange uids, gids;   // filled for remap
  bool remapped() const { return uids.count > 0; }
  bool operator==(const Userns&) const = default;
};

// The first range of USER (a name or a number) in the text of a subuid(5)
// or subgid(5) FILE, at most 65536 ids. Throws core::Error naming the file
// and what to add when there is none. Pure.
IdRange subordinate_range(const std::string& text, const std::string& user, const std::string& file);

// --userns VALUE, with READ giving a file's text ("" when absent). The
// files are /etc/subuid and /etc/subgid, or $SKIFF_SUBUID and $SKIFF_SUBGID.
Userns parse_userns(const std::string& value, const std::function<std::string(const std::string&)>& read);

void to_json(nlohmann::json& j, const Userns& u);
void from_json(const nlohmann::json& j, Userns& u);

// The namespaces a remapped container gets from the parent: the user
// namespace, with its maps written, and the net, uts and ipc namespaces it
// owns (so that root inside may configure its network and hostname).
struct OwnedNamespaces {
  core::Fd user, net, uts, ipc;
};
OwnedNamespaces make_user_namespace(const Userns& userns);

// Child side: joins NS's net, uts and ipc namespaces (still as the host's root).
void join_owned_namespaces(const OwnedNamespaces& ns);

// While it lives, files this process creates are owned by the range's first
// ids (setfsuid/setfsgid), its capabilities kept: how the overlay of a
// remapped container is mounted. overlayfs makes its work directory, and
// later copies files up, with the credentials of whoever mounted it, and an
// idmapped upper dir can store no owner its map lacks (the host's uid 0:
// EOVERFLOW). As the range's root, the mounter's files land on disk as 0.
class ActAsRangeRoot {
 public:
  explicit ActAsRangeRoot(const Userns& userns);
  ~ActAsRangeRoot();
  ActAsRangeRoot(const ActAsRangeRoot&) = delete;
  ActAsRangeRoot& operator=(const ActAsRangeRoot&) = delete;
};

// Joins the user namespace USERNS_FD and becomes its root (uid and gid 0
// inside), with the full capability set there, which the next steps cut.
void enter_user_namespace(int userns_fd);

}  // namespace skiff::security
