// tests/docs/doctest_match.hpp — does what a command printed match what the
// lesson shows? Pure, header-only, unit-tested in tests/unit.
//
// The only wildcard is the ellipsis `…` (U+2026), because a reader takes it
// for "something here" without being told: inside a line it stands for any
// text, and a line that is only `…` stands for any number of lines. A small
// glob, not std::regex: a lesson's `.` `*` `(` must stay literal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace skiff::doctest {

inline constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // … in UTF-8

// Trailing spaces, tabs and CRs are invisible in a lesson, so never compared.
inline std::string_view rstrip(std::string_view s) {
  size_t end = s.find_last_not_of(" \t\r");
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

// The lines a command printed (or a lesson expects): split on '\n', trailing
// whitespace dropped, and no trailing empty lines — so output that ends
// without a newline matches exactly like output that ends with one.
inline std::vector<std::string> normalize_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(rstrip(text.substr(start, end - start)));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

inline std::vector<std::string> normalize_lines(const std::vector<std::string>& in) {
  std::vector<std::string> lines;
  for (const auto& l : in) lines.emplace_back(rstrip(l));
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// A line that is only `…` (indentation allowed): any number of lines.
inline bool is_any_lines(std::string_view pattern) {
  size_t b = pattern.find_first_not_of(" \t");
  return b != std::string_view::npos && rstrip(pattern.substr(b)) == kEllipsis;
}

// One line against one pattern. Split at each `…`: the first piece must
// start the text, the last must end it, and the ones between are found left
// to right — taking the leftmost place for each is never worse, so no
// backtracking is needed inside a line.
inline bool match_line(std::string_view pattern, std::string_view text) {
  pattern = rstrip(pattern), text = rstrip(text);
  std::vector<std::string_view> pieces;
  for (size_t at; (at = pattern.find(kEllipsis)) != std::string_view::npos;) {
    pieces.push_back(pattern.substr(0, at));
    pattern.remove_prefix(at + kEllipsis.size());
  }
  if (pieces.empty()) return pattern == text;
  std::string_view first = pieces.front(), last = pattern;
  if (text.size() < first.size() + last.size()) return false;
  if (text.substr(0, first.size()) != first || text.substr(text.size() - last.size()) != last)
    return false;
  size_t pos = first.size(), end = text.size() - last.size();
  for (size_t i = 1; i < pieces.size(); ++i) {
    size_t at = text.substr(0, end).find(pieces[i], pos);
    if (at == std::string_view::npos) return false;
    pos = at + pieces[i].size();
  }
  return true;
}

// All lines against all patterns: the wildcard-matching walk with one
// backtrack point, the last whole-line `…` seen. When a line fails, that `…`
// swallows one more line and the walk resumes after it; earlier `…`s never
// need to change (the classic argument for glob `*`).
inline bool match_lines(const std::vector<std::string>& expected,
                        const std::vector<std::string>& actual) {
  size_t e = 0, a = 0;
  size_t star = std::string::npos, star_a = 0;  // last `…` and where it resumes
  while (a < actual.size()) {
    if (e < expected.size() && is_any_lines(expected[e])) {
      star = e++, star_a = a;
    } else if (e < expected.size() && match_line(expected[e], actual[a])) {
      ++e, ++a;
    } else if (star != std::string::npos) {
      e = star + 1, a = ++star_a;
    } else {
      return false;
    }
  }
  while (e < expected.size() && is_any_lines(expected[e])) ++e;
  return e == expected.size();
}

}  // namespace skiff::doctest
