// cli/images.cpp — `images`, `tag`, `rmi`, `history`, `image inspect`,
// `image prune`, and the `image` command group.
//
// The store (05-images/manage.cpp) knows how to drop a name or an image;
// this file holds Docker's policy on top: which containers still need an
// image, when -f is needed and when even -f is refused, and what is printed.
// Lesson: lessons/05-images.
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <set>

#include "01-lifecycle/lifecycle.hpp"
#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "core/error.hpp"

namespace skiff::cli {

using ordered_json = nlohmann::ordered_json;

namespace {

std::string short_id(const std::string& id) { return id.substr(7, 12); }

// The containers (any state) made from IMAGE_ID, with whether each runs.
struct User {
  std::string id;
  bool running = false;
};

std::vector<User> users_of(Context& ctx, const std::string& image_id) {
  std::vector<User> users;
  for (const auto& id : ctx.store.list()) {
    try {
      if (ctx.store.load_config(id).image_id != image_id) continue;
      auto state = lifecycle::current_state(ctx.store, id);
      users.push_back({id, state.status == engine::Status::running});
    } catch (const core::Error&) {
      // removed while we looked: it uses nothing any more
    }
  }
  return users;
}

std::set<std::string> images_in_use(Context& ctx) {
  std::set<std::string> ids;
  for (const auto& id : ctx.store.list()) {
    try {
      ids.insert(ctx.store.load_config(id).image_id);
    } catch (const core::Error&) {
    }
  }
  return ids;
}

// Docker's "dangling": no name at all, neither a tag nor a repository it was
// pulled from by digest.
bool is_dangling(const images::Image& image) { return image.repo_tags.empty() && image.repo_digests.empty(); }

// `images -f dangling=true -f reference=busy*`.
struct ImageFilter {
  std::optional<bool> dangling;
  std::vector<std::string> references;  // glob patterns on REPOSITORY[:TAG]

  static ImageFilter parse(const std::vector<std::string>& specs) {
    ImageFilter f;
    for (const auto& spec : specs) {
      auto eq = spec.find('=');
      std::string key = spec.substr(0, eq), value = eq == std::string::npos ? "" : spec.substr(eq + 1);
      if (key == "dangling" && (value == "true" || value == "false")) f.dangling = value == "true";
      else if (key == "reference" && !value.empty()) f.references.push_back(value);
      else throw core::Error("invalid filter '" + spec + "' (supported: dangling=true|false, reference=PATTERN)");
    }
    return f;
  }

