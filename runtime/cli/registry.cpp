// cli/registry.cpp — `skiff pull`, `push`, `login`, `logout`, and the pull
// that `run` makes when the image is missing: Docker's flags and output.
//
// The work is in 05-images (registry.hpp); this file parses the flags and
// shows the progress the way Docker does: on a terminal, one line per layer
// redrawn in place with ANSI escapes ("a3ed95caeb02: Downloading [===>  ]");
// otherwise one plain line each time a layer changes state.
// Lesson: lessons/05-images.
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>

#include "05-images/registry.hpp"
#include "cli/command.hpp"
#include "core/error.hpp"

namespace skiff::cli {

namespace registry = images::registry;

namespace {

// ---- progress ----------------------------------------------------------------

// Docker's sizes: decimal units, four significant digits ("2.828MB").
std::string human_size(int64_t bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(kUnits)) value /= 1000, ++unit;
  char text[32];
  std::snprintf(text, sizeof text, "%.4g%s", value, kUnits[unit]);
  return text;
}

// "[=================>                                 ]  1.024MB/2.828MB"
std::string progress_bar(int64_t done, int64_t total) {
  if (total <= 0) return human_size(done);
  constexpr int kWidth = 50;
  int filled = static_cast<int>(kWidth * std::min(done, total) / total);
  std::string bar = "[" + std::string(filled, '=') + (filled < kWidth ? ">" : "") +
                    std::string(kWidth - filled - (filled < kWidth ? 1 : 0), ' ') + "]";
  return bar + "  " + human_size(done) + "/" + human_size(total);
}

bool is_transient(const std::string& status) {
  return status == "Downloading" || status == "Extracting" || status == "Pushing";
}

// Plain lines, for a pipe or a file: a layer's line each time its state
// changes, never its byte counts.
class PlainProgress : public registry::Progress {
 public:
  explicit PlainProgress(std::ostream& out) : out_(out) {}
  void line(const std::string& text) override {
    std::lock_guard lock(mutex_);
    out_ << text << "\n" << std::flush;
  }
  void layer(const std::string& id, const std::string& status, int64_t, int64_t) override {
    if (is_transient(status)) return;
    line(id + ": " + status);
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
};

// A terminal: one row per layer, redrawn where it is (cursor up N rows,
// clear the row, write, cursor back down), at most ten times a second.
class TerminalProgress : public registry::Progress {
 public:
  explicit TerminalProgress(std::ostream& out) : out_(out) {}
  void line(const std::string& text) override {
    std::lock_guard lock(mutex_);
    rows_.push_back("");
    out_ << text << "\n" << std::flush;
  }
  void layer(const std::string& id, const std::string& status, int64_t done, int64_t total) override {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    auto row = std::find(rows_.begin(), rows_.end(), id);
    std::string text = id + ": " + status + (status == "Downloading" ? " " + progress_bar(done, total) : "");
    if (row == rows_.end()) {
      rows_.push_back(id);
      out_ << text << "\n" << std::flush;
      return;
    }
    std::string state = status + " " + std::to_string(done);
    bool changed = last_status_[id].substr(0, status.size() + 1) != status + " ";
    if (last_status_[id] == state || (!changed && now - last_draw_[id] < std::chrono::milliseconds(100) && done != total))
      return;
    last_status_[id] = state;
    last_draw_[id] = now;
    long up = static_cast<long>(std::distance(row, rows_.end()));
    out_ << "\x1b[" << up << "A\r\x1b[2K" << text << "\x1b[" << up << "B\r" << std::flush;
  }

