// cli/command.hpp — what every `skiff COMMAND` shares.
//
// Each command is a function from its arguments to an exit code, listed in
// one table (main.cpp). Options are parsed with Boost.Program_options; this
// file adds what Docker's CLI does on top: options stop at the first
// positional argument for `run` (so `run busybox ls -l` passes -l to ls),
// "unknown flag" errors, and --help.
#pragma once

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "05-images/images.hpp"
#include "engine/store.hpp"

namespace skiff::cli {

namespace po = boost::program_options;

struct Context {
  engine::Store store;
};

struct Parsed {
  po::variables_map options;
  std::vector<std::string> positional;
};

// Parses ARGS against OPTIONS. With STOP_AT_POSITIONAL, everything from the
// first positional argument on is positional, whatever it looks like.
// Throws core::Error("unknown flag: --x (see 'skiff CMD --help')").
// --help prints USAGE and OPTIONS and exits 0.
Parsed parse(const std::string& command, const std::string& usage,
             const po::options_description& options, const std::vector<std::string>& args,
             bool stop_at_positional = false);

using CommandFn = int (*)(Context&, const std::vector<std::string>&);

// One subcommand of a group such as `skiff image` or `skiff volume`.
struct Subcommand {
  const char* name;
  CommandFn run;
};
// Runs ARGS[0] of GROUP ("image") with the rest of ARGS; without a
// subcommand, or with --help, lists them (exit 1 and 0, as Docker).
int run_group(Context& ctx, const std::string& group, const std::string& summary,
              const std::vector<Subcommand>& subcommands, const std::vector<std::string>& args);

int cmd_run(Context&, const std::vector<std::string>&);
int cmd_ps(Context&, const std::vector<std::string>&);
int cmd_rm(Context&, const std::vector<std::string>&);
int cmd_inspect(Context&, const std::vector<std::string>&);
int cmd_images(Context&, const std::vector<std::string>&);
int cmd_import(Context&, const std::vector<std::string>&);
int cmd_start(Context&, const std::vector<std::string>&);
int cmd_stop(Context&, const std::vector<std::string>&);
int cmd_restart(Context&, const std::vector<std::string>&);
int cmd_kill(Context&, const std::vector<std::string>&);
int cmd_wait(Context&, const std::vector<std::string>&);
int cmd_attach(Context&, const std::vector<std::string>&);
int cmd_exec(Context&, const std::vector<std::string>&);
int cmd_logs(Context&, const std::vector<std::string>&);
int cmd_pause(Context&, const std::vector<std::string>&);
int cmd_unpause(Context&, const std::vector<std::string>&);
int cmd_rename(Context&, const std::vector<std::string>&);
int cmd_top(Context&, const std::vector<std::string>&);
int cmd_stats(Context&, const std::vector<std::string>&);
// Images (lesson 05): cli/images.cpp, cli/registry.cpp, cli/commit.cpp, cli/archive.cpp.
int cmd_pull(Context&, const std::vector<std::string>&);
int cmd_push(Context&, const std::vector<std::string>&);
int cmd_login(Context&, const std::vector<std::string>&);
int cmd_logout(Context&, const std::vector<std::string>&);
int cmd_tag(Context&, const std::vector<std::string>&);
int cmd_rmi(Context&, const std::vector<std::string>&);
int cmd_history(Context&, const std::vector<std::string>&);
int cmd_image_prune(Context&, const std::vector<std::string>&);
int cmd_image_inspect(Context&, const std::vector<std::string>&);
int cmd_commit(Context&, const std::vector<std::string>&);
int cmd_save(Context&, const std::vector<std::string>&);
int cmd_load(Context&, const std::vector<std::string>&);
int cmd_export(Context&, const std::vector<std::string>&);
// The image `run` starts from: found in the store, or pulled when missing,
// as Docker does ("Unable to find image 'x' locally", then the pull).
images::Image image_for_run(Context&, const std::string& name);
// `inspect` of a name that is not a container: the image's JSON (Docker's
// keys), or nullopt when no image has that name either.
std::optional<nlohmann::ordered_json> image_inspect_json(Context&, const std::string& name);
// `skiff image SUBCOMMAND`: ls, pull, push, tag, rm, prune, inspect, history,
// save, load, import (cli/images.cpp).
int cmd_image(Context&, const std::vector<std::string>&);
// Volumes (lesson 06): `skiff volume create|ls|inspect|rm|prune` (cli/volume.cpp).
int cmd_volume(Context&, const std::vector<std::string>&);
// `skiff info` (cli/info.cpp): the store's counts, cgroups, security options.
int cmd_info(Context&, const std::vector<std::string>&);
int cmd_exited(Context&, const std::vector<std::string>&);  // internal: the monitor's

// Exit code of commands other than run when an object is missing: Docker's 1.
inline constexpr int kExitFailure = 1;

}  // namespace skiff::cli