  bool keeps_image(const images::Image& image) const { return !dangling || *dangling == is_dangling(image); }
  bool keeps_tag(const std::string& tag) const {
    if (references.empty()) return true;
    auto repo = tag.substr(0, tag.rfind(':'));
    for (const auto& p : references)
      if (fnmatch(p.c_str(), tag.c_str(), 0) == 0 || fnmatch(p.c_str(), repo.c_str(), 0) == 0) return true;
    return false;
  }
};

void print_removal(const images::Store::Removal& r) {
  for (const auto& name : r.untagged) std::cout << "Untagged: " << name << "\n";
  for (const auto& digest : r.deleted) std::cout << "Deleted: " << digest << "\n";
}

// Docker asks before pruning; a script passes -f.
bool confirmed(const std::string& warning) {
  std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

}  // namespace

int cmd_images(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("all,a", po::bool_switch(), "Show all images (skiff keeps no intermediate images)")
      ("quiet,q", po::bool_switch(), "Only show image IDs")
      ("digests", po::bool_switch(), "Show digests")
      ("filter,f", po::value<std::vector<std::string>>()->composing(), "Filter output (dangling=true, reference=PATTERN)")
      ("no-trunc", po::bool_switch(), "Don't truncate output");
  auto p = parse("images", "[OPTIONS] [REPOSITORY[:TAG]]", o, args);
  if (p.positional.size() > 1) throw core::Error("\"skiff images\" requires at most 1 argument", kExitFailure);
  bool quiet = p.options["quiet"].as<bool>(), no_trunc = p.options["no-trunc"].as<bool>();
  bool digests = p.options["digests"].as<bool>();
  auto filter = ImageFilter::parse(p.options.count("filter") ? p.options["filter"].as<std::vector<std::string>>()
                                                             : std::vector<std::string>{});
  if (!p.positional.empty()) filter.references.push_back(p.positional.front());
  images::Store store(ctx.store.images_dir());
  store.ensure_builtin_busybox();
  std::vector<std::string> header = {"REPOSITORY", "TAG"};
  if (digests) header.push_back("DIGEST");
  for (const char* h : {"IMAGE ID", "CREATED", "SIZE"}) header.push_back(h);
  std::vector<std::vector<std::string>> rows = {header};
  auto images = store.list();
  // Newest first, as `docker images` lists them.
  std::stable_sort(images.begin(), images.end(), [](const auto& a, const auto& b) {
    return parse_rfc3339(a.created) > parse_rfc3339(b.created);
  });
  std::set<std::string> printed;
  for (const auto& image : images) {
    if (!filter.keeps_image(image)) continue;
    std::string id = no_trunc ? image.id : short_id(image.id);
    // An untagged image (an import without a name, or a name taken since)
    // is still listed, as Docker does: <none> <none>.
    std::vector<std::string> tags = image.repo_tags;
    // Pulled by digest only: the repository is known, the tag is not.
    for (const auto& d : image.repo_digests) {
      std::string repo = d.substr(0, d.find('@'));
      bool tagged = std::any_of(tags.begin(), tags.end(), [&](const std::string& t) {
        return t.substr(0, t.rfind(':')) == repo;
      });
      if (!tagged) tags.push_back(repo + ":<none>");
    }
    if (tags.empty()) tags.push_back("<none>:<none>");
    for (const auto& tag : tags) {
      bool untagged = tag.ends_with(":<none>");
      if (!untagged && !filter.keeps_tag(tag)) continue;
      if (untagged && !filter.references.empty() && !filter.keeps_tag(tag.substr(0, tag.rfind(':')))) continue;
      if (quiet) {
        if (printed.insert(id).second) std::cout << id << "\n";
        continue;
      }
      auto colon = tag.rfind(':');
      std::vector<std::string> row = {tag.substr(0, colon), tag.substr(colon + 1)};
      if (digests) {
        std::string digest = "<none>";
        for (const auto& d : image.repo_digests)
          if (d.substr(0, d.find('@')) == row[0]) digest = d.substr(d.find('@') + 1);
        row.push_back(digest);
      }
      row.push_back(id);
      row.push_back(human_duration(seconds_since(image.created)) + " ago");
      row.push_back(human_size(static_cast<double>(image.size)));
      rows.push_back(row);
    }
  }
  if (!quiet) std::cout << table(rows);
  return 0;
}

int cmd_tag(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", o, args);
  if (p.positional.size() != 2) throw core::Error("\"skiff tag\" requires exactly 2 arguments", kExitFailure);
  images::Reference target;
  try {
    target = images::parse_reference(p.positional[1]);
  } catch (const core::Error& e) {
    throw core::Error(e.what(), kExitFailure);
  }
  if (!target.digest.empty()) throw core::Error("refusing to create a tag with a digest reference", kExitFailure);
  images::Store store(ctx.store.images_dir());
  auto image = store.find(p.positional[0]);
  if (!image) throw core::Error("No such image: " + p.positional[0], kExitFailure);
  store.tag(*image, target);
  return 0;
}

namespace {

// Docker's rules for `rmi ARG`. By name: drop that name; the image goes with
// its last name unless a container needs it (then -f keeps it, untagged).
// By id: the image and all its names go, unless a container needs it.
images::Store::Removal remove_one(Context& ctx, images::Store& store, const std::string& arg, bool force) {
  auto image = store.find(arg);
  if (!image) {
    std::string shown = arg;
    try {
      shown = images::parse_reference(arg).familiar();
    } catch (const core::Error&) {
    }
    throw core::Error("No such image: " + shown, kExitFailure);
  }
  std::optional<images::Reference> by_name;
  try {
    auto ref = images::parse_reference(arg);
    auto named = [&](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), ref.familiar()) != names.end();
    };
    if (named(image->repo_tags) || named(image->repo_digests)) by_name = ref;
  } catch (const core::Error&) {
  }
  auto users = users_of(ctx, image->id);
  const std::string img = short_id(image->id);
  if (by_name) {
    bool last_name = image->repo_tags.size() <= 1;
    if (last_name && !users.empty() && !force)
      throw core::Error("conflict: unable to remove repository reference \"" + arg +
                            "\" (must force) - container " + users.front().id.substr(0, 12) +
                            " is using its referenced image " + img,
                        kExitFailure);
    return store.untag(*by_name, /*remove_if_last=*/users.empty());
  }
  for (const auto& u : users)
    if (u.running)
      throw core::Error("conflict: unable to delete " + img + " (cannot be forced) - image is being used by running container " +
                            u.id.substr(0, 12),
                        kExitFailure);
  if (!users.empty() && !force)
    throw core::Error("conflict: unable to delete " + img + " (must be forced) - image is being used by stopped container " +
                          users.front().id.substr(0, 12),
                      kExitFailure);
  if (image->repo_tags.size() > 1 && !force)
    throw core::Error("conflict: unable to delete " + img +
                          " (must be forced) - image is referenced in multiple repositories",
                      kExitFailure);
  if (users.empty()) return store.remove(*image);
  // Forced, but a stopped container stands on it: only the names go.
  images::Store::Removal removal;
  for (const auto& tag : image->repo_tags) {
    auto r = store.untag(images::parse_reference(tag), false);
    removal.untagged.insert(removal.untagged.end(), r.untagged.begin(), r.untagged.end());
  }
  return removal;
}

}  // namespace

