// tests/unit/test_format.cpp — what `ps` and `images` print, cell by cell.
// Module: runtime/cli/format; lesson 01.
//
// Docker is the reference: go-units' HumanDuration and HumanSize (with the
// CLI's precision of 3), the daemon's Command string with the CLI's
// Ellipsis and strconv.Quote, and text/tabwriter as `docker ps` sets it up
// (minwidth 10, padding 3, padchar ' ').
#include <catch2/catch.hpp>

#include <ctime>
#include <string>
#include <vector>

#include "cli/format.hpp"

namespace {

using skiff::cli::human_duration;
using skiff::cli::human_size;
using skiff::cli::parse_rfc3339;
using skiff::cli::ps_command;
using skiff::cli::seconds_since;
using skiff::cli::table;

constexpr double kMinute = 60, kHour = 3600, kDay = 24 * kHour;

// The RFC 3339 form of SECONDS_AGO seconds before now, whole seconds, UTC.
std::string rfc3339_ago(long seconds_ago) {
  std::time_t t = std::time(nullptr) - seconds_ago;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return out;
}

}  // namespace

// ---- human_duration -------------------------------------------------------

TEST_CASE("human_duration: Docker's wording at every boundary", "[unit][format]") {
  struct Row {
    double seconds;
    const char* text;
  };
  const Row rows[] = {
      {0, "Less than a second"},
      {0.5, "Less than a second"},
      {0.999, "Less than a second"},
      {1, "1 second"},
      {1.9, "1 second"},
      {2, "2 seconds"},
      {59, "59 seconds"},
      {59.9, "59 seconds"},
      {60, "About a minute"},
      {119, "About a minute"},
      {120, "2 minutes"},
      {3599, "59 minutes"},
      {kHour, "About an hour"},
      // Hours round to the nearest: int(hours + 0.5).
      {5399, "About an hour"},
      {5400, "2 hours"},
      {23.5 * kHour, "24 hours"},
      {47 * kHour, "47 hours"},
      {47.5 * kHour, "2 days"},
      {48 * kHour, "2 days"},
      {13 * kDay, "13 days"},
      {14 * kDay, "2 weeks"},
      {59 * kDay, "8 weeks"},
      {60 * kDay, "2 months"},
      {729 * kDay, "24 months"},
      {730 * kDay, "2 years"},
      {3 * 365 * kDay, "3 years"},
  };
  for (const auto& r : rows) {
    INFO(r.seconds << " seconds");
    CHECK(human_duration(r.seconds) == r.text);
  }
}

// ---- human_size -----------------------------------------------------------

TEST_CASE("human_size: decimal units, three significant digits", "[unit][format]") {
  CHECK(human_size(0) == "0B");
  CHECK(human_size(1) == "1B");
  CHECK(human_size(999) == "999B");
  CHECK(human_size(1000) == "1kB");
  CHECK(human_size(1500) == "1.5kB");
  CHECK(human_size(4260000) == "4.26MB");     // busybox
  CHECK(human_size(4264960) == "4.26MB");
  CHECK(human_size(77800000) == "77.8MB");
  CHECK(human_size(1234567890) == "1.23GB");
  CHECK(human_size(1e12) == "1TB");
  // Go's %.3g rounds 999.999 up to 1e+03 without moving to the next unit;
  // `docker images` prints this too.
  CHECK(human_size(999999) == "1e+03kB");
}

// ---- ps_command -----------------------------------------------------------

TEST_CASE("ps_command: the command line in double quotes", "[unit][format]") {
  CHECK(ps_command({"sleep", "1000"}, false) == "\"sleep 1000\"");
  CHECK(ps_command({"/bin/sh"}, false) == "\"/bin/sh\"");
  CHECK(ps_command({"top", "-b"}, true) == "\"top -b\"");
}

TEST_CASE("ps_command: cut to 20 characters with an ellipsis", "[unit][format]") {
  // 20 characters fit; 21 become 19 and "…".
  CHECK(ps_command({"sleep", "12345678901234"}, false) == "\"sleep 12345678901234\"");
  CHECK(ps_command({"sleep", "123456789012345"}, false) == "\"sleep 1234567890123…\"");
  CHECK(ps_command({"sleep", "1000000000000000"}, false) == "\"sleep 1000000000000…\"");
  // --no-trunc: the whole command.
  CHECK(ps_command({"sleep", "1000000000000000"}, true) == "\"sleep 1000000000000000\"");
}

