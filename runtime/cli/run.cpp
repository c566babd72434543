// cli/run.cpp — `skiff run`: options → a container spec → the lifecycle.
//
// Everything here is checked before anything is made: a bad flag, an
// unknown image or a taken name fails with nothing left in the store.
// Lesson: lessons/01-first-container.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include <iostream>
#include <thread>

#include "01-lifecycle/lifecycle.hpp"
#include "04-cgroups/device_filter.hpp"
#include "05-images/images.hpp"
#include "cli/command.hpp"
#include "cli/parse.hpp"
#include "11-security/policy.hpp"
#include "11-security/exec_stub.hpp"
#include "cli/volume.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "launch/process.hpp"

namespace skiff::cli {
namespace {

po::options_description run_options() {
  po::options_description o("Options");
  o.add_options()
      ("rm", po::bool_switch(), "Remove the container when it exits")
      ("name", po::value<std::string>(), "Assign a name to the container")
      ("hostname,h", po::value<std::string>(), "Container host name")
      ("env,e", po::value<std::vector<std::string>>()->composing(), "Set environment variables")
      ("env-file", po::value<std::vector<std::string>>()->composing(), "Read in a file of environment variables")
      ("workdir,w", po::value<std::string>(), "Working directory inside the container")
      ("user,u", po::value<std::string>(), "Username or UID (format: <name|uid>[:<group|gid>])")
      ("entrypoint", po::value<std::string>(), "Overwrite the default ENTRYPOINT of the image")
      ("memory,m", po::value<std::string>(), "Memory limit (e.g. 64m)")
      ("cpus", po::value<std::string>(), "Number of CPUs (e.g. 0.5)")
      ("pids-limit", po::value<std::string>(), "Tune container pids limit (-1 for unlimited)")
      ("interactive,i", po::bool_switch(), "Keep STDIN open")
      ("detach,d", po::bool_switch(), "Run container in background and print container ID")
      ("tty,t", po::bool_switch(), "Allocate a pseudo-TTY")
      ("detach-keys", po::value<std::string>()->default_value("ctrl-p,ctrl-q"), "Key sequence for detaching")
      ("volume,v", po::value<std::vector<std::string>>()->composing(), "Bind mount a volume")
      ("mount", po::value<std::vector<std::string>>()->composing(), "Attach a filesystem mount to the container")
      ("tmpfs", po::value<std::vector<std::string>>()->composing(), "Mount a tmpfs directory")
      ("volumes-from", po::value<std::vector<std::string>>()->composing(), "Mount volumes from the specified container(s)")
      ("read-only", po::bool_switch(), "Mount the container's root filesystem as read only")
      ("cap-add", po::value<std::vector<std::string>>()->composing(), "Add Linux capabilities")
      ("cap-drop", po::value<std::vector<std::string>>()->composing(), "Drop Linux capabilities")
      ("privileged", po::bool_switch(), "Give extended privileges to this container")
      ("device", po::value<std::vector<std::string>>()->composing(), "Add a host device to the container")
      ("device-cgroup-rule", po::value<std::vector<std::string>>()->composing(), "Add a rule to the cgroup allowed devices list")
      ("security-opt", po::value<std::vector<std::string>>()->composing(), "Security Options")
      ("userns", po::value<std::string>(), "User namespace to use: host, or remap[:USER] (a range of /etc/subuid)")
      ("network", po::value<std::string>(), "Connect a container to a network: none (the default), host, container:NAME")
      ("net", po::value<std::string>(), "Connect a container to a network (the same as --network)")
      ("upto", po::value<std::string>(), "Run the pipeline only up to MODULE: chroot, namespaces, cgroups");
  return o;
}

// Docker's wording for a flag whose value does not parse.
template <typename Parse>
auto flag_value(const Parsed& p, const char* key, const char* shown, Parse parse)
    -> decltype(parse(std::string())) {
  const auto& text = p.options[key].as<std::string>();
  try {
    return parse(text);
  } catch (const core::Error& e) {
    throw core::Error("invalid argument \"" + text + "\" for \"" + shown + "\" flag: " + e.what());
  }
}

cgroups::Limits limits_from(const Parsed& p) {
  cgroups::Limits l;
  if (p.options.count("memory")) {
    l.memory_bytes = flag_value(p, "memory", "-m, --memory", parse_size);
    // Below this, the container cannot even start its first process.
    if (l.memory_bytes > 0 && l.memory_bytes < 6 * 1024 * 1024)
      throw core::Error("Minimum memory limit allowed is 6MB");
  }
  if (p.options.count("cpus")) {
    l.nano_cpus = flag_value(p, "cpus", "--cpus", parse_cpus);
    long host = static_cast<long>(std::thread::hardware_concurrency());
    // 0 means "no limit", as for --memory; otherwise Docker's range.
    if (l.nano_cpus != 0 && (l.nano_cpus < 10'000'000 || l.nano_cpus > host * 1'000'000'000L))
      throw core::Error("range of CPUs is from 0.01 to " + std::to_string(host) +
                        ".00, as there are only " + std::to_string(host) + " CPUs available");
  }
  if (p.options.count("pids-limit"))
    l.pids_limit = flag_value(p, "pids-limit", "--pids-limit", parse_pids_limit);
  return l;
}

std::vector<std::string> env_from(const Parsed& p) {
  std::vector<std::string> env;
  if (p.options.count("env-file"))
    for (const auto& file : p.options["env-file"].as<std::vector<std::string>>()) {
      auto content = core::fs::read_file_if_exists(file);
      if (!content) throw core::Error("open " + file + ": no such file or directory");
      for (auto& kv : parse_env_file(*content, host_env)) env.push_back(kv);
    }
  if (p.options.count("env"))
    for (const auto& e : p.options["env"].as<std::vector<std::string>>())
      if (auto kv = parse_env_arg(e, host_env)) env.push_back(*kv);
  return env;
}

std::string option_or(const Parsed& p, const char* key, const std::string& fallback) {
  return p.options.count(key) ? p.options[key].as<std::string>() : fallback;
}

// Docker's rule: --entrypoint replaces the image's entrypoint and, unless a
// command is given too, its Cmd; a command given replaces only Cmd.
void resolve_command(engine::ContainerConfig& c, const Parsed& p,
                     const images::RuntimeConfig& image) {
  std::vector<std::string> command(p.positional.begin() + 1, p.positional.end());
  c.entrypoint = image.entrypoint;
  c.cmd = command.empty() ? image.cmd : command;
  if (p.options.count("entrypoint")) {
    auto e = p.options["entrypoint"].as<std::string>();
    c.entrypoint = e.empty() ? std::vector<std::string>{} : std::vector<std::string>{e};
    if (command.empty()) c.cmd.clear();
  }
  c.spec.process.argv = c.entrypoint;
  c.spec.process.argv.insert(c.spec.process.argv.end(), c.cmd.begin(), c.cmd.end());
  if (c.spec.process.argv.empty()) throw core::Error("No command specified");
}

// -v, --mount, --tmpfs, --volumes-from, --read-only (lesson 06): checked
// here, made only by create_with_volumes.
void mounts_for(const engine::Store& store, const Parsed& p, launch::ContainerSpec& s) {
  auto list = [&](const char* key) {
    return p.options.count(key) ? p.options[key].as<std::vector<std::string>>() : std::vector<std::string>{};
  };
  s.mounts = parse_run_mounts(store, {list("volume"), list("mount"), list("tmpfs"), list("volumes-from")});
  s.read_only_root = p.options["read-only"].as<bool>();
  if (s.upto < launch::Upto::namespaces && (!s.mounts.empty() || s.read_only_root))
    throw core::Error("--upto " + launch::upto_name(s.upto) +
                      " has no mount namespace: volumes, --tmpfs and --read-only need one");
}

std::vector<std::string> list_option(const Parsed& p, const char* key) {
  return p.options.count(key) ? p.options[key].as<std::vector<std::string>>() : std::vector<std::string>{};
}

// --cap-add, --cap-drop, --privileged, --security-opt (lesson 11): Docker's
// rules, applied in security::resolve_capabilities and apply_security_opt.
security::Policy policy_from(const Parsed& p) {
  security::Policy policy;
  policy.privileged = p.options["privileged"].as<bool>();
  auto normalized = [&](const char* key, const char* field) {
    std::vector<std::string> out;
    for (const auto& name : list_option(p, key)) try {
        out.push_back(security::normalize_capability(name));
      } catch (const core::Error& e) {
        throw core::Error(std::string("invalid ") + field + ": " + e.what());
      }
    return out;
  };
  policy.cap_add = normalized("cap-add", "CapAdd");
  policy.cap_drop = normalized("cap-drop", "CapDrop");
  policy.capabilities = security::resolve_capabilities(policy.privileged, policy.cap_add, policy.cap_drop);
  if (p.options.count("userns"))
    policy.userns = security::parse_userns(p.options["userns"].as<std::string>(), [](const std::string& path) {
      return core::fs::read_file_if_exists(path).value_or("");
    });
  if (policy.privileged && policy.userns.remapped())
    throw core::Error("privileged mode is incompatible with user namespaces. You must run the container "
                      "in the host namespace when running privileged mode");
  for (const auto& opt : list_option(p, "security-opt"))
    security::apply_security_opt(policy, opt, [](const std::string& path) {
      auto text = core::fs::read_file_if_exists(path);
      if (!text)
        throw core::Error("opening seccomp profile (" + path + ") failed: open " + path +
                          ": no such file or directory");
      return *text;
    });
  // Docker's rule: --privileged runs without a filter, unless one is asked for.
  if (policy.privileged && policy.seccomp.empty()) policy.seccomp = "unconfined";
  return policy;
}

// --device HOST[:CONTAINER][:PERMISSIONS], as Docker reads it: the node is
// made in the container and its rule added to the device policy.
void add_device(launch::ContainerSpec& s, const std::string& spec) {
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    auto colon = spec.find(':', at);
    parts.push_back(spec.substr(at, colon - at));
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  std::string host = parts[0], inside = host, perms = "rwm";
  if (parts.size() == 2) (parts[1].starts_with("/") ? inside : perms) = parts[1];
  if (parts.size() == 3) inside = parts[1], perms = parts[2];
  bool perms_ok = !perms.empty() && perms.find_first_not_of("rwm") == std::string::npos;
  if (parts.size() > 3 || host.empty() || !inside.starts_with("/") || !perms_ok)
    throw core::Error("invalid argument \"" + spec + "\" for \"--device\" flag: bad format");
  struct stat st {};
  if (::stat(host.c_str(), &st) < 0)
    throw core::Error("error gathering device information while adding custom device \"" + host +
                      "\": " + std::strerror(errno));
  if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
    throw core::Error("error gathering device information while adding custom device \"" + host +
                      "\": not a device node");
  char type = S_ISBLK(st.st_mode) ? 'b' : 'c';
  s.devices.push_back({inside, type, major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777,
                       st.st_uid, st.st_gid, host, perms});
  s.limits.devices.push_back({type, static_cast<int>(major(st.st_rdev)), static_cast<int>(minor(st.st_rdev)), perms, true});
}

void devices_from(const Parsed& p, launch::ContainerSpec& s) {
  for (const auto& d : list_option(p, "device")) add_device(s, d);
  for (const auto& r : list_option(p, "device-cgroup-rule")) s.limits.devices.push_back(cgroups::parse_device_rule(r));
  s.limits.all_devices = s.security.privileged;  // every device, as Docker gives
}

// --network (or --net): the mode, with container:NAME resolved to an id.
// Docker's conflicts: a joined stack comes with its own name.
network::Mode network_from(const engine::Store& store, const Parsed& p) {
  if (p.options.count("network") && p.options.count("net"))
    throw core::Error("conflicting options: --network and --net (they are one option)");
  auto text = option_or(p, "network", option_or(p, "net", "none"));
  auto mode = network::parse_mode(text);
  if (mode.kind == network::Kind::container) {
    if (p.options.count("hostname")) throw core::Error("conflicting options: hostname and the network mode");
    auto id = store.resolve(mode.container);
    if (!id) throw core::Error("No such container: " + mode.container);
    mode.container = *id;
  }
  return mode;
}

// The hostname a container gets without --hostname: its short id; the
// host's name with --network host; the other container's with container:.
std::string default_hostname(const engine::Store& store, const network::Mode& net, const std::string& id) {
  if (net.kind == network::Kind::host) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) == 0 && name[0]) return name;
  }
  if (net.kind == network::Kind::container) return store.load_config(net.container).spec.hostname;
  return id.substr(0, 12);
}

engine::ContainerConfig make_config(const engine::Store& store, const Parsed& p,
                                    const images::Image& image) {
  engine::ContainerConfig c;
  c.id = engine::Store::new_id();
  c.name = option_or(p, "name", "");
  if (!c.name.empty()) engine::validate_name(c.name);
  c.created = lifecycle::now_rfc3339();
  c.image = p.positional.front();
  c.image_id = image.id;
  c.env = merge_env(image.config.env, env_from(p));
  c.working_dir = option_or(p, "workdir", image.config.working_dir);
  if (!c.working_dir.empty() && c.working_dir[0] != '/')
    throw core::Error("the working directory '" + c.working_dir +
                      "' is invalid, it needs to be an absolute path");
  c.user = option_or(p, "user", image.config.user);
  c.auto_remove = p.options["rm"].as<bool>();
  resolve_command(c, p, image.config);

  auto& s = c.spec;
  s.id = c.id;
  s.network = network_from(store, p);
  s.hostname = option_or(p, "hostname", default_hostname(store, s.network, c.id));
  s.process.env = merge_env({"HOSTNAME=" + s.hostname}, c.env);  // -e HOSTNAME wins, as in Docker
  if (launch::env_value(s.process.env, "PATH").empty())
    s.process.env.insert(s.process.env.begin(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  s.process.cwd = c.working_dir.empty() ? "/" : c.working_dir;
  s.process.user = c.user;
  s.process.stdin_open = p.options["interactive"].as<bool>();
  s.process.tty = p.options["tty"].as<bool>();
  // Programs look at TERM to know what the terminal understands.
  if (s.process.tty && launch::env_value(s.process.env, "TERM").empty())
    s.process.env.push_back("TERM=xterm");
  s.limits = limits_from(p);
  s.layers = image.layers;
  s.dir = store.container_dir(c.id);
  if (p.options.count("upto")) s.upto = launch::parse_upto(p.options["upto"].as<std::string>());
  mounts_for(store, p, s);
  s.security = policy_from(p);
  if (s.security.userns.remapped() && s.upto < launch::Upto::namespaces)
    throw core::Error("--userns=remap needs the namespaces: not with --upto chroot");
  if (s.network.kind == network::Kind::bridge && s.upto < launch::Upto::namespaces)
    throw core::Error("--network bridge needs a network namespace: not with --upto " + launch::upto_name(s.upto));
  if (s.security.userns.remapped() && !network::own_namespace(s.network))
    throw core::Error("--userns=remap makes a network namespace of its own: not with --network " +
                      network::to_string(s.network));
  devices_from(p, s);
  return c;
}

// The container's own /etc/hostname and /etc/hosts (bound over the image's).
// With --network host the hosts file is a copy of the host's, with
// container:NAME of that container's: the names that go with the stack.
std::vector<std::pair<std::string, std::string>> identity_files(const engine::Store& store,
                                                                const engine::ContainerConfig& c) {
  std::string hosts =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "ff00::0\tip6-mcastprefix\n"
      "ff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  const auto& net = c.spec.network;
  if (net.kind == network::Kind::host)
    hosts = core::fs::read_file_if_exists("/etc/hosts").value_or(hosts);
  else if (net.kind == network::Kind::container)
    hosts = core::fs::read_file_if_exists(store.container_dir(net.container) / "hosts").value_or(hosts);
  return {{"hostname", c.spec.hostname + "\n"}, {"hosts", hosts}};
}

}  // namespace

int cmd_run(Context& ctx, const std::vector<std::string>& args) {
  auto p = parse("run", "[OPTIONS] IMAGE [COMMAND] [ARG...]", run_options(), args, true);
  if (p.positional.empty()) throw core::Error("\"skiff run\" requires at least 1 argument");
  // Before anything is made (without a stub, the command starts again):
  // --upto a module before 11-security execs from the host's file, as the
  // lesson shows.
  if (!p.options.count("upto") || launch::parse_upto(p.options["upto"].as<std::string>()) == launch::Upto::all)
    security::protect_host_binary();
  auto image = image_for_run(ctx, p.positional.front());
  auto config = make_config(ctx.store, p, image);
  auto detach_keys = p.options["detach-keys"].as<std::string>();
  lifecycle::parse_detach_keys(detach_keys);  // a bad one fails before anything is made
  create_with_volumes(ctx.store, config, identity_files(ctx.store, config));
  // --rm: once the record is gone, its anonymous volumes go too (Docker's rule).
  AnonymousVolumesOfRemoved anonymous_volumes(ctx.store, config);
  if (config.spec.process.tty && !p.options["detach"].as<bool>())
    return lifecycle::run_attached(ctx.store, config.id,
                                   {config.spec.process.stdin_open, detach_keys});
  if (!p.options["detach"].as<bool>()) return lifecycle::run_foreground(ctx.store, config.id);
  lifecycle::run_detached(ctx.store, config.id);
  std::cout << config.id << "\n";
  return 0;
}

}  // namespace skiff::cli
