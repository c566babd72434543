// engine/names.cpp — the names skiff gives containers that were not named.
//
// Docker pairs an adjective with a scientist's surname; skiff pairs one with
// a word from the water, after its own name. Our lists, not Docker's.
#include <sys/random.h>

#include <array>
#include <string>

namespace skiff::engine {

std::string random_name() {
  static constexpr std::array<const char*, 32> adjectives = {
      "agile",  "bold",   "brave",  "breezy", "bright", "calm",   "clever", "cosy",
      "daring", "eager",  "fair",   "fleet",  "gentle", "glad",   "happy",  "keen",
      "kind",   "lively", "lucky",  "merry",  "nimble", "proud",  "quick",  "quiet",
      "rapid",  "serene", "sharp",  "steady", "sunny",  "swift",  "tidy",   "witty"};
  static constexpr std::array<const char*, 32> nouns = {
      "anchor", "bay",    "beacon", "bow",    "buoy",   "cove",   "current", "delta",
      "dock",   "ferry",  "fjord",  "galley", "gull",   "harbor", "helm",    "hull",
      "island", "jetty",  "keel",   "lagoon", "mast",   "oar",    "pier",    "reef",
      "rudder", "sail",   "shoal",  "stern",  "strait", "tide",   "wake",    "wharf"};
  unsigned char r[3] = {};
  if (::getrandom(r, sizeof r, 0) != 3) r[0] = r[1] = r[2] = 0;
  std::string name = std::string(adjectives[r[0] % adjectives.size()]) + "_" +
                     nouns[r[1] % nouns.size()];
  // 1024 pairs run out in a busy classroom; a digit keeps names unique.
  return r[2] < 128 ? name : name + std::to_string(r[2] % 10);
}

}  // namespace skiff::engine
