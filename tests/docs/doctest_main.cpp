// tests/docs/doctest_main.cpp — skiff_doctest: runs every ```console and
// ```sh block of one lesson, in order, in one bash, and fails at the first
// command whose output or exit status differs from what the lesson shows.
// The syntax is tests/docs/README.md; CTest runs one lesson per test
// (tests/docs/CMakeLists.txt). By hand, as root:
//
//     build/bin/skiff_doctest --lesson lessons/02-chroot/README.md
//
// The first failure ends the lesson: later commands almost always depend on
// earlier ones, and their failures would only bury the first, real one.
#define CATCH_CONFIG_RUNNER
#define CATCH_CONFIG_CONSOLE_WIDTH 160  // long lesson paths stay on one line
#include <sched.h>
#include <cstring>
#include <cstdlib>
#include <catch2/catch.hpp>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "doctest_match.hpp"
#include "doctest_parse.hpp"
#include "doctest_shell.hpp"
#include "doctest_workspace.hpp"

namespace {

namespace fs = std::filesystem;
using namespace skiff::doctest;
using End = RunResult::End;

struct Options {
  std::string lesson;   // the lesson's README.md
  std::string bin_dir;  // the build's bin: its skiff is the one the lesson runs
  int timeout = 60;     // seconds, per command or sh block
  bool private_network = false;  // the whole lesson in a network namespace of its own
} options;

std::string where(int line) { return options.lesson + ":" + std::to_string(line); }

// Lines shown with a margin, so that empty lines and trailing text are
// visible in a failure message.
std::string shown(const std::vector<std::string>& lines) {
  if (lines.empty()) return "  (nothing)\n";
  std::string s;
  for (const auto& l : lines) s += "  | " + l + "\n";
  return s;
}

std::string prompted(const std::string& text) {
  std::string s = "$ ";
  for (char c : text) s += c == '\n' ? std::string("\n  ") : std::string(1, c);
  return s;
}

// Catch2 wraps a message at its console width, which would break the lines
// of a transcript: the details go to stdout as they are, and the assertion
// carries only the one-line headline.
[[noreturn]] void fail(const std::string& headline, const std::string& details) {
  std::cout << "\nFAILED " << headline << "\n" << details << std::flush;
  FAIL(headline);
  std::abort();  // not reached: FAIL throws
}

// A shell that timed out or died cannot run the rest of the lesson.
// WHAT names it in the headline, SHOWN is the command itself.
void require_alive(const RunResult& r, int line, const std::string& what, const std::string& shown_as) {
  if (r.end == End::timed_out)
    fail(where(line) + ": " + what + " did not finish within " + std::to_string(options.timeout) +
             " s; its shell was killed",
         shown_as + "\noutput so far:\n" + shown(normalize_lines(r.output)));
  if (r.end == End::shell_exited)
    fail(where(line) + ": the lesson's shell exited (status " + std::to_string(r.status) +
             ") during " + what,
         shown_as + "\noutput:\n" + shown(normalize_lines(r.output)));
}

void run_command(Shell& shell, const Command& c) {
  std::cout << where(c.line) << ": " << prompted(c.text) << std::endl;
  RunResult r = shell.run_command(c.text, std::chrono::seconds(options.timeout));
  require_alive(r, c.line, "the command", prompted(c.text));
  auto expected = normalize_lines(c.expected), actual = normalize_lines(r.output);
  bool output_ok = match_lines(expected, actual), status_ok = r.status == c.exit_code;
  if (output_ok && status_ok) {
    SUCCEED();
    return;
  }
  std::string what = output_ok ? "the exit status differs"
                     : status_ok ? "the output differs from the lesson"
                                 : "the output differs from the lesson, and the exit status differs";
  fail(where(c.line) + ": " + what,
       prompted(c.text) + "\nexit status: " + std::to_string(r.status) + " (expected " +
           std::to_string(c.exit_code) + ")\nexpected output:\n" + shown(expected) +
           "actual output:\n" + shown(actual));
}

void run_script(Shell& shell, const Block& b) {
  std::cout << where(b.line) << ": ```sh block" << std::endl;
  RunResult r = shell.run_script(b.script, std::chrono::seconds(options.timeout));
  if (r.end == End::shell_exited && r.failed_line > 0)  // set -e ended it at that line
    fail(where(b.line + r.failed_line) + ": this line of an sh block failed (exit status " +
             std::to_string(r.status) + ")",
         "output of the block:\n" + shown(normalize_lines(r.output)));
  require_alive(r, b.line, "the sh block", b.script);
  SUCCEED();
}

std::string read_lesson() {
  std::ifstream in(options.lesson, std::ios::binary);
  if (!in) FAIL("cannot read the lesson " << options.lesson);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Block> parse(const std::string& text) {
  try {
    return parse_lesson(text);
  } catch (const ParseError& e) {
    fail(where(e.line) + ": " + e.what(), "");
  }
}

}  // namespace

TEST_CASE("the lesson runs as it is written") {
  std::vector<Block> blocks = parse(read_lesson());
  Workspace ws(fs::absolute(options.lesson).parent_path(), options.bin_dir);
  Shell shell(ws.env(), ws.work(), ws.ctl());
  int ran = 0, skipped = 0;
  for (const Block& b : blocks) {
    if (b.skip) {
      std::cout << where(b.line) << ": skipped: " << *b.skip << std::endl;
      ++skipped;
    } else if (b.kind == BlockKind::script) {
      run_script(shell, b), ++ran;
    } else {
      for (const Command& c : b.commands) run_command(shell, c), ++ran;
    }
  }
  std::cout << options.lesson << ": passed: " << ran << " commands and sh blocks; skipped blocks: "
            << skipped << (ran ? "" : " (note: nothing in this lesson is run)") << std::endl;
}

int main(int argc, char** argv) {
  Catch::Session session;
  using Catch::clara::Opt;
  session.cli(session.cli() |
              Opt(options.lesson, "README.md")["--lesson"]("the lesson to run (required)") |
              Opt(options.bin_dir, "dir")["--bin-dir"]("the build's bin (default: beside this program)") |
              Opt(options.timeout, "seconds")["--command-timeout"]("per command (default 60)") |
              Opt(options.private_network)["--private-network"](
                  "run the lesson in a network namespace of its own, lo up, that plays the host"));
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  if (session.configData().showHelp) return 0;
  if (options.lesson.empty()) {
    std::cerr << "skiff_doctest: --lesson README.md is required\n";
    return 2;
  }
  if (options.bin_dir.empty()) options.bin_dir = fs::read_symlink("/proc/self/exe").parent_path();
  // Checked after the options, so that --help works for anyone.
  if (geteuid() != 0) {
    std::cout << "SKIP: lessons run real containers; needs root" << std::endl;
    return 4;
  }
  signal(SIGPIPE, SIG_IGN);  // a dead shell must not kill the runner mid-write
  // A lesson that builds networks (a bridge, NAT, forwarding) does it in a
  // namespace that dies with the runner: the machine's own network is never
  // touched, and nothing of it is left, whatever the lesson forgets.
  if (options.private_network) {
    if (unshare(CLONE_NEWNET) < 0) {
      std::cerr << "skiff_doctest: unshare(CLONE_NEWNET): " << std::strerror(errno) << "\n";
      return 2;
    }
    if (std::system("ip link set lo up") != 0) {
      std::cerr << "skiff_doctest: could not bring lo up in the lesson's network namespace\n";
      return 2;
    }
  }
  return session.run();
}
