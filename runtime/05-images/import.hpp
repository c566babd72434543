// 05-images/import.hpp — `skiff import`: a tarball of a root filesystem becomes an image.
//
// Concept: an image is only files plus a little JSON. Any directory tree,
//   packed with tar, can be the single layer of an image: the layer is stored
//   as it came (plain or gzip-compressed tar, named by its digest), unpacked
//   once like any other layer, and described by a config with no command of
//   its own (Docker's `docker import` gives none either, so `run` needs one).
// Man pages: tar(1), tar(5), libarchive(3). Docker: `docker import`.
// Runs in: the CLI. Privilege: write access to the store (root, to keep
//   the files' owners).
// Lesson: lessons/00-why-containers (one rootfs per app), lessons/05-images.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "05-images/images.hpp"

namespace skiff::images {

// Reads the tarball SOURCE ("-" for standard input), checks that it is a tar
// archive (plain or gzip-compressed), stores it as a one-layer image and
// names it NAME when given (untagged otherwise: Docker's <none>). Returns the
// new image id, "sha256:<hex>". A name that pointed at another image leaves
// that image untagged, as Docker does.
// Throws core::Error: "open SOURCE: no such file or directory", "import
// SOURCE: not a tar archive …". A failed import leaves the store as it was:
// no blob, no layer directory, no index entry.
// CHANGES are Dockerfile instructions applied to the config (`import -c
// 'CMD ["bash"]'`, as for commit); MESSAGE, when given, is the history
// entry's comment instead of "Imported from SOURCE".
std::string import_image(const std::filesystem::path& images_dir, const std::string& source,
                         const std::optional<Reference>& name,
                         const std::vector<std::string>& changes = {}, const std::string& message = "");

// ---- the pure parts, for tests ---------------------------------------------

// The layer's media type from its first bytes: gzip's magic (1f 8b) gives
// the "+gzip" type, anything else the plain tar type.
std::string layer_media_type(std::string_view first_bytes);

// The config of an imported image: the default PATH, no Cmd, one diff_id,
// CREATED (RFC 3339) and a history entry "Imported from SOURCE".
nlohmann::json imported_config_json(const std::string& diff_id, const std::string& created,
                                    const std::string& architecture, const std::string& source);

}  // namespace skiff::images