int cmd_rmi(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("force,f", po::bool_switch(), "Force removal of the image")
      ("no-prune", po::bool_switch(), "Accepted for Docker compatibility (skiff has no untagged parents)");
  auto p = parse("rmi", "[OPTIONS] IMAGE [IMAGE...]", o, args);
  if (p.positional.empty()) throw core::Error("\"skiff rmi\" requires at least 1 argument", kExitFailure);
  images::Store store(ctx.store.images_dir());
  int code = 0;
  for (const auto& arg : p.positional) {
    try {
      print_removal(remove_one(ctx, store, arg, p.options["force"].as<bool>()));
    } catch (const core::Error& e) {
      std::cerr << "skiff: " << e.what() << "\n";
      code = kExitFailure;
    }
  }
  return code;
}

int cmd_image_prune(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("all,a", po::bool_switch(), "Remove all unused images, not just dangling ones")
      ("force,f", po::bool_switch(), "Do not prompt for confirmation");
  auto p = parse("image prune", "[OPTIONS]", o, args);
  if (!p.positional.empty()) throw core::Error("\"skiff image prune\" accepts no arguments", kExitFailure);
  bool all = p.options["all"].as<bool>();
  if (!p.options["force"].as<bool>() &&
      !confirmed(all ? "WARNING! This will remove all images without at least one container associated to them."
                     : "WARNING! This will remove all dangling images."))
    return 0;
  images::Store store(ctx.store.images_dir());
  auto used = images_in_use(ctx);
  images::Store::Removal total;
  for (const auto& image : store.list()) {
    if (used.count(image.id) || (!all && !is_dangling(image))) continue;
    auto r = store.remove(image);
    total.untagged.insert(total.untagged.end(), r.untagged.begin(), r.untagged.end());
    total.deleted.insert(total.deleted.end(), r.deleted.begin(), r.deleted.end());
    total.reclaimed += r.reclaimed;
  }
  if (!total.untagged.empty() || !total.deleted.empty()) {
    std::cout << "Deleted Images:\n";
    for (const auto& name : total.untagged) std::cout << "untagged: " << name << "\n";
    for (const auto& digest : total.deleted) std::cout << "deleted: " << digest << "\n";
    std::cout << "\n";
  }
  std::cout << "Total reclaimed space: " << human_size(static_cast<double>(total.reclaimed)) << "\n";
  return 0;
}

namespace {

ordered_json inspect_image(images::Store& store, const images::Image& image) {
  auto config = store.config(image);
  ordered_json rootfs_layers = ordered_json::array();
  for (const auto& d : config.at("rootfs").at("diff_ids")) rootfs_layers.push_back(d.get<std::string>());
  ordered_json out = {
      {"Id", image.id},
      {"RepoTags", image.repo_tags},
      {"RepoDigests", image.repo_digests},
      {"Parent", ""},
      {"Comment", config.value("comment", "")},
      {"Created", image.created},
      {"DockerVersion", ""},
      {"Author", config.value("author", "")},
      {"Config", ordered_json::parse(config.value("config", nlohmann::json::object()).dump())},
      {"Architecture", config.value("architecture", "")},
      {"Os", config.value("os", "")},
      {"Size", image.size},
      {"GraphDriver", {{"Data", {{"LowerDir", ""}}}, {"Name", "overlay"}}},
      {"RootFS", {{"Type", "layers"}, {"Layers", rootfs_layers}}},
  };
  std::string lower;
  for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it)
    lower += (lower.empty() ? "" : ":") + it->string();
  out["GraphDriver"]["Data"]["LowerDir"] = lower;
  return out;
}

}  // namespace

