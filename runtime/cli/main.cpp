// cli/main.cpp — `skiff [--root DIR] [--explain] COMMAND [ARG...]`.
//
// Global options, then one command from the table below. Every error ends
// here: one line on stderr, and Docker's exit code.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "11-security/sealed_exe.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/trace.hpp"

namespace {

using namespace skiff;

struct Command {
  const char* name;
  cli::CommandFn run;
  const char* summary;  // nullptr: internal, not listed
};

const Command kCommands[] = {
    {"run", cli::cmd_run, "Create and run a new container from an image"},
    {"start", cli::cmd_start, "Start one or more stopped containers"},
    {"stop", cli::cmd_stop, "Stop one or more running containers"},
    {"restart", cli::cmd_restart, "Restart one or more containers"},
    {"kill", cli::cmd_kill, "Kill one or more running containers"},
    {"wait", cli::cmd_wait, "Block until containers stop, then print their exit codes"},
    {"attach", cli::cmd_attach, "Attach to a running container's terminal or output"},
    {"exec", cli::cmd_exec, "Execute a command in a running container"},
    {"logs", cli::cmd_logs, "Fetch the logs of a container"},
    {"pause", cli::cmd_pause, "Pause all processes within one or more containers"},
    {"unpause", cli::cmd_unpause, "Unpause all processes within one or more containers"},
    {"rename", cli::cmd_rename, "Rename a container"},
    {"top", cli::cmd_top, "Display the running processes of a container"},
    {"stats", cli::cmd_stats, "Display a live stream of container resource usage statistics"},
    {"ps", cli::cmd_ps, "List containers"},
    {"rm", cli::cmd_rm, "Remove one or more containers"},
    {"inspect", cli::cmd_inspect, "Return low-level information on containers"},
    {"images", cli::cmd_images, "List images"},
    {"pull", cli::cmd_pull, "Download an image from a registry"},
    {"push", cli::cmd_push, "Upload an image to a registry"},
    {"login", cli::cmd_login, "Log in to a registry"},
    {"logout", cli::cmd_logout, "Log out from a registry"},
    {"tag", cli::cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"rmi", cli::cmd_rmi, "Remove one or more images"},
    {"history", cli::cmd_history, "Show the history of an image"},
    {"commit", cli::cmd_commit, "Create a new image from a container's changes"},
    {"save", cli::cmd_save, "Save one or more images to a tar archive"},
    {"load", cli::cmd_load, "Load an image from a tar archive or STDIN"},
    {"import", cli::cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"export", cli::cmd_export, "Export a container's filesystem as a tar archive"},
    {"image", cli::cmd_image, "Manage images"},
    {"volume", cli::cmd_volume, "Manage volumes"},
    {"info", cli::cmd_info, "Display system-wide information"},
    {"_exited", cli::cmd_exited, nullptr},
};

void usage(std::ostream& out) {
  out << "Usage:  skiff [OPTIONS] COMMAND\n\n"
         "A container runtime you can read.\n\n"
         "Options:\n"
         "      --root DIR   Store directory (default $SKIFF_ROOT or /var/lib/skiff)\n"
         "      --explain    Narrate every step of the pipeline on stderr\n"
         "  -v, --version    Print version information and quit\n\n"
         "Commands:\n";
  for (const auto& c : kCommands)
    if (c.summary) out << "  " << c.name << std::string(10 - std::strlen(c.name), ' ') << c.summary << "\n";
  out << "\nRun 'skiff COMMAND --help' for more information on a command.\n";
}

int dispatch(std::vector<std::string> args) {
  std::string root;
  size_t i = 0;
  for (; i < args.size() && args[i].size() > 1 && args[i][0] == '-'; ++i) {
    const auto& a = args[i];
    if (a == "--explain") {
      core::trace::enable(true);
    } else if (a == "--root" && i + 1 < args.size()) {
      root = args[++i];
    } else if (a.rfind("--root=", 0) == 0) {
      root = a.substr(7);
    } else if (a == "--version" || a == "-v") {
      std::cout << "skiff version " << SKIFF_VERSION << "\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      usage(std::cout);
      return 0;
    } else {
      throw core::Error("unknown flag: " + a + " (see 'skiff --help')");
    }
  }
  if (i == args.size()) {
    usage(std::cerr);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (args[i] != c.name) continue;
    cli::Context ctx{engine::Store(root.empty() ? engine::default_root() : std::filesystem::path(root))};
    return c.run(ctx, std::vector<std::string>(args.begin() + static_cast<long>(i) + 1, args.end()));
  }
  throw core::Error("'" + args[i] + "' is not a skiff command (see 'skiff --help')", 1);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    // run, start, restart and exec re-execute skiff from a read-only view
    // of its binary before they start anything (11-security/sealed_exe.hpp).
    security::remember_command_line(argv);
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const core::Error& e) {
    std::cerr << "skiff: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "skiff: " << e.what() << "\n";
    return core::kExitRuntimeError;
  }
}