TEST_CASE("ps_command: counts characters, never splits one", "[unit][format]") {
  std::string e19;
  for (int i = 0; i < 19; ++i) e19 += "é";   // 2 bytes each
  std::string e14;
  for (int i = 0; i < 14; ++i) e14 += "é";
  // "echo " + 19 é = 24 characters: 19 kept ("echo " and 14 é), then "…".
  CHECK(ps_command({"echo", e19}, false) == "\"echo " + e14 + "…\"");
  // "echo " + 15 é = 20 characters (35 bytes): fits.
  std::string e15 = e14 + "é";
  CHECK(ps_command({"echo", e15}, false) == "\"echo " + e15 + "\"");
}

TEST_CASE("ps_command: arguments with spaces in single quotes, as Docker", "[unit][format]") {
  // BUG: reported. Docker's daemon builds Command as Path + args, an arg
  // with a space wrapped in '…' (daemon/list.go); the CLI then cuts it and
  // prints it with strconv.Quote, which escapes '"' and '\'. `docker ps`:
  //   "sh -c 'sleep 100'"          "sh -c 'while true; …"
  CHECK(ps_command({"sh", "-c", "sleep 100"}, false) == "\"sh -c 'sleep 100'\"");
  CHECK(ps_command({"sh", "-c", "while true; do sleep 1; done"}, false) ==
        "\"sh -c 'while true; …\"");
  CHECK(ps_command({"sh", "-c", "while true; do sleep 1; done"}, true) ==
        "\"sh -c 'while true; do sleep 1; done'\"");
  CHECK(ps_command({"echo", "a\"b"}, false) == "\"echo a\\\"b\"");
  CHECK(ps_command({"printf", "a\\n"}, false) == "\"printf a\\\\n\"");
}

// ---- parse_rfc3339 / seconds_since ----------------------------------------

TEST_CASE("parse_rfc3339: UTC times to nanoseconds since the epoch", "[unit][format]") {
  constexpr int64_t kSec = 1'000'000'000;
  CHECK(parse_rfc3339("1970-01-01T00:00:01Z") == kSec);
  CHECK(parse_rfc3339("2024-01-02T03:04:05Z") == 1704164645 * kSec);
  CHECK(parse_rfc3339("2024-01-02T03:04:05.123456789Z") == 1704164645 * kSec + 123456789);
  // Go's RFC3339Nano drops trailing zeros: ".5" is half a second.
  CHECK(parse_rfc3339("2024-01-02T03:04:05.5Z") == 1704164645 * kSec + 500000000);
  CHECK(parse_rfc3339("2024-01-02T03:04:05.000000001Z") == 1704164645 * kSec + 1);
  // A leap day.
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == 1709164800 * kSec);
}

TEST_CASE("seconds_since: elapsed seconds, never negative", "[unit][format]") {
  double elapsed = seconds_since(rfc3339_ago(90));
  CHECK(elapsed >= 89.0);
  CHECK(elapsed < 95.0);
  CHECK(seconds_since(rfc3339_ago(-3600)) == 0.0);   // in the future
}

// ---- table ----------------------------------------------------------------

TEST_CASE("table: `docker ps` with no containers", "[unit][format]") {
  CHECK(table({{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}}) ==
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
  CHECK(table({}) == "");
}

TEST_CASE("table: widest cell plus three, at least ten, last column bare", "[unit][format]") {
  const std::vector<std::vector<std::string>> rows = {
      {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"},
      {"3f4e8a1b2c3d", "busybox", "\"sleep 1000\"", "5 seconds ago", "Up 4 seconds", "", "web"},
  };
  CHECK(table(rows) ==
        "CONTAINER ID   IMAGE     COMMAND        CREATED         STATUS         PORTS     NAMES\n"
        "3f4e8a1b2c3d   busybox   \"sleep 1000\"   5 seconds ago   Up 4 seconds             web\n");
  CHECK(table({{"A", "B"}, {"x", "y"}}) == "A         B\nx         y\n");
  // The last column is never padded, even when it is the narrowest.
  CHECK(table({{"NAME", "X"}, {"a", "longer-than-ten"}}) ==
        "NAME      X\na         longer-than-ten\n");
}

TEST_CASE("table: the ellipsis is one character wide", "[unit][format]") {
  // 22 characters (24 bytes): the column is 25 wide.
  const std::string cell = "\"sleep 1000000000000…\"";
  CHECK(table({{"COMMAND", "NAMES"}, {cell, "web"}}) ==
        "COMMAND" + std::string(18, ' ') + "NAMES\n" + cell + "   web\n");
}
