// labs/01-first-container/grader/checks.cpp — the checks of lab 01 (detach
// keys and the STATUS column).
//
// Most checks run the student's lifecycle-lab (fixed/main.cpp around their
// lifecycle_lab.cpp) through lab::run() and compare what it prints. One runs
// it for real: as the relay in front of `skiff attach` to a busybox shell in
// a container of a private store (SKIFF_ROOT), typing into it and detaching.
// A check's points are in its tag; labs/README.md says how they add up.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "grading.hpp"

namespace {

using namespace std::chrono_literals;

const std::string kProgram = LAB_PROGRAM;

lab::RunResult lifecycle(std::vector<std::string> args) {
  args.insert(args.begin(), kProgram);
  return lab::run(args);
}

std::string hex(const std::string& bytes) {
  std::string out;
  char b[4];
  for (unsigned char c : bytes) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}
// "6c 73": what lifecycle-lab prints for the bytes forwarded by one feed.
std::string spaced(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) out += (i ? " " : "") + hex(bytes.substr(i, 1));
  return out;
}

// lifecycle-lab detach SPEC FEED...: one line per feed, then maybe DETACHED.
void expect_feeds(const std::string& spec, const std::vector<std::string>& feeds,
                  const std::vector<std::string>& forwarded, bool detached,
                  const std::string& meaning) {
  std::vector<std::string> args = {"detach", spec};
  std::string fed, expected;
  for (const auto& f : feeds) {
    args.push_back(hex(f));
    fed += (fed.empty() ? "" : " | ") + (f.empty() ? std::string("(nothing)") : spaced(f));
  }
  for (const auto& f : forwarded) expected += spaced(f) + "\n";
  if (detached) expected += "DETACHED\n";
  const auto r = lifecycle(args);
  INFO(meaning);
  INFO("keys " << spec << ", the reads typed (hex, one read between |): " << fed);
  INFO("expected, a line per read with the bytes forwarded, then DETACHED if detached:\n" << expected);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out == expected);
}

void expect_line(const std::vector<std::string>& args, const std::string& line) {
  const auto r = lifecycle(args);
  std::string cmd = "lifecycle-lab";
  for (const auto& a : args) cmd += " " + a;
  INFO(cmd << " should print \"" << line << "\"");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out == line + "\n");
}

}  // namespace

// ---- part 1: the detach keys ------------------------------------------------------------

TEST_CASE("parses key specs: ctrl-p,ctrl-q, single characters, ctrl-@ and ctrl-_", "[points=10]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"ctrl-p,ctrl-q", "10 11"}, {"ctrl-a", "01"},       {"ctrl-z,ctrl-z", "1a 1a"},
      {"a,b,c", "61 62 63"},      {"x,ctrl-x", "78 18"},   {"ctrl-@", "00"},
      {"ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", "1b 1c 1d 1e 1f"}};
  for (const auto& [spec, bytes] : cases) expect_line({"keys", spec}, bytes);
}

TEST_CASE("rejects a bad key spec: exit code 125 and a message naming the key", "[points=5]") {
  const std::string bad = "alt-" + lab::random_token(3);
  for (const std::string& spec : {"ctrl-p," + bad, std::string("ctrl-1"), std::string("ctrl-p,,ctrl-q"),
                                  std::string("")}) {
    const auto r = lifecycle({"keys", spec});
    INFO("lifecycle-lab keys '" << spec << "' must fail: parse_keys() throws std::invalid_argument");
    INFO(r.describe());
    REQUIRE(r.exit_code == 125);
    REQUIRE(r.out.empty());
    if (spec.find(bad) != std::string::npos) {
      INFO("the message should name the bad key, " << bad);
      REQUIRE(r.err.find(bad) != std::string::npos);
    }
  }
}

TEST_CASE("forwards what is typed, detaches on the sequence, and forwards nothing after it", "[points=10]") {
  const std::string typed = "ls " + lab::random_token(6) + "\n";
  expect_feeds("ctrl-p,ctrl-q", {typed}, {typed}, false, "no detach key typed: everything goes through");
  expect_feeds("ctrl-p,ctrl-q", {typed + "\x10\x11" + "echo after\n"}, {typed}, true,
               "the sequence in the middle of a read: what comes before goes through, the sequence "
               "and what follows do not");
  expect_feeds("a,b", {"xyab", "zz"}, {"xy"}, true, "custom keys a,b");
}

TEST_CASE("holds back a partial sequence across reads, and detaches when it completes", "[points=10]") {
  const std::string t = lab::random_token(4);
  expect_feeds("ctrl-p,ctrl-q", {t + "\x10", "", "\x11"}, {t, "", ""}, true,
               "Ctrl-p at the end of one read, Ctrl-q in a later one: the Ctrl-p is held back, not "
               "forwarded, and the state carries over to the next read");
  expect_feeds("a,b,c", {"a", "b", "c"}, {"", "", ""}, true, "a three-key sequence, one key a read");
}

