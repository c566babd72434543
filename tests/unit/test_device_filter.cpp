// tests/unit/test_device_filter.cpp — device rules, their v1 meaning and the
// v2 eBPF program, without root. Lessons: lessons/04-cgroups,
// lessons/11-security; module: runtime/04-cgroups/device_filter.
//
// The kernel cannot run a cgroup device program on demand (BPF_PROG_TEST_RUN
// does not take this type), so the tests carry a small interpreter for the
// few instructions the generator writes. It refuses any other instruction,
// a backward jump and a load outside the request, so a program the
// generator gets wrong fails here instead of deciding something by luck.
// tests/integration/test_device_filter.cpp runs the same programs in the
// kernel.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "04-cgroups/cgroups.hpp"
#include "04-cgroups/device_filter.hpp"
#include "core/error.hpp"

namespace {

namespace cg = skiff::cgroups;
using Rules = std::vector<cg::DeviceRule>;

constexpr unsigned kR = BPF_DEVCG_ACC_READ, kW = BPF_DEVCG_ACC_WRITE, kM = BPF_DEVCG_ACC_MKNOD;

struct Request {
  char type;  // 'b' or 'c'
  unsigned access;
  uint32_t major, minor;
};

// Runs PROGRAM on REQUEST as the kernel would: 1 allows, 0 refuses.
uint64_t run(const std::vector<bpf_insn>& program, const Request& rq) {
  bpf_cgroup_dev_ctx ctx{};
  ctx.access_type = (rq.access << 16) | (rq.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
  ctx.major = rq.major;
  ctx.minor = rq.minor;
  const auto ctx_address = reinterpret_cast<uintptr_t>(&ctx);
  uint64_t reg[11] = {};
  reg[1] = ctx_address;
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const bpf_insn& i = program[pc];
    auto imm32 = static_cast<uint32_t>(i.imm);
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        REQUIRE(reg[i.src_reg] == ctx_address);  // only the request may be read
        REQUIRE(i.off >= 0);
        REQUIRE(static_cast<size_t>(i.off) + 4 <= sizeof ctx);
        uint32_t word;
        std::memcpy(&word, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        reg[i.dst_reg] = word;
        break;
      }
      // 32-bit operations clear the upper half, as the kernel's do.
      case BPF_ALU | BPF_AND | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) & imm32; break;
      case BPF_ALU | BPF_RSH | BPF_K: reg[i.dst_reg] = static_cast<uint32_t>(reg[i.dst_reg]) >> imm32; break;
      case BPF_ALU | BPF_MOV | BPF_K: reg[i.dst_reg] = imm32; break;
      case BPF_ALU64 | BPF_MOV | BPF_X: reg[i.dst_reg] = reg[i.src_reg]; break;
      case BPF_JMP | BPF_JNE | BPF_K:
        REQUIRE(i.off >= 0);  // forward only: every run ends
        if (reg[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT: return reg[0];
      default: FAIL("an instruction the interpreter does not know: code 0x" << std::hex << int(i.code));
    }
  }
  FAIL("the program ran off its end");
  return 0;
}

bool allows(const Rules& rules, const Request& rq) { return run(cg::device_program(rules), rq) == 1; }

// The meaning the program must have: some exception v1 would hold has the
// request's type and numbers and every access it asks for.
bool model_allows(const Rules& rules, const Request& rq) {
  for (const auto& e : cg::allowed_devices(rules)) {
    unsigned bits = 0;
    for (char c : e.access) bits |= c == 'r' ? kR : c == 'w' ? kW : kM;
    bool numbers = (e.major < 0 || uint32_t(e.major) == rq.major) &&
                   (e.minor < 0 || uint32_t(e.minor) == rq.minor);
    if (e.type == rq.type && numbers && (rq.access & ~bits) == 0) return true;
  }
  return false;
}

bool is_exit(const bpf_insn& i) { return i.code == (BPF_JMP | BPF_EXIT); }
bool is_jump(const bpf_insn& i) { return i.code == (BPF_JMP | BPF_JNE | BPF_K); }

// The shape every generated program has: every jump lands inside the
// program on the first instruction of a block (right after an exit), and it
// ends in "r0 = 0; exit": what no rule allows is refused.
void check_shape(const std::vector<bpf_insn>& p) {
  REQUIRE(p.size() >= 3);
  for (size_t pc = 0; pc < p.size(); ++pc) {
    if (!is_jump(p[pc])) continue;
    CAPTURE(pc);
    size_t target = pc + 1 + p[pc].off;
    CHECK(p[pc].off >= 0);
    CHECK(target < p.size());
    CHECK(is_exit(p[target - 1]));
  }
  const auto& mov = p[p.size() - 2];
  CHECK(mov.code == (BPF_ALU | BPF_MOV | BPF_K));
  CHECK(mov.dst_reg == 0);
  CHECK(mov.imm == 0);
  CHECK(is_exit(p.back()));
}

const cg::DeviceRule kDiskRead{'b', 254, 0, "r"};

}  // namespace

