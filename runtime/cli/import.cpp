// cli/import.cpp — `skiff import FILE|- [REPOSITORY[:TAG]]`, Docker's `docker import`.
// Lessons: lessons/00-why-containers, lessons/05-images.
#include <iostream>

#include "05-images/import.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"

namespace skiff::cli {

int cmd_import(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("change,c", po::value<std::vector<std::string>>()->composing(),
                  "Apply Dockerfile instruction to the created image")
      ("message,m", po::value<std::string>()->default_value(""), "Set commit message for imported image");
  auto p = parse("import", "file|- [REPOSITORY[:TAG]]\n\n"
                 "Import the contents from a tarball to create a filesystem image", o, args);
  if (p.positional.empty() || p.positional.size() > 2)
    throw core::Error("\"import\" requires 1 or 2 arguments (see 'skiff import --help')",
                      kExitFailure);
  std::optional<images::Reference> name;
  try {
    if (p.positional.size() == 2) name = images::parse_reference(p.positional[1]);
    auto changes = p.options.count("change") ? p.options["change"].as<std::vector<std::string>>()
                                             : std::vector<std::string>{};
    std::cout << images::import_image(ctx.store.images_dir(), p.positional[0], name, changes,
                                      p.options["message"].as<std::string>())
              << "\n";
  } catch (const std::exception& e) {
    // Like Docker's client, every failure of import exits 1.
    throw core::Error(e.what(), kExitFailure);
  }
  return 0;
}

}  // namespace skiff::cli