TEST_CASE("releases the held bytes when the sequence breaks off", "[points=10]") {
  const std::string t = lab::random_token(4);
  expect_feeds("ctrl-p,ctrl-q", {"\x10", t}, {"", "\x10" + t}, false,
               "Ctrl-p then something else: the Ctrl-p was meant for the container after all "
               "(in a shell it recalls the previous command), and goes first");
  // Digits only after the break: a random 'a' at the end would rightly be
  // held back as the start of a new sequence.
  std::string digits = t;
  for (auto& ch : digits) ch = static_cast<char>('0' + static_cast<unsigned char>(ch) % 10);
  expect_feeds("a,b,c", {"ab", "d" + digits}, {"", "abd" + digits}, false,
               "two of three keys, then another: both held keys go out, in order");
  expect_feeds("ctrl-p,ctrl-q", {"\x10" + t + "\x10\x11"}, {"\x10" + t}, true,
               "a broken-off sequence, then a whole one in the same read");
}

TEST_CASE("a repeated first key starts the sequence again", "[points=5]") {
  expect_feeds("ctrl-p,ctrl-q", {"\x10\x10\x11"}, {"\x10"}, true,
               "Ctrl-p Ctrl-p Ctrl-q: the first Ctrl-p goes out, the second starts the sequence "
               "that the Ctrl-q completes");
  expect_feeds("ctrl-p,ctrl-q", {"\x10", "\x10", "\x10", "\x11"}, {"", "\x10", "\x10", ""}, true,
               "the same, one key a read");
}

// ---- the real thing: your feed() in front of `skiff attach` ---------------------------------

namespace {

std::string skiff_binary() {
  if (const char* env = std::getenv("SKIFF_BIN"); env && *env) return env;
  return LAB_SKIFF_DEFAULT;
}

// A process with pipes on its stdin, stdout, stderr; killed if still running at the end.
struct Child {
  pid_t pid = -1;
  int in = -1, out = -1, err = -1;
  std::string out_text, err_text;
  int status = -1;

  Child(const std::vector<std::string>& argv, const std::string& skiff_root) {
    int p_in[2], p_out[2], p_err[2];
    if (::pipe2(p_in, O_CLOEXEC) || ::pipe2(p_out, O_CLOEXEC) || ::pipe2(p_err, O_CLOEXEC))
      throw std::runtime_error("pipe");
    pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork");
    if (pid == 0) {
      ::dup2(p_in[0], 0), ::dup2(p_out[1], 1), ::dup2(p_err[1], 2);
      ::setenv("SKIFF_ROOT", skiff_root.c_str(), 1);
      ::chdir("/");
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(p_in[0]), ::close(p_out[1]), ::close(p_err[1]);
    in = p_in[1], out = p_out[0], err = p_err[0];
    ::signal(SIGPIPE, SIG_IGN);
  }
  ~Child() {
    if (pid > 0 && status < 0) ::kill(pid, SIGKILL), ::waitpid(pid, nullptr, 0);
    for (int fd : {in, out, err})
      if (fd >= 0) ::close(fd);
  }
  void type(const std::string& bytes) const { (void)!::write(in, bytes.data(), bytes.size()); }
  void close_input() { ::close(in), in = -1; }
  bool exited() {
    int st = 0;
    if (status < 0 && ::waitpid(pid, &st, WNOHANG) == pid)
      status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return status >= 0;
  }
  // Reads output until DONE() or TIMEOUT; returns DONE().
  template <class Done>
  bool wait_for(Done done, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
      if (std::chrono::steady_clock::now() > end) return false;
      struct pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
      if (::poll(fds, 2, 20) > 0) {
        char buf[4096];
        for (int i = 0; i < 2; ++i)
          if (fds[i].revents) {
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) (i ? err_text : out_text).append(buf, static_cast<size_t>(n));
          }
      } else {
        exited();
      }
    }
    return true;
  }
  int finish(std::chrono::milliseconds timeout) {
    close_input();
    wait_for([&] { return exited(); }, timeout);
    wait_for([] { return false; }, 50ms);  // what is left in the pipes
    return status;
  }
  std::string describe() const {
    return "stdout: " + out_text + "\nstderr: " + err_text;
  }
};

// A container in a store of its own, removed at the end whatever happens.
struct Container {
  lab::TempDir store{"lab01"};
  std::string skiff = skiff_binary();
  std::string id;

  Child skiff_cmd(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {skiff};
    argv.insert(argv.end(), args.begin(), args.end());
    return Child(argv, store.path());
  }
  std::string run(const std::vector<std::string>& args, int& code) const {
    auto c = skiff_cmd(args);
    code = c.finish(30s);
    return c.out_text + c.err_text;
  }
  ~Container() {
    if (id.empty()) return;
    int code = 0;
    run({"rm", "-f", id}, code);
  }
};

}  // namespace

