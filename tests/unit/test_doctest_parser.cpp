// tests/unit/test_doctest_parser.cpp — the pure half of the doc-test runner
// (tests/docs): how a lesson's Markdown becomes blocks and commands, and how
// output is matched against a transcript with `…`. The syntax is specified
// in tests/docs/README.md; the runner itself is tested by the fixtures in
// tests/docs/fixtures (label docs, root).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "../docs/doctest_match.hpp"
#include "../docs/doctest_parse.hpp"

namespace {

using namespace skiff::doctest;
using Lines = std::vector<std::string>;

}  // namespace

// ---- blocks ---------------------------------------------------------------

TEST_CASE("doctest parse: console and sh blocks are kept, other languages dropped") {
  auto blocks = parse_lesson(
      "# Title\n"
      "```console\n$ echo hi\nhi\n```\n"
      "```c\nint main() {}\n```\n"
      "```text\n$ false\n```\n"
      "~~~sh\nmkdir x\ncd x\n~~~\n"
      "```bash\nexit 1\n```\n");
  REQUIRE(blocks.size() == 2);
  CHECK(blocks[0].kind == BlockKind::console);
  CHECK(blocks[0].line == 2);
  REQUIRE(blocks[0].commands.size() == 1);
  CHECK(blocks[0].commands[0].text == "echo hi");
  CHECK(blocks[0].commands[0].line == 3);
  CHECK(blocks[0].commands[0].expected == Lines{"hi"});
  CHECK(blocks[1].kind == BlockKind::script);
  CHECK(blocks[1].script == "mkdir x\ncd x\n");
  CHECK(blocks[1].line == 12);
}

TEST_CASE("doctest parse: a console block holds several commands with their output") {
  auto blocks = parse_lesson("```console\n\n$ a\n1\n\n2\n$ b\n$ c\nx\n```\n");
  REQUIRE(blocks.size() == 1);
  auto& cs = blocks[0].commands;
  REQUIRE(cs.size() == 3);
  CHECK(cs[0].expected == Lines{"1", "", "2"});
  CHECK(cs[1].expected.empty());
  CHECK(cs[2].expected == Lines{"x"});
  CHECK(cs[2].line == 8);
}

TEST_CASE("doctest parse: an indented fence (in a list item) is a block, its indent removed") {
  auto blocks = parse_lesson("1. Run:\n\n   ```console\n   $ id -u\n   0\n   ```\n");
  REQUIRE(blocks.size() == 1);
  REQUIRE(blocks[0].commands.size() == 1);
  CHECK(blocks[0].commands[0].text == "id -u");
  CHECK(blocks[0].commands[0].expected == Lines{"0"});
}

TEST_CASE("doctest parse: a longer fence holds a shorter one and inline triple backticks are no fence") {
  auto blocks = parse_lesson("A ```` ```console ```` block.\n````console\n$ cat f\n```\n````\n");
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0].commands[0].expected == Lines{"```"});
}

TEST_CASE("doctest parse: malformed lessons are errors naming the line") {
  auto line_of = [](const char* md) {
    try {
      parse_lesson(md);
    } catch (const ParseError& e) {
      return e.line;
    }
    return -1;
  };
  CHECK(line_of("text\n```console\n$ echo\n") == 2);             // never closed
  CHECK(line_of("```console\nhello\n$ echo hello\n```\n") == 2);  // output before `$ `
  CHECK(line_of("```console\n$ echo a \\\n```\n") == 2);          // continuation off the end
  CHECK(line_of("```console\n$ cat <<EOF\nx\n```\n") == 2);       // here-doc never closed
  CHECK(line_of("```console\n$   \n```\n") == 2);                // empty command
}

// ---- doc-test comments ----------------------------------------------------

TEST_CASE("doctest parse: skip comments mark the next block, with their reason") {
  auto blocks = parse_lesson(
      "<!-- doc-test: skip needs a registry -->\n```console\n$ skiff pull x\n```\n"
      "<!-- doc-test: skip -->\n\n```sh\nfalse\n```\n"
      "<!-- doc-test: root -->\n```console\n$ true\n```\n"
      "```console\n$ true\n```\n");
  REQUIRE(blocks.size() == 4);
  CHECK(blocks[0].skip == std::optional<std::string>("needs a registry"));
  CHECK(blocks[1].skip == std::optional<std::string>("no reason given"));
  CHECK_FALSE(blocks[2].skip);
  CHECK_FALSE(blocks[3].skip);
}

TEST_CASE("doctest parse: a skip comment before a shown-only block skips nothing else") {
  auto blocks = parse_lesson("<!-- doc-test: skip x -->\n```text\nx\n```\n```console\n$ true\n```\n");
  REQUIRE(blocks.size() == 1);
  CHECK_FALSE(blocks[0].skip);
}

TEST_CASE("doctest parse: misplaced or misspelt doc-test comments are errors") {
  CHECK_THROWS_AS(parse_lesson("<!-- doc-test: skipp x -->\n```console\n$ true\n```\n"), ParseError);
  CHECK_THROWS_AS(parse_lesson("<!-- doc-test: skip x -->\ntext\n```console\n$ true\n```\n"), ParseError);
  CHECK_THROWS_AS(parse_lesson("<!-- doc-test: skip x\n-->\n```console\n$ true\n```\n"), ParseError);
  CHECK_THROWS_AS(parse_lesson("text\n<!-- doc-test: skip x -->\n"), ParseError);
  CHECK_NOTHROW(parse_lesson("<!-- an ordinary comment about doc-tests -->\ntext\n"));
}

