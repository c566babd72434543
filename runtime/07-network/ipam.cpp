// 07-network/ipam.cpp — see ipam.hpp.
#include "07-network/ipam.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"

namespace skiff::network {

namespace stdfs = std::filesystem;

Ipv4 parse_ipv4(const std::string& text) {
  struct in_addr a {};
  if (::inet_pton(AF_INET, text.c_str(), &a) != 1) throw core::Error("invalid IPv4 address: " + text);
  return ntohl(a.s_addr);
}

std::string to_string_ipv4(Ipv4 ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
         std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff);
}

bool Subnet::overlaps(const Subnet& other) const {
  // Two prefixes overlap when the shorter one contains the other's base.
  const Subnet& wide = prefix <= other.prefix ? *this : other;
  const Subnet& narrow = prefix <= other.prefix ? other : *this;
  return wide.contains(narrow.base);
}

Subnet parse_subnet(const std::string& text) {
  auto slash = text.find('/');
  Subnet s;
  try {
    if (slash == std::string::npos) throw core::Error("");
    auto bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 2 || bits.find_first_not_of("0123456789") != std::string::npos)
      throw core::Error("");
    s.prefix = std::stoi(bits);
    if (s.prefix > 32) throw core::Error("");
    s.base = parse_ipv4(text.substr(0, slash));
  } catch (const core::Error&) {
    throw core::Error("invalid CIDR address: " + text);
  }
  if ((s.base & s.mask()) != s.base) {
    Subnet fixed{s.base & s.mask(), s.prefix};
    throw core::Error("invalid subnet " + text + ": it should be " + to_string(fixed));
  }
  return s;
}

std::string to_string(const Subnet& s) { return to_string_ipv4(s.base) + "/" + std::to_string(s.prefix); }

std::vector<Subnet> parse_proc_net_route(const std::string& text) {
  // "Iface Destination Gateway Flags RefCnt Use Metric Mask …", addresses
  // in hex, in the kernel's (network) byte order as a little-endian word.
  std::vector<Subnet> out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    if (!(f >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask)) continue;
    try {
      if (std::stoul(gw, nullptr, 16) != 0) continue;  // via a gateway: not on a link
      Ipv4 d = ntohl(static_cast<uint32_t>(std::stoul(dest, nullptr, 16)));
      Ipv4 m = ntohl(static_cast<uint32_t>(std::stoul(mask, nullptr, 16)));
      if (m == 0) continue;  // a default route reaches everything: it decides nothing
      int prefix = __builtin_popcount(m);
      out.push_back({d & m, prefix});
    } catch (const std::exception&) {
      continue;  // a line we cannot read decides nothing either
    }
  }
  return out;
}

std::vector<Ipv4> parse_resolv_conf_nameservers(const std::string& text) {
  std::vector<Ipv4> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key, value;
    if (!(f >> key >> value) || key != "nameserver") continue;
    struct in_addr a {};
    if (::inet_pton(AF_INET, value.c_str(), &a) == 1) out.push_back(ntohl(a.s_addr));
  }
  return out;
}

HostNetworks read_host_networks() {
  HostNetworks h;
  h.routes = parse_proc_net_route(core::fs::read_file_if_exists("/proc/net/route").value_or(""));
  h.nameservers = parse_resolv_conf_nameservers(core::fs::read_file_if_exists("/etc/resolv.conf").value_or(""));
  return h;
}

std::vector<Subnet> default_pools() {
  // Docker's default-address-pools: (base, size of each network).
  const std::pair<const char*, int> pools[] = {
      {"172.17.0.0/16", 16}, {"172.18.0.0/16", 16}, {"172.19.0.0/16", 16}, {"172.20.0.0/14", 16},
      {"172.24.0.0/14", 16}, {"172.28.0.0/14", 16}, {"192.168.0.0/16", 20}};
  std::vector<Subnet> out;
  for (const auto& [cidr, size] : pools) {
    Subnet pool = parse_subnet(cidr);
    for (uint64_t n = 0; n < (uint64_t{1} << (size - pool.prefix)); ++n)
      out.push_back({pool.base + static_cast<Ipv4>(n << (32 - size)), size});
  }
  return out;
}

std::optional<Subnet> choose_subnet(const HostNetworks& host, const std::vector<Subnet>& taken) {
  for (const auto& candidate : default_pools()) {
    bool free = true;
    for (const auto& r : host.routes) free = free && !candidate.overlaps(r);
    for (auto ns : host.nameservers) free = free && !candidate.contains(ns);
    for (const auto& t : taken) free = free && !candidate.overlaps(t);
    if (free) return candidate;
  }
  return std::nullopt;
}

AddressBook::AddressBook(stdfs::path dir, Subnet subnet) : dir_(std::move(dir)), subnet_(subnet) {}

std::vector<std::pair<Ipv4, std::string>> AddressBook::in_use() const {
  std::vector<std::pair<Ipv4, std::string>> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(addresses(), ec)) {
    struct in_addr a {};
    auto name = e.path().filename().string();
    if (::inet_pton(AF_INET, name.c_str(), &a) != 1) continue;  // a stray file is nobody's address
    out.emplace_back(ntohl(a.s_addr), core::fs::read_file_if_exists(e.path()).value_or(""));
  }
  return out;
}

Ipv4 AddressBook::allocate(const std::string& container) {
  core::fs::make_dirs(addresses(), stdfs::perms::owner_all);
  core::fs::FileLock lock(dir_ / "lock");
  for (const auto& [ip, holder] : in_use())
    if (holder == container && subnet_.contains(ip)) return ip;
  for (Ipv4 ip = subnet_.gateway() + 1; ip < subnet_.broadcast(); ++ip) {
    auto path = addresses() / to_string_ipv4(ip);
    core::Fd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!f.valid()) {
      if (errno == EEXIST) continue;
      throw core::SystemError(errno, "open(" + path.string() + ")");
    }
    if (::write(f.get(), container.data(), container.size()) != static_cast<ssize_t>(container.size())) {
      int err = errno;
      ::unlink(path.c_str());
      throw core::SystemError(err, "write(" + path.string() + ")");
    }
    return ip;
  }
  throw core::Error("no available IPv4 addresses on this network's address pools: " + to_string(subnet_));
}

void AddressBook::release(const std::string& container) {
  std::error_code ec;
  if (!stdfs::exists(addresses(), ec)) return;
  core::fs::FileLock lock(dir_ / "lock");
  for (const auto& [ip, holder] : in_use())
    if (holder == container) ::unlink((addresses() / to_string_ipv4(ip)).c_str());
}

}  // namespace skiff::network