TEST_CASE("your detach keys work in a real attach to a skiff container", "[points=15]") {
  Container c;
  INFO("this check needs the built skiff: " << c.skiff << " (run `make`, or set SKIFF_BIN)");
  REQUIRE(::access(c.skiff.c_str(), X_OK) == 0);
  {
    auto run = c.skiff_cmd({"run", "-d", "-it", "busybox", "sh"});
    const int code = run.finish(30s);
    INFO("skiff run -d -it busybox sh —\n" << run.describe());
    REQUIRE(code == 0);
    c.id = lab::lines(run.out_text).empty() ? "" : lab::lines(run.out_text).back();
    REQUIRE(c.id.size() >= 12);
  }

  Child relay({kProgram, "relay", "ctrl-p,ctrl-q", c.skiff, "attach", "--detach-keys", "ctrl-x,ctrl-y", c.id},
              c.store.path());
  INFO("lifecycle-lab relay ctrl-p,ctrl-q skiff attach " << c.id << ": your feed() between the keys "
       "typed and a busybox shell in a container");
  const std::string token = lab::random_token(8);
  relay.type("echo " + token + "-$((6*7))\n");
  {
    const bool echoed = relay.wait_for(
        [&] { return relay.out_text.find(token + "-42") != std::string::npos || relay.exited(); }, 10s);
    INFO("typed `echo " << token << "-$((6*7))`: the shell should print " << token << "-42 —\n"
                        << relay.describe());
    REQUIRE(echoed);
    REQUIRE_FALSE(relay.exited());
  }
  relay.type("\x10");  // Ctrl-p: a read of its own
  std::this_thread::sleep_for(300ms);
  {
    INFO("typed Ctrl-p alone: the relay should still be attached, waiting for the Ctrl-q —\n"
         << relay.describe());
    REQUIRE_FALSE(relay.exited());
  }
  relay.type("\x11");  // Ctrl-q, in the next read
  const bool ended = relay.wait_for([&] { return relay.exited(); }, 3s);
  relay.wait_for([] { return false; }, 50ms);
  {
    INFO("typed Ctrl-q in the next read: the relay should detach (exit 0, \"detached\" on stderr) "
         "within 3 s —\n" << relay.describe());
    REQUIRE(ended);
    REQUIRE(relay.status == 0);
    REQUIRE(relay.err_text.find("detached") != std::string::npos);
  }
  int code = 0;
  const std::string ps = c.run({"ps"}, code);
  std::string row;
  for (const auto& line : lab::lines(ps))
    if (line.rfind(c.id.substr(0, 12), 0) == 0) row = line;
  INFO("after a detach the container goes on running; skiff ps —\n" << ps);
  REQUIRE(row.find(" Up ") != std::string::npos);
}

// ---- part 2: the STATUS column -------------------------------------------------------------

TEST_CASE("durations below two minutes: seconds and About a minute", "[points=10]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0", "Less than a second"}, {"0.999", "Less than a second"}, {"1", "1 second"},
      {"1.7", "1 second"},         {"2", "2 seconds"},              {"45", "45 seconds"},
      {"59.9", "59 seconds"},      {"60", "About a minute"},        {"90", "About a minute"},
      {"119.9", "About a minute"}, {"120", "2 minutes"}};
  for (const auto& [secs, text] : cases) expect_line({"duration", secs}, text);
}

TEST_CASE("longer durations: minutes, hours rounded, days, weeks, months, years", "[points=10]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"179", "2 minutes"},       {"3599", "59 minutes"},      {"3600", "About an hour"},
      {"5399", "About an hour"},  {"5400", "2 hours"},         {"169199", "47 hours"},
      {"171000", "2 days"},       {"1123200", "13 days"},      {"1209600", "2 weeks"},
      {"5097600", "8 weeks"},     {"5184000", "2 months"},     {"62985600", "24 months"},
      {"63072000", "2 years"},    {"95040000", "3 years"}};
  for (const auto& [secs, text] : cases) expect_line({"duration", secs}, text);
}

TEST_CASE("the STATUS cell: Created, Up ..., Up ... (Paused)", "[points=5]") {
  expect_line({"status", "created", "0"}, "Created");
  expect_line({"status", "created", "500"}, "Created");
  expect_line({"status", "running", "3"}, "Up 3 seconds");
  expect_line({"status", "running", "150"}, "Up 2 minutes");
  expect_line({"status", "paused", "150"}, "Up 2 minutes (Paused)");
  expect_line({"status", "paused", "0.2"}, "Up Less than a second (Paused)");
}

TEST_CASE("the STATUS cell: Exited (CODE) ... ago", "[points=10]") {
  expect_line({"status", "exited", "5", "137"}, "Exited (137) 5 seconds ago");
  expect_line({"status", "exited", "7200", "0"}, "Exited (0) 2 hours ago");
  expect_line({"status", "exited", "60", "1"}, "Exited (1) About a minute ago");
}
