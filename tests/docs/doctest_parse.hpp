// tests/docs/doctest_parse.hpp — a lesson's Markdown turned into the blocks
// the doc-tests run. Pure (no I/O), header-only, so tests/unit checks it
// without root. The syntax it reads is specified in tests/docs/README.md.
//
// Only what the doc-tests need is parsed: fenced blocks (``` or ~~~), their
// language, and the `<!-- doc-test: … -->` comment before them. Anything the
// parser cannot make sense of is a ParseError naming the line: a lesson that
// silently runs less than it shows would be a test that cannot fail.
#pragma once

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::doctest {

// One `$ ` command of a ```console block and the lines it must print.
struct Command {
  int line = 0;                        // the `$ ` line in the lesson, from 1
  std::string text;                    // what bash runs; continued lines joined by '\n'
  int exit_code = 0;                   // from the `  # exit N` suffix
  std::vector<std::string> expected;   // as written, `…` unexpanded
};

enum class BlockKind { console, script };

struct Block {
  BlockKind kind = BlockKind::console;
  int line = 0;                        // the opening fence
  std::optional<std::string> skip;     // the reason, when marked `skip`
  std::vector<Command> commands;       // console blocks
  std::string script;                  // sh blocks: the body, one '\n' per line
};

struct ParseError : std::runtime_error {
  ParseError(int l, const std::string& what) : std::runtime_error(what), line(l) {}
  int line;
};

namespace detail {

inline std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF files
    lines.push_back(std::move(line));
    start = end + 1;
  }
  return lines;
}

inline std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// An opening fence: CommonMark's ``` or ~~~ (three or more). Any indentation
// is accepted so that a block inside a list item is run, not skipped unseen.
struct Fence {
  char ch;
  size_t length, indent;
  std::string language;  // the first word of the info string
};

inline std::optional<Fence> open_fence(std::string_view line) {
  size_t indent = line.find_first_not_of(' ');
  if (indent == std::string_view::npos) return std::nullopt;
  char ch = line[indent];
  if (ch != '`' && ch != '~') return std::nullopt;
  size_t end = line.find_first_not_of(ch, indent);
  if (end == std::string_view::npos) end = line.size();
  if (end - indent < 3) return std::nullopt;
  std::string info = trim(line.substr(end));
  if (ch == '`' && info.find('`') != std::string::npos) return std::nullopt;  // inline code
  return Fence{ch, end - indent, indent, info.substr(0, info.find_first_of(" \t{"))};
}

inline bool closes(std::string_view line, const Fence& f) {
  std::string t = trim(line);
  return t.size() >= f.length && t.find_first_not_of(f.ch) == std::string::npos;
}

// A block's line without the fence's indentation (CommonMark removes up to
// that many spaces).
inline std::string unindent(std::string_view line, size_t indent) {
  size_t n = 0;
  while (n < indent && n < line.size() && line[n] == ' ') ++n;
  return std::string(line.substr(n));
}

// `<!-- doc-test: WORD REST -->` → {WORD, REST}; nullopt for other lines.
struct Directive {
  std::string word, rest;
};

inline std::optional<Directive> directive(std::string_view line, int lineno) {
  std::string t = trim(line);
  if (!starts_with(t, "<!--") || t.find("doc-test:") == std::string::npos) return std::nullopt;
  bool closed = t.size() >= 7 && t.compare(t.size() - 3, 3, "-->") == 0;
  std::string inner = closed ? trim(std::string_view(t).substr(4, t.size() - 7)) : "";
  if (!starts_with(inner, "doc-test:"))
    throw ParseError(lineno, "malformed doc-test comment (want `<!-- doc-test: skip REASON -->` on one line)");
  inner = trim(std::string_view(inner).substr(9));
  size_t sp = inner.find_first_of(" \t");
  Directive d{inner.substr(0, sp), sp == std::string::npos ? "" : trim(inner.substr(sp))};
  if (d.word != "skip" && d.word != "root")
    throw ParseError(lineno, "unknown doc-test directive `" + d.word + "` (known: skip, root)");
  return d;
}

// `cmd  # exit N` → N, and the suffix cut from LINE. One space is accepted
// too: a bash comment that was meant as the suffix should not slip through.
inline std::optional<int> take_exit_suffix(std::string& line) {
  size_t hash = line.rfind("# exit ");
  if (hash == std::string::npos || hash == 0 || (line[hash - 1] != ' ' && line[hash - 1] != '\t'))
    return std::nullopt;
  std::string num = trim(std::string_view(line).substr(hash + 7));
  if (num.empty() || num.size() > 3 || num.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int n = std::stoi(num);
  if (n > 255) return std::nullopt;
  line.erase(line.find_last_not_of(" \t", hash - 1) + 1);
  return n;
}

// The here-document delimiters a command line opens (`<<EOF`, `<<-'EOF'`,
// `<< "EOF"`), in order. `<<<` (a here-string) and `<<` inside `$(( ))`
// (a shift) open none.
struct HereDoc {
  std::string delimiter;
  bool strip_tabs;
};

inline std::vector<HereDoc> here_docs(std::string_view line) {
  std::vector<HereDoc> docs;
  int arith = 0;  // depth of (( … ))
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    if (line.substr(i, 2) == "((") { ++arith, ++i; continue; }
    if (line.substr(i, 2) == "))") { arith -= arith > 0, ++i; continue; }
    if (arith || line.substr(i, 2) != "<<") continue;
    if (i + 2 < line.size() && line[i + 2] == '<') { i += 2; continue; }
    size_t j = i + 2;
    bool strip = j < line.size() && line[j] == '-';
    j += strip;
    while (j < line.size() && line[j] == ' ') ++j;
    std::string word;
    for (; j < line.size() && !std::strchr(" \t;&|<>()", line[j]); ++j)
      if (line[j] != '\'' && line[j] != '"' && line[j] != '\\') word += line[j];
    if (!word.empty()) docs.push_back({word, strip});
    i = j - 1;
  }
  return docs;
}