 private:
  std::ostream& out_;
  std::mutex mutex_;
  std::vector<std::string> rows_;  // the id of each row printed, "" for a plain line
  std::map<std::string, std::string> last_status_;  // "STATUS DONE" as last drawn
  std::map<std::string, std::chrono::steady_clock::time_point> last_draw_;
};

class QuietProgress : public registry::Progress {
 public:
  void line(const std::string&) override {}
  void layer(const std::string&, const std::string&, int64_t, int64_t) override {}
};

std::unique_ptr<registry::Progress> progress_on(std::ostream& out, int fd, bool quiet) {
  if (quiet) return std::make_unique<QuietProgress>();
  if (::isatty(fd)) return std::make_unique<TerminalProgress>(out);
  return std::make_unique<PlainProgress>(out);
}

// ---- pull ----------------------------------------------------------------------

// Was the tag left out ("busybox", "127.0.0.1:5000/x")? The ':' of a port
// comes before the last '/'.
bool has_tag_or_digest(const std::string& text) {
  auto last = text.rfind('/');
  std::string name = last == std::string::npos ? text : text.substr(last + 1);
  return name.find_first_of(":@") != std::string::npos;
}

registry::PullResult pull_with(Context& ctx, const images::Reference& ref, const registry::PullOptions& o,
                               registry::Progress& progress) {
  auto config = registry::load_config(registry::config_path());
  auto result = registry::pull(ctx.store.images_dir(), ref, config, o, progress);
  progress.line(std::string("Status: ") + (result.downloaded ? "Downloaded newer image for " : "Image is up to date for ") +
                ref.familiar());
  return result;
}

// ---- login ---------------------------------------------------------------------

// One line from the terminal; without echo for a password.
std::string prompt(const std::string& label, bool echo) {
  std::cerr << label << std::flush;
  termios saved{};
  bool hide = !echo && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (hide) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (hide) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  return line;
}

std::string read_password_stdin() {
  std::string text(std::istreambuf_iterator<char>(std::cin), {});
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

registry::Credentials login_credentials(const po::variables_map& o) {
  std::string user = o.count("username") ? o["username"].as<std::string>() : "";
  std::string password = o.count("password") ? o["password"].as<std::string>() : "";
  bool from_stdin = o.count("password-stdin") > 0;
  if (from_stdin && o.count("password"))
    throw core::Error("--password and --password-stdin are mutually exclusive", kExitFailure);
  if (from_stdin && user.empty())
    throw core::Error("Must provide --username with --password-stdin", kExitFailure);
  if (o.count("password")) std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
  if (from_stdin) password = read_password_stdin();
  if ((user.empty() || (password.empty() && !from_stdin)) && !::isatty(STDIN_FILENO))
    throw core::Error("Error: Cannot perform an interactive login from a non TTY device", kExitFailure);
  if (user.empty()) user = prompt("Username: ", true);
  if (password.empty() && !from_stdin) password = prompt("Password: ", false);
  if (user.empty()) throw core::Error("Error: Non-null Username Required", kExitFailure);
  if (password.empty()) throw core::Error("Error: Password Required", kExitFailure);
  return {user, password};
}

std::string one_server(const Parsed& p, const std::string& command) {
  if (p.positional.size() > 1)
    throw core::Error("\"" + command + "\" requires at most 1 argument (see 'skiff " + command + " --help')",
                      kExitFailure);
  return registry::normalize_server(p.positional.empty() ? registry::kDockerHub : p.positional[0]);
}

// Every failure after the flags exits 1, as Docker's client does.
template <typename Fn>
int exit_1_on_failure(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    throw core::Error(e.what(), kExitFailure);
  }
}

}  // namespace

int cmd_pull(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("platform", po::value<std::string>(), "Set platform if server is multi-platform capable")(
      "quiet,q", po::bool_switch(), "Suppress verbose output")(
      "disable-content-trust", po::bool_switch(), "Skip image verification (ignored)");
  auto p = parse("pull", "[OPTIONS] NAME[:TAG|@DIGEST]\n\nDownload an image from a registry", o, args);
  if (p.positional.size() != 1)
    throw core::Error("\"pull\" requires exactly 1 argument (see 'skiff pull --help')", kExitFailure);
  bool quiet = p.options["quiet"].as<bool>();
  return exit_1_on_failure([&] {
    auto ref = images::parse_reference(p.positional[0]);
    registry::PullOptions options;
    if (p.options.count("platform")) options.platform = registry::parse_platform(p.options["platform"].as<std::string>());
    if (!quiet && !has_tag_or_digest(p.positional[0])) std::cout << "Using default tag: latest\n";
    auto progress = progress_on(std::cout, STDOUT_FILENO, quiet);
    pull_with(ctx, ref, options, *progress);
    std::cout << ref.full() << "\n";
    return 0;
  });
}

images::Image image_for_run(Context& ctx, const std::string& name) {
  images::Store images(ctx.store.images_dir());
  if (auto image = images.find(name)) return *image;
  auto ref = images::parse_reference(name);
  // stderr: `run`'s stdout is the container's.
  std::cerr << "Unable to find image '" << ref.familiar() << "' locally\n";
  auto progress = progress_on(std::cerr, STDERR_FILENO, false);
  return pull_with(ctx, ref, {}, *progress).image;
}

int cmd_push(Context& ctx, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("quiet,q", po::bool_switch(), "Suppress verbose output")(
      "disable-content-trust", po::bool_switch(), "Skip image signing (ignored)");
  auto p = parse("push", "[OPTIONS] NAME[:TAG]\n\nUpload an image to a registry", o, args);
  if (p.positional.size() != 1)
    throw core::Error("\"push\" requires exactly 1 argument (see 'skiff push --help')", kExitFailure);
  bool quiet = p.options["quiet"].as<bool>();
  return exit_1_on_failure([&] {
    auto ref = images::parse_reference(p.positional[0]);
    if (!quiet && !has_tag_or_digest(p.positional[0])) std::cout << "Using default tag: latest\n";
    auto progress = progress_on(std::cout, STDOUT_FILENO, quiet);
    auto config = registry::load_config(registry::config_path());
    registry::push(ctx.store.images_dir(), ref, config, *progress);
    if (quiet) std::cout << ref.full() << "\n";
    return 0;
  });
}

int cmd_login(Context&, const std::vector<std::string>& args) {
  po::options_description o("Options");
  o.add_options()("username,u", po::value<std::string>(), "Username")(
      "password,p", po::value<std::string>(), "Password")(
      "password-stdin", po::bool_switch(), "Take the password from stdin");
  auto p = parse("login", "[OPTIONS] [SERVER]\n\nLog in to a registry.\n"
                 "If no server is specified, the default is Docker Hub.", o, args);
  if (!p.options["password-stdin"].as<bool>()) p.options.erase("password-stdin");
  std::string server = one_server(p, "login");
  auto credentials = login_credentials(p.options);
  return exit_1_on_failure([&] {
    auto path = registry::config_path();
    registry::check_login(server, credentials, registry::load_config(path));
    registry::store_credentials(path, server, credentials);
    std::cerr << "WARNING! Your password will be stored unencrypted in " << path.string() << ".\n";
    std::cout << "Login Succeeded\n";
    return 0;
  });
}

int cmd_logout(Context&, const std::vector<std::string>& args) {
  po::options_description o("Options");
  auto p = parse("logout", "[SERVER]\n\nLog out from a registry.\n"
                 "If no server is specified, the default is Docker Hub.", o, args);
  std::string server = one_server(p, "logout");
  return exit_1_on_failure([&] {
    std::string shown = registry::auth_key(server);
    if (!registry::remove_credentials(registry::config_path(), server)) {
      std::cout << "Not logged in to " << shown << "\n";
      return 0;
    }
    std::cout << "Removing login credentials for " << shown << "\n";
    return 0;
  });
}

}  // namespace skiff::cli