// ---- commands -------------------------------------------------------------

TEST_CASE("doctest parse: `  # exit N` sets the expected status and is cut from the command") {
  auto cs = parse_lesson(
                "```console\n$ skiff run --rm busybox nosuch  # exit 127\nerr\n"
                "$ false # exit 1\n$ echo '# exit'\n# exit\n$ echo hi  # exit 256\n$ x#exit 1\n```\n")[0]
                .commands;
  REQUIRE(cs.size() == 5);
  CHECK(cs[0].text == "skiff run --rm busybox nosuch");
  CHECK(cs[0].exit_code == 127);
  CHECK(cs[0].expected == Lines{"err"});
  CHECK(cs[1].text == "false");
  CHECK(cs[1].exit_code == 1);
  CHECK(cs[2].exit_code == 0);  // no number: not a suffix
  CHECK(cs[3].exit_code == 0);  // out of range: left as a bash comment
  CHECK(cs[3].text == "echo hi  # exit 256");
  CHECK(cs[4].exit_code == 0);  // no space before '#': part of a word
}

TEST_CASE("doctest parse: a trailing backslash continues the command on the next line") {
  auto cs = parse_lesson("```console\n$ echo a \\\n  b \\\n  c  # exit 0\na b c\n$ echo 'x\\\\'\nx\\\\\n```\n")[0]
                .commands;
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].text == "echo a \\\n  b \\\n  c");
  CHECK(cs[0].expected == Lines{"a b c"});
  CHECK(cs[1].text == "echo 'x\\\\'");  // an escaped backslash does not continue
  CHECK(cs[1].expected == Lines{"x\\\\"});
}

TEST_CASE("doctest parse: here-document bodies belong to the command") {
  auto cs = parse_lesson(
                "```console\n$ cat <<EOF >f  # exit 0\n$ not a prompt\nEOF\n"
                "$ cat <<-'END' | tr a-z A-Z\n\tx\n\tEND\nX\n"
                "$ cat <<<here; echo $((1<<2))\nhere\n4\n```\n")[0]
                .commands;
  REQUIRE(cs.size() == 3);
  CHECK(cs[0].text == "cat <<EOF >f\n$ not a prompt\nEOF");
  CHECK(cs[0].expected.empty());
  CHECK(cs[1].text == "cat <<-'END' | tr a-z A-Z\n\tx\n\tEND");
  CHECK(cs[1].expected == Lines{"X"});
  CHECK(cs[2].expected == Lines{"here", "4"});  // <<< and a shift open no here-doc
}

// ---- matching -------------------------------------------------------------

TEST_CASE("doctest match: `…` inside a line matches any text, the rest is literal") {
  CHECK(match_line("Exited (0) … ago", "Exited (0) 3 seconds ago"));
  CHECK(match_line("Exited (0) … ago", "Exited (0)  ago"));
  CHECK_FALSE(match_line("Exited (0) … ago", "Exited (1) 3 seconds ago"));
  CHECK_FALSE(match_line("Exited (0) … ago", "Exited (0) ago"));  // both spaces are literal
  CHECK(match_line("…", ""));
  CHECK(match_line("a…b…c", "abc"));
  CHECK(match_line("a…b…c", "a-b-b-c"));
  CHECK_FALSE(match_line("a…b…c", "a-c-b"));
  CHECK_FALSE(match_line("ab…ba", "aba"));  // prefix and suffix may not overlap
  CHECK(match_line("a.b*", "a.b*"));
  CHECK_FALSE(match_line("a.b*", "axbb"));  // no regex
  CHECK(match_line("hello  ", "hello"));    // trailing whitespace ignored
  CHECK_FALSE(match_line("hello", "  hello"));
}

TEST_CASE("doctest match: a line that is only `…` matches any number of lines") {
  CHECK(match_lines({"first", "…", "last"}, {"first", "x", "y", "last"}));
  CHECK(match_lines({"first", "…", "last"}, {"first", "last"}));
  CHECK(match_lines({"…"}, {}));
  CHECK(match_lines({"  …  "}, {"a", "b"}));
  CHECK_FALSE(match_lines({"first", "…", "last"}, {"first", "x"}));
  CHECK_FALSE(match_lines({"first", "…"}, {"x", "first"}));
  CHECK_FALSE(match_lines({}, {"unexpected"}));
  CHECK_FALSE(match_lines({"expected"}, {}));
}

TEST_CASE("doctest match: whole-line `…` backtracks") {
  // The first "a b" seen is not the one that ends the output.
  CHECK(match_lines({"…", "a", "b", "c"}, {"a", "b", "a", "b", "c"}));
  CHECK(match_lines({"…", "keep", "…", "end"}, {"x", "keep", "y", "keep", "end"}));
  CHECK(match_lines({"…", "x…", "…", "x…"}, {"x1", "x2"}));
  CHECK_FALSE(match_lines({"…", "a", "b", "c"}, {"a", "b", "a", "b"}));
  CHECK_FALSE(match_lines({"…", "x…", "…", "x…"}, {"x1"}));
}

TEST_CASE("doctest match: output is split into lines, trailing blanks dropped") {
  CHECK(normalize_lines("hello\n") == Lines{"hello"});
  CHECK(normalize_lines("hello") == Lines{"hello"});
  CHECK(normalize_lines("a  \n\nb\t\r\n\n\n") == Lines{"a", "", "b"});
  CHECK(normalize_lines(std::string_view("")).empty());
  CHECK(normalize_lines(Lines{"x ", "", " "}) == Lines{"x"});
}
