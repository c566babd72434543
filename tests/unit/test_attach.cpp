// tests/unit/test_attach.cpp — the detach keys of `run -it` and `attach`:
// Docker's --detach-keys syntax, and the matcher that watches what the user
// types for them. Module: runtime/01-lifecycle/attach; lesson 01.
//
// Docker is the reference: moby/term's ToBytes ("ctrl-p,ctrl-q" → 16,17;
// one character stands for itself; ctrl-@ … ctrl-_ are the C0 codes).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "01-lifecycle/attach.hpp"
#include "core/error.hpp"

namespace {

using skiff::core::Error;
using skiff::lifecycle::DetachMatcher;
using skiff::lifecycle::parse_detach_keys;
using Keys = std::vector<unsigned char>;

// What feeding TEXT forwards; DETACHED says whether the sequence completed.
std::string feed(DetachMatcher& m, const std::string& text, bool& detached) {
  detached = true;  // feed() must clear it itself
  return m.feed(text.data(), text.size(), detached);
}

}  // namespace

// ---- parse_detach_keys ----------------------------------------------------

TEST_CASE("parse_detach_keys: Docker's default and ctrl- names", "[unit][attach]") {
  CHECK(parse_detach_keys("ctrl-p,ctrl-q") == Keys{0x10, 0x11});
  CHECK(parse_detach_keys("ctrl-a") == Keys{0x01});
  CHECK(parse_detach_keys("ctrl-z") == Keys{0x1a});
  CHECK(parse_detach_keys("ctrl-@") == Keys{0x00});
  CHECK(parse_detach_keys("ctrl-[") == Keys{27});
  CHECK(parse_detach_keys("ctrl-\\") == Keys{28});
  CHECK(parse_detach_keys("ctrl-]") == Keys{29});
  CHECK(parse_detach_keys("ctrl-^") == Keys{30});
  CHECK(parse_detach_keys("ctrl-_") == Keys{31});
}

TEST_CASE("parse_detach_keys: a single character stands for itself", "[unit][attach]") {
  CHECK(parse_detach_keys("a,b") == Keys{'a', 'b'});
  CHECK(parse_detach_keys("x") == Keys{'x'});
  CHECK(parse_detach_keys("ctrl-x,y,ctrl-@") == Keys{0x18, 'y', 0x00});
}

TEST_CASE("parse_detach_keys: rejects anything else, with Docker's message", "[unit][attach]") {
  CHECK_THROWS_WITH(parse_detach_keys("ctrl-"), Catch::Contains("Invalid detach keys"));
  CHECK_THROWS_WITH(parse_detach_keys("ctrlp"), Catch::Contains("Invalid detach keys (ctrlp)"));
  CHECK_THROWS_WITH(parse_detach_keys(""), Catch::Contains("Invalid detach keys"));
  for (const char* text : {"ctrl-", "ctrlp", "", ",", "a,", ",a", "a,,b", "ab", "ctrl-pq",
                           "ctrl-1", "ctrl-~", "ctrl-p,ctrl-", "alt-p", "ctrl+p"}) {
    INFO(text);
    CHECK_THROWS_AS(parse_detach_keys(text), Error);
  }
}

// ---- DetachMatcher --------------------------------------------------------

TEST_CASE("DetachMatcher: the whole sequence detaches, what came before goes on",
          "[unit][attach]") {
  DetachMatcher m({0x10, 0x11});
  bool detached = true;
  CHECK(feed(m, "ls\r", detached) == "ls\r");
  CHECK_FALSE(detached);
  CHECK(feed(m, "echo hi\x10\x11", detached) == "echo hi");
  CHECK(detached);
}

TEST_CASE("DetachMatcher: plain bytes pass through unchanged", "[unit][attach]") {
  DetachMatcher m({0x10, 0x11});
  bool detached = true;
  std::string all;
  for (int c = 0; c < 256; ++c)
    if (c != 0x10) all += static_cast<char>(c);
  CHECK(feed(m, all, detached) == all);  // a lone Ctrl-q is just a key
  CHECK_FALSE(detached);
  CHECK(feed(m, std::string("\0a\0", 3), detached) == std::string("\0a\0", 3));
  CHECK_FALSE(detached);
}

TEST_CASE("DetachMatcher: a sequence that breaks off forwards the held keys", "[unit][attach]") {
  DetachMatcher m({0x10, 0x11});
  bool detached = true;
  // Ctrl-p is held back: it may begin the sequence.
  CHECK(feed(m, "\x10", detached).empty());
  CHECK_FALSE(detached);
  // Then "x": it was a Ctrl-p for the shell (previous history line) after all.
  CHECK(feed(m, "x", detached) == "\x10x");
  CHECK_FALSE(detached);
  // Within one read too, and the matcher starts afresh afterwards.
  CHECK(feed(m, "a\x10" "b", detached) == "a\x10" "b");
  CHECK_FALSE(detached);
  CHECK(feed(m, "\x11", detached) == "\x11");  // Ctrl-q alone: no sequence
  CHECK_FALSE(detached);
  CHECK(feed(m, "\x10\x11", detached).empty());
  CHECK(detached);
}

TEST_CASE("DetachMatcher: a sequence split across reads", "[unit][attach]") {
  DetachMatcher m({0x10, 0x11});
  bool detached = true;
  CHECK(feed(m, "pwd\r\x10", detached) == "pwd\r");
  CHECK_FALSE(detached);
  CHECK(feed(m, "\x11", detached).empty());
  CHECK(detached);

  DetachMatcher three(parse_detach_keys("a,b,c"));
  CHECK(feed(three, "xa", detached) == "x");
  CHECK_FALSE(detached);
  CHECK(feed(three, "b", detached).empty());
  CHECK_FALSE(detached);
  CHECK(feed(three, "c", detached).empty());
  CHECK(detached);
}

TEST_CASE("DetachMatcher: Ctrl-p Ctrl-p Ctrl-q forwards one Ctrl-p and detaches",
          "[unit][attach]") {
  DetachMatcher m({0x10, 0x11});
  bool detached = true;
  CHECK(feed(m, "\x10\x10\x11", detached) == "\x10");
  CHECK(detached);

  DetachMatcher split({0x10, 0x11});
  CHECK(feed(split, "\x10", detached).empty());
  CHECK_FALSE(detached);
  CHECK(feed(split, "\x10", detached) == "\x10");
  CHECK_FALSE(detached);
  CHECK(feed(split, "\x11", detached).empty());
  CHECK(detached);
}

TEST_CASE("DetachMatcher: a one-key sequence", "[unit][attach]") {
  DetachMatcher m(parse_detach_keys("ctrl-a"));
  bool detached = true;
  CHECK(feed(m, "top", detached) == "top");
  CHECK_FALSE(detached);
  CHECK(feed(m, "\x10\x11", detached) == "\x10\x11");  // Docker's default means nothing now
  CHECK_FALSE(detached);
  CHECK(feed(m, "q\x01", detached) == "q");
  CHECK(detached);

  DetachMatcher nul(parse_detach_keys("ctrl-@"));
  CHECK(feed(nul, std::string("x\0", 2), detached) == "x");
  CHECK(detached);
}
