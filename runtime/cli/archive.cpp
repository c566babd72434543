// cli/archive.cpp — `skiff save [-o FILE] IMAGE…`, `skiff load [-i FILE] [-q]`,
// `skiff export [-o FILE] CONTAINER`: Docker's flags, messages and exit codes.
//
// Like Docker's client, every failure of these three exits 1. A tar is never
// written to a terminal, and -o FILE appears whole or not at all: the tar is
// written beside it under a temporary name, then renamed.
// Lesson: lessons/05-images. The work is in 05-images/archive.hpp and export.hpp.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "05-images/archive.hpp"
#include "05-images/export.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "launch/spec.hpp"

namespace skiff::cli {

namespace {

namespace stdfs = std::filesystem;

// Docker's check, made before anything is looked up: a tar is not for a terminal.
void refuse_terminal(const std::string& file) {
  if (file.empty() && ::isatty(STDOUT_FILENO))
    throw core::Error("cowardly refusing to save to a terminal. Use the -o flag or redirect",
                      kExitFailure);
}

// Where a tar goes: FILE (through a temporary beside it) or standard output.
class TarOutput {
 public:
  explicit TarOutput(const std::string& file) : file_(file) {
    refuse_terminal(file_);
    if (file_.empty()) return;
    stdfs::path target(file_);
    tmp_ = target.parent_path() / (".skiff_temp_" + target.filename().string() + "-" +
                                   std::to_string(::getpid()));
    fd_ = core::Fd(::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd_.valid())
      throw core::Error("failed to save to " + file_ + ": " + std::strerror(errno), kExitFailure);
  }
  TarOutput(const TarOutput&) = delete;
  TarOutput& operator=(const TarOutput&) = delete;
  ~TarOutput() {
    std::error_code ec;
    if (!tmp_.empty()) stdfs::remove(tmp_, ec);
  }

  int fd() const { return file_.empty() ? STDOUT_FILENO : fd_.get(); }

  // The tar is complete: FILE takes its place.
  void commit() {
    if (tmp_.empty()) return;
    if (::rename(tmp_.c_str(), file_.c_str()) < 0)
      throw core::Error("failed to save to " + file_ + ": " + std::strerror(errno), kExitFailure);
    tmp_.clear();
  }

 private:
  std::string file_;
  stdfs::path tmp_;
  core::Fd fd_;
};

// Runs FN, turning every failure into Docker's exit status 1.
template <typename Fn>
int exiting_1_on_failure(Fn fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    throw core::Error(e.what(), kExitFailure);
  }
  return 0;
}

std::string option_string(const Parsed& p, const char* name) {
  return p.options.count(name) ? p.options[name].as<std::string>() : "";
}

core::Fd open_load_input(const std::string& file) {
  if (file.empty()) {
    if (::isatty(STDIN_FILENO))
      throw core::Error("requested load from stdin, but stdin is empty", kExitFailure);
    return core::Fd(::dup(STDIN_FILENO));
  }
  core::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    std::string why = std::strerror(errno);
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    throw core::Error("open " + file + ": " + why, kExitFailure);
  }
  return fd;
}

}  // namespace

int cmd_save(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("output,o", po::value<std::string>(), "Write to a file, instead of STDOUT");
  auto p = parse("save", "[OPTIONS] IMAGE [IMAGE...]\n\n"
                 "Save one or more images to a tar archive (streamed to STDOUT by default)", o, args);
  if (p.positional.empty())
    throw core::Error("\"save\" requires at least 1 argument (see 'skiff save --help')", kExitFailure);
  return exiting_1_on_failure([&] {
    std::string file = option_string(p, "output");
    refuse_terminal(file);
    images::Store store(ctx.store.images_dir());
    auto plan = images::plan_save(store, p.positional);  // every name found, or no file at all
    TarOutput out(file);
    images::save_images(ctx.store.images_dir(), plan, out.fd());
    out.commit();
  });
}

int cmd_load(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("input,i", po::value<std::string>(), "Read from tar archive file, instead of STDIN")(
      "quiet,q", po::bool_switch(), "Suppress the load output");
  auto p = parse("load", "[OPTIONS]\n\nLoad an image from a tar archive or STDIN", o, args);
  if (!p.positional.empty())
    throw core::Error("\"load\" accepts no arguments (see 'skiff load --help')", kExitFailure);
  return exiting_1_on_failure([&] {
    std::string file = option_string(p, "input");
    core::Fd in = open_load_input(file);
    // -q only silences progress, which skiff has none of: the names still print.
    for (const auto& image : images::load_images(ctx.store.images_dir(), in.get(),
                                                 file.empty() ? "stdin" : file)) {
      if (image.tags.empty()) std::cout << "Loaded image ID: " << image.id << "\n";
      for (const auto& tag : image.tags) std::cout << "Loaded image: " << tag << "\n";
    }
  });
}

int cmd_export(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("output,o", po::value<std::string>(), "Write to a file, instead of STDOUT");
  auto p = parse("export", "[OPTIONS] CONTAINER\n\n"
                 "Export a container's filesystem as a tar archive", o, args);
  if (p.positional.size() != 1)
    throw core::Error("\"export\" requires exactly 1 argument (see 'skiff export --help')",
                      kExitFailure);
  return exiting_1_on_failure([&] {
    std::string file = option_string(p, "output");
    refuse_terminal(file);
    auto id = ctx.store.resolve(p.positional[0]);
    if (!id) throw core::Error("No such container: " + p.positional[0]);
    auto config = ctx.store.load_config(*id);
    auto dir = ctx.store.container_dir(*id);
    TarOutput out(file);
    images::export_rootfs(config.spec.layers, dir / "upper", dir / "merged", out.fd());
    out.commit();
  });
}

}  // namespace skiff::cli
