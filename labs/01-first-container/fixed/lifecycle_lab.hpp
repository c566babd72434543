// labs/01-first-container/fixed/lifecycle_lab.hpp — the four functions you
// write in lifecycle_lab.cpp. Do not change this file: the grader compiles
// its own copy.
//
// Two small pieces of `docker run -it` / `docker ps` that every user meets:
//   - the detach keys: Ctrl-p Ctrl-q leaves an attached container running.
//     The terminal is in raw mode, so those keys arrive as bytes among the
//     others the user types, possibly split over several reads;
//   - the STATUS column of `ps`: "Up 3 seconds", "Exited (137) 5 minutes ago".
// Lesson: lessons/01-first-container. skiff's own version (read it after the
// lab): runtime/01-lifecycle/attach.cpp and runtime/cli/format.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace lab {

// ---- part 1: the detach keys ----------------------------------------------------

// Docker's --detach-keys syntax: keys separated by commas, each either
//   - one character, which stands for itself:        "a" → 'a' (0x61)
//   - "ctrl-" and one of a…z @ [ \ ] ^ _:            "ctrl-a" → 0x01 … "ctrl-z" → 0x1a,
//                                                    "ctrl-@" → 0x00,
//                                                    "ctrl-[" → 0x1b … "ctrl-_" → 0x1f
// "ctrl-p,ctrl-q" → {0x10, 0x11}. Anything else ("", "ctrl-1", "alt-x", an
// empty key between two commas) throws std::invalid_argument whose message
// names the bad key: main() prints "lifecycle-lab: MESSAGE", exit code 125.
std::vector<unsigned char> parse_keys(const std::string& spec);

// Watches what the user types for the detach sequence.
struct Detacher {
  std::vector<unsigned char> keys;  // the sequence, from parse_keys()
  std::size_t held = 0;             // how many of keys[0..held) were typed and held back
  bool detached = false;            // the whole sequence was typed
};

// Called with each read from the user's terminal, in order (one read may end
// halfway through the sequence; the next one goes on). Returns the bytes to
// send to the container:
//   - a byte that is not part of the sequence goes through at once;
//   - bytes that could be the start of the sequence are held back (d.held)
//     until we know;
//   - if the sequence breaks off, what was held back goes out after all (the
//     user meant those keys for the container), followed by the byte that
//     broke it — unless that byte is keys[0]: then it starts a new sequence;
//   - when the sequence completes, set d.detached and return: nothing of the
//     sequence, and nothing typed after it, is sent.
std::string feed(Detacher& d, std::string_view typed);

// ---- part 2: the STATUS column of ps ---------------------------------------------

// Docker's HumanDuration (github.com/docker/go-units), for SECONDS >= 0:
//   below 1 s            "Less than a second"
//   1 s                  "1 second"
//   below 60 s           "N seconds"
//   then, M = whole minutes (rounded down):
//     M == 1             "About a minute"
//     M < 60             "M minutes"
//   then, H = hours rounded to the nearest (x.5 goes up):
//     H == 1             "About an hour"
//     H < 48             "H hours"
//     H < 24*7*2         "H/24 days"
//     H < 24*30*2        "H/24/7 weeks"
//     H < 24*365*2       "H/24/30 months"
//   else                 "Y years", Y = whole hours (rounded down)/24/365
// (all divisions are integer divisions).
std::string human_duration(double seconds);

enum class State { created, running, paused, exited };

// The STATUS cell of `ps`, as Docker writes it:
//   created   "Created"
//   running   "Up " + duration since it started              "Up 3 seconds"
//   paused    the same, then " (Paused)"                     "Up 2 minutes (Paused)"
//   exited    "Exited (CODE) " + duration since it ended + " ago"
//                                                            "Exited (137) 5 seconds ago"
// SECONDS is that duration; EXIT_CODE is used for exited only.
std::string status_cell(State state, double seconds, int exit_code);

}  // namespace lab