inline bool continues(std::string_view line) {
  size_t n = 0;  // an odd number of trailing backslashes escapes the newline
  while (n < line.size() && line[line.size() - 1 - n] == '\\') ++n;
  return n % 2 == 1;
}

// The command whose `$ ` line is LINES[i]: that line, the lines a trailing
// backslash continues it on, then the bodies of its here-documents. Moves i
// past it.
inline Command read_command(const std::vector<std::string>& lines, size_t& i, int lineno) {
  Command c{lineno, "", 0, {}};
  std::vector<HereDoc> docs;
  bool have_suffix = false;
  auto take = [&](std::string l) {
    if (auto n = take_exit_suffix(l)) {
      if (have_suffix) throw ParseError(lineno, "two `# exit N` suffixes on one command");
      c.exit_code = *n, have_suffix = true;
    }
    for (auto& d : here_docs(l)) docs.push_back(d);
    c.text += (c.text.empty() ? "" : "\n") + l;
  };
  take(lines[i].substr(lines[i].size() > 1 ? 2 : 1));
  for (++i; continues(c.text); ++i) {
    if (i == lines.size()) throw ParseError(lineno, "the block ends inside a `\\` continuation");
    take(lines[i]);
  }
  for (const auto& d : docs) {
    for (;; ++i) {
      if (i == lines.size()) throw ParseError(lineno, "here-document `" + d.delimiter + "` is never closed");
      c.text += "\n" + lines[i];
      std::string_view l = lines[i];
      if (d.strip_tabs) l.remove_prefix(std::min(l.size(), l.find_first_not_of('\t')));
      if (l == d.delimiter) { ++i; break; }
    }
  }
  return c;
}

inline bool is_prompt(std::string_view line) { return line == "$" || starts_with(line, "$ "); }

// A ```console body: commands, each followed by its expected lines.
inline std::vector<Command> parse_console(const std::vector<std::string>& body, int first_line) {
  std::vector<Command> commands;
  for (size_t i = 0; i < body.size();) {
    int lineno = first_line + static_cast<int>(i);
    if (!is_prompt(body[i])) {
      if (!trim(body[i]).empty())
        throw ParseError(lineno, "output before the first `$ ` command of a console block");
      ++i;
      continue;
    }
    Command c = read_command(body, i, lineno);
    if (trim(c.text).empty()) throw ParseError(lineno, "an empty `$ ` command");
    for (; i < body.size() && !is_prompt(body[i]); ++i) c.expected.push_back(body[i]);
    commands.push_back(std::move(c));
  }
  return commands;
}

inline std::optional<Block> make_block(const Fence& f, const std::vector<std::string>& body,
                                       int fence_line) {
  Block b;
  b.line = fence_line;
  if (f.language == "console") {
    b.kind = BlockKind::console;
    b.commands = parse_console(body, fence_line + 1);
  } else if (f.language == "sh") {
    b.kind = BlockKind::script;
    for (const auto& l : body) b.script += l + "\n";
  } else {
    return std::nullopt;  // shown to the reader, never run
  }
  return b;
}

}  // namespace detail

// Every ```console and ```sh block of a lesson, in order, with its skip
// reason. Blocks in other languages are left out.
inline std::vector<Block> parse_lesson(std::string_view markdown) {
  using namespace detail;
  std::vector<std::string> lines = split_lines(markdown);
  std::vector<Block> blocks;
  std::optional<Directive> pending;
  int pending_line = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    int lineno = static_cast<int>(i) + 1;
    if (auto f = open_fence(lines[i])) {
      std::vector<std::string> body;
      size_t j = i + 1;
      for (; j < lines.size() && !closes(lines[j], *f); ++j) body.push_back(unindent(lines[j], f->indent));
      if (j == lines.size()) throw ParseError(lineno, "a code block is never closed");
      if (auto b = make_block(*f, body, lineno)) {
        if (pending && pending->word == "skip")
          b->skip = pending->rest.empty() ? "no reason given" : pending->rest;
        blocks.push_back(std::move(*b));
      }
      pending.reset();
      i = j;
    } else if (auto d = directive(lines[i], lineno)) {
      if (pending) throw ParseError(lineno, "two doc-test comments before one block");
      pending = d, pending_line = lineno;
    } else if (pending && !trim(lines[i]).empty()) {
      throw ParseError(pending_line, "a doc-test comment must come right before a code block");
    }
  }
  if (pending) throw ParseError(pending_line, "a doc-test comment at the end, with no block after it");
  return blocks;
}

}  // namespace skiff::doctest