TEST_CASE("device rules: Docker's text, both ways", "[unit][cgroups][devices]") {
  CHECK(cg::to_string({'c', 1, 3, "rwm"}) == "c 1:3 rwm");
  CHECK(cg::to_string({'c', -1, -1, "m"}) == "c *:* m");
  CHECK(cg::to_string({'c', 136, -1, "rwm"}) == "c 136:* rwm");
  for (const auto& rule : cg::default_device_rules())
    CHECK(cg::parse_device_rule(cg::to_string(rule)) == rule);
  CHECK(cg::parse_device_rule("b 8:* rw") == cg::DeviceRule{'b', 8, -1, "rw"});
  CHECK(cg::parse_device_rule("a *:* m") == cg::DeviceRule{'a', -1, -1, "m"});
  for (auto bad : {"", "c", "c 1:3", "c 1:3 rwx", "x 1:3 r", "c 1-3 r", "c :3 r", "c 1:3 r extra",
                   "c 4096:0 r", "c 1:1048576 r", "c -1:3 r", "cc 1:3 r"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH(cg::parse_device_rule(bad), std::string("invalid device cgroup format '") + bad + "'");
  }
}

TEST_CASE("device rules: v1 lines, an 'a' rule split in two", "[unit][cgroups][devices]") {
  CHECK(cg::v1_device_lines({'c', 1, 3, "rwm"}) == std::vector<std::string>{"c 1:3 rwm"});
  // The kernel would read "a 8:0 r" as "every device": it must never be written.
  CHECK(cg::v1_device_lines({'a', 8, 0, "r"}) == std::vector<std::string>{"b 8:0 r", "c 8:0 r"});
  CHECK(cg::v1_device_lines({'a', -1, -1, "m"}) == std::vector<std::string>{"b *:* m", "c *:* m"});
  CHECK(cg::v1_device_lines({'a', -1, -1, "rwm"}) == std::vector<std::string>{"a"});
  CHECK_THROWS_AS(cg::v1_device_lines({'c', 1, 3, ""}), skiff::core::Error);
}

TEST_CASE("allowed_devices: what v1 holds after the writes", "[unit][cgroups][devices]") {
  SECTION("the default list is already v1's exceptions") {
    CHECK(cg::allowed_devices(cg::default_device_rules()) == cg::default_device_rules());
  }
  SECTION("allows for one device merge; access is kept as rwm") {
    CHECK(cg::allowed_devices({{'b', 8, 0, "r"}, {'b', 8, 0, "mw"}}) == Rules{{'b', 8, 0, "rwm"}});
    CHECK(cg::allowed_devices({{'a', 8, 0, "r"}}) == Rules{{'b', 8, 0, "r"}, {'c', 8, 0, "r"}});
  }
  SECTION("a deny takes access back from the same device, and an emptied rule goes") {
    Rules rules{{'c', 1, 3, "rwm"}, {'c', 1, 3, "w", false}};
    CHECK(cg::allowed_devices(rules) == Rules{{'c', 1, 3, "rm"}});
    rules.push_back({'c', 1, 3, "rm", false});
    CHECK(cg::allowed_devices(rules).empty());
    rules.push_back({'c', 1, 3, "r"});
    CHECK(cg::allowed_devices(rules) == Rules{{'c', 1, 3, "r"}});
  }
  SECTION("deny a starts again from nothing") {
    Rules rules{{'c', 1, 3, "rwm"}, {'a', -1, -1, "rwm", false}, kDiskRead};
    CHECK(cg::allowed_devices(rules) == Rules{kDiskRead});
  }
  SECTION("refused: a hole in a wider rule, and allowing everything") {
    // v1 would keep c *:* m whole, so mknod of 1:3 would still work.
    auto hole = Rules{{'c', -1, -1, "m"}, {'c', 1, 3, "m", false}};
    CHECK_THROWS_WITH(cg::allowed_devices(hole),
                      "device rule \"deny c 1:3 m\" cannot take access back from \"c *:* m\": "
                      "the kernel does not split a rule");
    // …but a deny that shares no access with the wider rule is exact.
    CHECK(cg::allowed_devices({{'c', -1, -1, "m"}, {'c', 1, 3, "rw"}, {'c', 1, 3, "rw", false}}) ==
          Rules{{'c', -1, -1, "m"}});
    CHECK_THROWS_AS(cg::allowed_devices({{'a', -1, -1, "rwm"}}), skiff::core::Error);
    CHECK_THROWS_AS(cg::allowed_devices({{'z', 1, 3, "r"}}), skiff::core::Error);
  }
}

TEST_CASE("device_program: its length and shape", "[unit][cgroups][devices]") {
  // 1 to keep the request in r6, 2 to refuse.
  auto none = cg::device_program({});
  CHECK(none.size() == 3);
  check_shape(none);
  // Per rule: 3 to test the type; 4 for access other than rwm; 2 per number
  // that is not *; 2 to allow. Docker's list: c *:* m and b *:* m (9 each),
  // eight c N:N rwm (9 each), c 136:* rwm (7), c 10:200 rwm (9).
  auto docker = cg::device_program(cg::default_device_rules());
  CHECK(docker.size() == 1 + 9 + 9 + 8 * 9 + 7 + 9 + 2);
  check_shape(docker);
  auto extra = cg::default_device_rules();
  extra.push_back(kDiskRead);
  auto with_disk = cg::device_program(extra);
  CHECK(with_disk.size() == docker.size() + 3 + 4 + 2 + 2 + 2);  // b 254:0 r: every test
  check_shape(with_disk);
  // Pure: the same rules, the same instructions.
  auto again = cg::device_program(cg::default_device_rules());
  REQUIRE(again.size() == docker.size());
  CHECK(std::memcmp(again.data(), docker.data(), docker.size() * sizeof(bpf_insn)) == 0);
}

TEST_CASE("device_program decides as Docker's list says", "[unit][cgroups][devices]") {
  const auto docker = cg::default_device_rules();
  CHECK(allows(docker, {'c', kR | kW, 1, 3}));    // /dev/null
  CHECK(allows(docker, {'c', kR, 1, 9}));         // /dev/urandom
  CHECK(allows(docker, {'c', kR | kW, 136, 7}));  // /dev/pts/7
  CHECK(allows(docker, {'c', kR | kW, 10, 200})); // /dev/net/tun
  CHECK(allows(docker, {'b', kM, 254, 0}));       // mknod of the disk…
  CHECK_FALSE(allows(docker, {'b', kR, 254, 0})); // …but no opening it
  CHECK_FALSE(allows(docker, {'b', kW, 254, 0}));
  CHECK_FALSE(allows(docker, {'c', kR, 1, 11}));  // /dev/kmsg
  CHECK(allows(docker, {'c', kM, 1, 11}));
  CHECK_FALSE(allows(docker, {'c', kR | kM, 1, 11}));  // all of the access, or nothing
  CHECK_FALSE(allows(docker, {'b', kR, 1, 3}));   // a block 1:3 is not /dev/null
  CHECK_FALSE(allows(docker, {'c', kR, 5, 3}));
  CHECK_FALSE(allows(docker, {'c', kR, 10, 229}));  // /dev/fuse
  CHECK_FALSE(allows({}, {'c', kR, 1, 3}));  // no rule: nothing

  auto with_disk = docker;
  with_disk.push_back(kDiskRead);  // --device /dev/vda:/dev/vda:r
  CHECK(allows(with_disk, {'b', kR, 254, 0}));
  CHECK_FALSE(allows(with_disk, {'b', kW, 254, 0}));
  CHECK_FALSE(allows(with_disk, {'b', kR | kW, 254, 0}));
  CHECK_FALSE(allows(with_disk, {'b', kR, 254, 1}));  // its partition: not given
}

TEST_CASE("device_program agrees with allowed_devices on every request", "[unit][cgroups][devices]") {
  auto extra = cg::default_device_rules();
  extra.insert(extra.end(),
               {{'a', 8, -1, "rw"}, {'b', 254, 0, "r"}, {'c', 1, 9, "w", false}, {'c', 4, 2, "m"}});
  const std::vector<Rules> sets{{}, cg::default_device_rules(), extra, {{'c', 1, -1, "r"}}};
  int compared = 0;
  for (const auto& rules : sets)
    for (char type : {'b', 'c'})
      for (unsigned access = 1; access <= 7; ++access)
        for (uint32_t major : {0u, 1u, 4u, 5u, 8u, 10u, 136u, 254u, 4095u})
          for (uint32_t minor : {0u, 1u, 2u, 3u, 5u, 9u, 200u, 1048575u}) {
            Request rq{type, access, major, minor};
            CAPTURE(rules.size(), type, access, major, minor);
            REQUIRE(allows(rules, rq) == model_allows(rules, rq));
            ++compared;
          }
  CHECK(compared == 4 * 2 * 7 * 9 * 8);
}