std::optional<ordered_json> image_inspect_json(Context& ctx, const std::string& name) {
  images::Store store(ctx.store.images_dir());
  std::optional<images::Image> image;
  try {
    image = store.find(name);
  } catch (const core::Error&) {
    return std::nullopt;  // not a valid image name either
  }
  if (!image) return std::nullopt;
  return inspect_image(store, *image);
}

int cmd_image_inspect(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("image inspect", "IMAGE [IMAGE...]", o, args);
  if (p.positional.empty()) throw core::Error("\"skiff image inspect\" requires at least 1 argument", kExitFailure);
  ordered_json out = ordered_json::array();
  int code = 0;
  for (const auto& name : p.positional) {
    if (auto j = image_inspect_json(ctx, name)) {
      out.push_back(*j);
    } else {
      std::cerr << "skiff: No such image: " << name << "\n";
      code = kExitFailure;
    }
  }
  std::cout << out.dump(4) << "\n";
  return code;
}

namespace {

// "/bin/sh -c #(nop)  CMD [\"sh\"]" → cut to WIDTH with "…", as Docker does.
std::string ellipsis(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width - 1) + "…";
}

}  // namespace

int cmd_history(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("human,H", po::value<bool>()->default_value(true), "Print sizes and dates in human readable format")
      ("no-trunc", po::bool_switch(), "Don't truncate output")
      ("quiet,q", po::bool_switch(), "Only show image IDs");
  auto p = parse("history", "[OPTIONS] IMAGE", o, args);
  if (p.positional.size() != 1) throw core::Error("\"skiff history\" requires exactly 1 argument", kExitFailure);
  images::Store store(ctx.store.images_dir());
  auto image = store.find(p.positional[0]);
  if (!image) throw core::Error("No such image: " + p.positional[0], kExitFailure);
  auto config = store.config(*image);
  bool no_trunc = p.options["no-trunc"].as<bool>(), human = p.options["human"].as<bool>();
  auto diff_ids = config.at("rootfs").at("diff_ids").get<std::vector<std::string>>();
  // History entries bottom first; each that is not an empty_layer owns the
  // next layer. Docker lists them top first, the top one with the image id.
  std::vector<std::vector<std::string>> entries;
  size_t layer = 0;
  for (const auto& h : config.value("history", nlohmann::json::array())) {
    int64_t size = 0;
    if (!h.value("empty_layer", false) && layer < diff_ids.size()) {
      size = images::unpacked_layer_size(store.dir(), diff_ids[layer]);
      ++layer;
    }
    std::string created = h.value("created", "");
    std::string by = h.value("created_by", "");
    entries.push_back({"<missing>",
                       human ? human_duration(seconds_since(created)) + " ago" : created,
                       no_trunc ? by : ellipsis(by, 45),
                       human ? human_size(static_cast<double>(size)) : std::to_string(size),
                       h.value("comment", "")});
  }
  std::reverse(entries.begin(), entries.end());
  if (entries.empty()) entries.push_back({"", "", "", human_size(static_cast<double>(image->size)), ""});
  entries.front()[0] = no_trunc ? image->id : short_id(image->id);
  if (p.options["quiet"].as<bool>()) {
    for (const auto& e : entries) std::cout << e[0] << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"}};
  rows.insert(rows.end(), entries.begin(), entries.end());
  std::cout << table(rows);
  return 0;
}

int cmd_image(Context& ctx, const std::vector<std::string>& args) {
  return run_group(ctx, "image", "Manage images",
                   {{"ls", cmd_images}, {"list", cmd_images}, {"pull", cmd_pull}, {"push", cmd_push},
                    {"tag", cmd_tag}, {"rm", cmd_rmi}, {"prune", cmd_image_prune}, {"inspect", cmd_image_inspect},
                    {"history", cmd_history}, {"save", cmd_save}, {"load", cmd_load}, {"import", cmd_import}},
                   args);
}

}  // namespace skiff::cli
