// cli/command.hpp — what every `skiff COMMAND` shares.
//
// Each command is a function from its arguments to an exit code, listed in
// one table (main.cpp). Options are parsed with Boost.Program_options; this
// file adds what Docker's CLI does on top: options stop at the first
// positional argument for `run` (so `run busybox ls -l` passes -l to ls),
// "unknown flag" errors, and --help.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

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
int cmd_exited(Context&, const std::vector<std::string>&);  // internal: the monitor's

// Exit code of commands other than run when an object is missing: Docker's 1.
inline constexpr int kExitFailure = 1;

}  // namespace skiff::cli
