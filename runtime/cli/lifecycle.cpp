// cli/lifecycle.cpp — `start`, `stop`, `restart`, `kill`, `wait`, `logs`.
//
// Thin: each resolves names, then calls 01-lifecycle. Errors about one
// container are printed and the others are still handled, as Docker does.
// Lesson: lessons/01-first-container.
#include <time.h>

#include <chrono>
#include <functional>
#include <fstream>
#include <iostream>
#include <thread>

#include "01-lifecycle/exec.hpp"
#include "01-lifecycle/lifecycle.hpp"
#include "11-security/exec_stub.hpp"
#include "11-security/sealed_exe.hpp"
#include "cli/command.hpp"
#include "cli/format.hpp"
#include "cli/parse.hpp"
#include "core/error.hpp"

namespace skiff::cli {
namespace {

std::string resolve_or_throw(const engine::Store& store, const std::string& key) {
  auto id = store.resolve(key);
  if (!id) throw core::Error("No such container: " + key, kExitFailure);
  return *id;
}

// Runs ACTION on every container named; prints each name when PRINT.
int for_each(Context& ctx, const std::vector<std::string>& keys, const char* command,
             bool print, const std::function<void(const std::string&)>& action) {
  if (keys.empty())
    throw core::Error(std::string("\"skiff ") + command + "\" requires at least 1 argument",
                      kExitFailure);
  int code = 0;
  for (const auto& key : keys) {
    try {
      action(resolve_or_throw(ctx.store, key));
      if (print) std::cout << key << "\n" << std::flush;
    } catch (const std::exception& e) {
      std::cerr << "skiff: " << e.what() << "\n";
      code = kExitFailure;
    }
  }
  return code;
}

int stop_timeout(const Parsed& p) {
  int t = p.options["time"].as<int>();
  if (t < 0) throw core::Error("invalid value for -t: " + std::to_string(t) + " (must be 0 or more)");
  return t;
}

struct LogLine {
  int64_t time_ns;
  std::string time, stream, text;
};

// "TIME STREAM TEXT", as skiff-monitor writes it.
bool parse_log_line(const std::string& line, LogLine& out) {
  auto a = line.find(' '), b = line.find(' ', a + 1);
  if (a == std::string::npos || b == std::string::npos) return false;
  out.time = line.substr(0, a);
  out.stream = line.substr(a + 1, b - a - 1);
  out.text = line.substr(b + 1);
  out.time_ns = parse_rfc3339(out.time);
  return true;
}

void print_log_line(const LogLine& l, bool timestamps) {
  std::ostream& to = l.stream == "stderr" ? std::cerr : std::cout;
  if (timestamps) to << l.time << " ";
  to << l.text << "\n" << std::flush;
}

}  // namespace

int cmd_start(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("attach,a", po::bool_switch(), "Attach STDOUT/STDERR and forward signals")
      ("interactive,i", po::bool_switch(), "Attach container's STDIN");
  auto p = parse("start", "[OPTIONS] CONTAINER [CONTAINER...]", o, args);
  security::protect_host_binary();  // lesson 11: before anything starts
  if (p.options["attach"].as<bool>() && p.positional.size() == 1) {
    auto id = resolve_or_throw(ctx.store, p.positional[0]);
    if (lifecycle::current_state(ctx.store, id).status == engine::Status::running)
      throw core::Error("container " + p.positional[0] + " is already running", kExitFailure);
    // A container made with -t gets its terminal back, as `run -it` gave it.
    if (ctx.store.load_config(id).spec.process.tty)
      return lifecycle::run_attached(ctx.store, id, {p.options["interactive"].as<bool>(),
                                                     "ctrl-p,ctrl-q"});
    return lifecycle::run_foreground(ctx.store, id);
  }
  return for_each(ctx, p.positional, "start", true, [&](const std::string& id) {
    // Starting a running container is not an error in Docker: nothing to do.
    if (lifecycle::current_state(ctx.store, id).status != engine::Status::running)
      lifecycle::run_detached(ctx.store, id);
  });
}

int cmd_stop(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("time,t", po::value<int>()->default_value(10), "Seconds to wait before killing it");
  auto p = parse("stop", "[OPTIONS] CONTAINER [CONTAINER...]", o, args);
  int timeout = stop_timeout(p);
  return for_each(ctx, p.positional, "stop", true,
                  [&](const std::string& id) { lifecycle::stop(ctx.store, id, timeout); });
}

int cmd_restart(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("time,t", po::value<int>()->default_value(10), "Seconds to wait before killing it");
  auto p = parse("restart", "[OPTIONS] CONTAINER [CONTAINER...]", o, args);
  security::protect_host_binary();
  int timeout = stop_timeout(p);
  return for_each(ctx, p.positional, "restart", true, [&](const std::string& id) {
    lifecycle::stop(ctx.store, id, timeout);
    lifecycle::run_detached(ctx.store, id);
  });
}

int cmd_kill(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("signal,s", po::value<std::string>()->default_value("KILL"), "Signal to send");
  auto p = parse("kill", "[OPTIONS] CONTAINER [CONTAINER...]", o, args);
  int signal = 0;
  try {
    signal = parse_signal(p.options["signal"].as<std::string>());
  } catch (const core::Error& e) {
    throw core::Error(e.what(), kExitFailure);  // as Docker's daemon answers
  }
  return for_each(ctx, p.positional, "kill", true,
                  [&](const std::string& id) { lifecycle::kill(ctx.store, id, signal); });
}

int cmd_wait(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("wait", "CONTAINER [CONTAINER...]", o, args);
  return for_each(ctx, p.positional, "wait", false, [&](const std::string& id) {
    std::cout << lifecycle::wait_exit(ctx.store, id) << "\n" << std::flush;
  });
}

int cmd_attach(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("detach-keys", po::value<std::string>()->default_value("ctrl-p,ctrl-q"),
                  "Key sequence for detaching")
      ("no-stdin", po::bool_switch(), "Do not attach STDIN");
  auto p = parse("attach", "[OPTIONS] CONTAINER", o, args);
  if (p.positional.size() != 1) throw core::Error("\"skiff attach\" requires exactly 1 argument", kExitFailure);
  auto id = resolve_or_throw(ctx.store, p.positional[0]);
  if (lifecycle::current_state(ctx.store, id).status != engine::Status::running)
    throw core::Error("You cannot attach to a stopped container, start it first", kExitFailure);
  auto config = ctx.store.load_config(id);
  lifecycle::AttachOptions options{!p.options["no-stdin"].as<bool>(),
                                   p.options["detach-keys"].as<std::string>()};
  if (lifecycle::attach(lifecycle::attach_socket_path(id), config.spec.process.tty, options) ==
      lifecycle::AttachEnd::detached) {
    lifecycle::print_detached(config.name);
    return 0;
  }
  return lifecycle::wait_exit(ctx.store, id);
}

int cmd_exec(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("interactive,i", po::bool_switch(), "Keep STDIN open")
      ("tty,t", po::bool_switch(), "Allocate a pseudo-TTY")
      ("detach,d", po::bool_switch(), "Detached mode: run command in the background")
      ("env,e", po::value<std::vector<std::string>>()->composing(), "Set environment variables")
      ("workdir,w", po::value<std::string>(), "Working directory inside the container")
      ("user,u", po::value<std::string>(), "Username or UID (format: <name|uid>[:<group|gid>])");
  auto p = parse("exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", o, args, true);
  if (p.positional.size() < 2)
    throw core::Error("\"skiff exec\" requires at least 2 arguments", kExitFailure);
  lifecycle::ExecRequest request;
  request.argv.assign(p.positional.begin() + 1, p.positional.end());
  if (p.options.count("env"))
    for (const auto& e : p.options["env"].as<std::vector<std::string>>())
      if (auto kv = parse_env_arg(e, host_env)) request.env.push_back(*kv);
  if (p.options.count("workdir")) request.cwd = p.options["workdir"].as<std::string>();
  if (p.options.count("user")) request.user = p.options["user"].as<std::string>();
  request.stdin_open = p.options["interactive"].as<bool>();
  request.tty = p.options["tty"].as<bool>();
  request.detach = p.options["detach"].as<bool>();
  auto id = resolve_or_throw(ctx.store, p.positional[0]);
  // Lesson 11: a container run --upto a module before 11-security gets
  // processes started from the host's file, as it was started. Otherwise
  // skiff runs again from a read-only view of its binary, and not only
  // through the exec stub: this process joins a pid namespace where the
  // container's processes already run and could look at it.
  if (ctx.store.load_config(id).spec.upto == launch::Upto::all) security::run_from_sealed_binary();
  return lifecycle::exec(ctx.store, id, request);
}

int cmd_logs(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("follow,f", po::bool_switch(), "Follow log output")
      ("tail,n", po::value<std::string>()->default_value("all"), "Number of lines to show from the end")
      ("timestamps,t", po::bool_switch(), "Show timestamps")
      ("since", po::value<std::string>(), "Show logs since a time (RFC 3339) or a duration (10m)");
  auto p = parse("logs", "[OPTIONS] CONTAINER", o, args);
  if (p.positional.size() != 1) throw core::Error("\"skiff logs\" requires exactly 1 argument", kExitFailure);
  auto id = resolve_or_throw(ctx.store, p.positional[0]);
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t since = p.options.count("since")
                      ? parse_since(p.options["since"].as<std::string>(),
                                    int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec)
                      : 0;
  auto tail = p.options["tail"].as<std::string>();
  bool timestamps = p.options["timestamps"].as<bool>();
  std::ifstream log(ctx.store.container_dir(id) / "log");
  std::vector<LogLine> lines;
  std::string text;
  LogLine line;
  while (std::getline(log, text))
    if (parse_log_line(text, line) && line.time_ns >= since) lines.push_back(line);
  size_t first = 0;
  if (tail != "all") {
    size_t n = static_cast<size_t>(parse_pids_limit(tail));
    first = lines.size() > n ? lines.size() - n : 0;
  }
  for (size_t i = first; i < lines.size(); ++i) print_log_line(lines[i], timestamps);
  if (!p.options["follow"].as<bool>()) return 0;
  // -f: go on reading as the monitor appends, until the container has ended
  // and nothing is left to read.
  for (;;) {
    log.clear();
    bool got = false;
    while (std::getline(log, text))
      if (parse_log_line(text, line)) print_log_line(line, timestamps), got = true;
    if (!got && lifecycle::current_state(ctx.store, id).status != engine::Status::running) {
      log.clear();
      while (std::getline(log, text))
        if (parse_log_line(text, line)) print_log_line(line, timestamps);
      return 0;
    }
    if (!got) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace skiff::cli
