// cli/images.cpp — `skiff images`.
// Lesson: lessons/05-images.
#include <algorithm>
#include <iostream>

#include "05-images/images.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"

namespace skiff::cli {

int cmd_images(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("quiet,q", po::bool_switch(), "Only show image IDs")
      ("no-trunc", po::bool_switch(), "Don't truncate output");
  auto p = parse("images", "[OPTIONS]", o, args);
  bool quiet = p.options["quiet"].as<bool>(), no_trunc = p.options["no-trunc"].as<bool>();
  images::Store store(ctx.store.images_dir());
  store.ensure_builtin_busybox();
  std::vector<std::vector<std::string>> rows = {{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}};
  auto images = store.list();
  // Newest first, as `docker images` lists them.
  std::stable_sort(images.begin(), images.end(), [](const auto& a, const auto& b) {
    return parse_rfc3339(a.created) > parse_rfc3339(b.created);
  });
  for (const auto& image : images) {
    std::string id = no_trunc ? image.id : image.id.substr(7, 12);
    if (quiet) {
      std::cout << id << "\n";
      continue;
    }
    // An untagged image (an import without a name, or a name taken since)
    // is still listed, as Docker does: <none> <none>.
    std::vector<std::string> tags = image.repo_tags;
    if (tags.empty()) tags.push_back("<none>:<none>");
    for (const auto& tag : tags) {
      auto colon = tag.rfind(':');
      rows.push_back({tag.substr(0, colon), tag.substr(colon + 1), id,
                      human_duration(seconds_since(image.created)) + " ago",
                      human_size(static_cast<double>(image.size))});
    }
  }
  if (!quiet) std::cout << table(rows);
  return 0;
}

}  // namespace skiff::cli
