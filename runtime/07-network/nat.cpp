// 07-network/nat.cpp — see nat.hpp.
#include "07-network/nat.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <nftables/libnftables.h>

#include "core/error.hpp"
#include "core/library.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"
#include "core/trace.hpp"

namespace skiff::network {
namespace {

constexpr const char* kLibnftables = "libnftables.so.1";

struct Nft {
  nft_ctx* (*ctx_new)(uint32_t);
  void (*ctx_free)(nft_ctx*);
  int (*ctx_buffer_output)(nft_ctx*);
  int (*ctx_buffer_error)(nft_ctx*);
  const char* (*ctx_get_error_buffer)(nft_ctx*);
  int (*run_cmd_from_buffer)(nft_ctx*, const char*);
};

Nft load_nft() {
  core::Library lib(kLibnftables, "bridge networks need libnftables", "libnftables1");
  Nft n{};
  lib.resolve("nft_ctx_new", n.ctx_new);
  lib.resolve("nft_ctx_free", n.ctx_free);
  lib.resolve("nft_ctx_buffer_output", n.ctx_buffer_output);
  lib.resolve("nft_ctx_buffer_error", n.ctx_buffer_error);
  lib.resolve("nft_ctx_get_error_buffer", n.ctx_get_error_buffer);
  lib.resolve("nft_run_cmd_from_buffer", n.run_cmd_from_buffer);
  return n;
}

const Nft& nft() {
  static const Nft loaded = load_nft();  // once; an exception reaches the caller
  return loaded;
}

}  // namespace

std::string masquerade_script(const std::vector<Masqueraded>& networks) {
  std::string s =
      "add table ip skiff\n"
      "add chain ip skiff postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
      "flush chain ip skiff postrouting\n";
  for (const auto& n : networks)
    s += "add rule ip skiff postrouting ip saddr " + to_string(n.subnet) + " oifname != \"" + n.device +
         "\" masquerade\n";
  return s;
}

void run_nft(const std::string& script) {
  const auto& n = nft();
  nft_ctx* ctx = n.ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) throw core::Error("libnftables: cannot make a context");
  n.ctx_buffer_output(ctx);
  n.ctx_buffer_error(ctx);
  for (size_t at = 0, end; at < script.size(); at = end + 1) {
    end = script.find('\n', at);
    if (end == std::string::npos) end = script.size();
    core::trace::call("nft " + script.substr(at, end - at));
  }
  int rc = n.run_cmd_from_buffer(ctx, script.c_str());
  std::string error = n.ctx_get_error_buffer(ctx) ? n.ctx_get_error_buffer(ctx) : "";
  n.ctx_free(ctx);
  if (rc != 0) {
    while (!error.empty() && error.back() == '\n') error.pop_back();
    auto nl = error.find('\n');  // nft's first line says what; the rest draws it
    throw core::Error("nftables refused skiff's rules: " + (nl == std::string::npos ? error : error.substr(0, nl)));
  }
}

bool enable_ipv4_forwarding() {
  const char* path = "/proc/sys/net/ipv4/ip_forward";
  auto now = core::fs::read_file_if_exists(path).value_or("");
  if (!now.empty() && now[0] == '1') return false;
  core::trace::call("write 1 to /proc/sys/net/ipv4/ip_forward");
  core::Fd f(::open(path, O_WRONLY | O_CLOEXEC));
  if (!f.valid() || ::write(f.get(), "1\n", 2) != 2) throw core::SystemError(errno, std::string("write 1 to ") + path);
  return true;
}

}  // namespace skiff::network
