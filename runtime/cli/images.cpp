// cli/images.cpp — `skiff images`.
// Lesson: lessons/05-images.
#include <algorithm>
#include <iostream>

#include "05-images/images.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "core/error.hpp"

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

int cmd_tag(Context&, const std::vector<std::string>&) { throw core::Error("tag: not implemented yet"); }
int cmd_rmi(Context&, const std::vector<std::string>&) { throw core::Error("rmi: not implemented yet"); }
int cmd_history(Context&, const std::vector<std::string>&) { throw core::Error("history: not implemented yet"); }
int cmd_image_prune(Context&, const std::vector<std::string>&) { throw core::Error("image prune: not implemented yet"); }
std::optional<nlohmann::ordered_json> image_inspect_json(Context&, const std::string&) { return std::nullopt; }
int cmd_image_inspect(Context&, const std::vector<std::string>&) { throw core::Error("image inspect: not implemented yet"); }

int cmd_image(Context& ctx, const std::vector<std::string>& args) {
  struct Sub {
    const char* name;
    CommandFn run;
  };
  static const Sub kSubs[] = {
      {"ls", cmd_images},     {"list", cmd_images}, {"pull", cmd_pull},       {"push", cmd_push},
      {"tag", cmd_tag},       {"rm", cmd_rmi},      {"prune", cmd_image_prune}, {"inspect", cmd_image_inspect},
      {"history", cmd_history}, {"save", cmd_save}, {"load", cmd_load},       {"import", cmd_import},
  };
  if (args.empty() || args[0] == "--help") {
    std::cout << "Usage:  skiff image COMMAND\n\nManage images\n\nCommands:\n";
    for (const auto& s : kSubs) std::cout << "  " << s.name << "\n";
    return args.empty() ? kExitFailure : 0;
  }
  for (const auto& s : kSubs)
    if (args[0] == s.name) return s.run(ctx, std::vector<std::string>(args.begin() + 1, args.end()));
  throw core::Error("'image " + args[0] + "' is not a skiff command (see 'skiff image --help')", kExitFailure);
}

}  // namespace skiff::cli
