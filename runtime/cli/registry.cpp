// cli/registry.cpp — scaffolding: each command here is being written (this file is replaced).
#include "cli/command.hpp"
#include "core/error.hpp"
namespace skiff::cli {
images::Image image_for_run(Context& ctx, const std::string& name) {
  images::Store images(ctx.store.images_dir());
  auto image = images.find(name);
  if (!image) throw core::Error("Unable to find image '" + images::parse_reference(name).familiar() + "' locally");
  return *image;
}
int cmd_pull(Context&, const std::vector<std::string>&) { throw core::Error("pull: not implemented yet"); }
int cmd_push(Context&, const std::vector<std::string>&) { throw core::Error("push: not implemented yet"); }
int cmd_login(Context&, const std::vector<std::string>&) { throw core::Error("login: not implemented yet"); }
int cmd_logout(Context&, const std::vector<std::string>&) { throw core::Error("logout: not implemented yet"); }
}  // namespace skiff::cli
