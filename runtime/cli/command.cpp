// cli/command.cpp — see command.hpp.
#include "cli/command.hpp"

#include <cstdlib>
#include <iostream>

#include "core/error.hpp"

namespace skiff::cli {
namespace {

// Does OPTION (as typed: "-e", "--name", "-m") take a value?
bool takes_value(const po::options_description& options, const std::string& name) {
  const auto* d = options.find_nothrow(name, false, false, false);
  return d && d->semantic()->max_tokens() > 0;
}

// Where the options end: the index of the first positional argument.
size_t end_of_options(const po::options_description& options,
                      const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") return i;
    if (a.size() < 2 || a[0] != '-') return i;
    if (a[1] == '-') {
      if (a.find('=') == std::string::npos && takes_value(options, a.substr(2))) ++i;
      continue;
    }
    // A cluster of short flags ("-it"): a flag that takes a value ends it,
    // with its value the rest of the cluster or the next argument.
    for (size_t c = 1; c < a.size(); ++c)
      if (takes_value(options, std::string("-") + a[c])) {
        if (c + 1 == a.size()) ++i;
        break;
      }
  }
  return args.size();
}

}  // namespace

Parsed parse(const std::string& command, const std::string& usage,
             const po::options_description& options, const std::vector<std::string>& args,
             bool stop_at_positional) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << "Usage:  skiff " << command << " " << usage << "\n\n" << options;
      std::exit(0);
    }
    if (stop_at_positional && !a.empty() && a[0] != '-') break;
  }
  size_t end = stop_at_positional ? end_of_options(options, args) : args.size();
  std::vector<std::string> flags(args.begin(), args.begin() + static_cast<long>(end));
  Parsed parsed;
  po::positional_options_description rest;
  rest.add("__positional", -1);
  po::options_description all(options);
  all.add_options()("__positional", po::value<std::vector<std::string>>(), "");
  try {
    auto result = po::command_line_parser(flags).options(all).positional(rest)
                      .style(po::command_line_style::default_style |
                             po::command_line_style::allow_sticky)
                      .run();
    po::store(result, parsed.options);
    po::notify(parsed.options);
  } catch (const po::unknown_option& e) {
    throw core::Error("unknown flag: " + e.get_option_name() + " (see 'skiff " + command +
                      " --help')");
  } catch (const po::error& e) {
    throw core::Error(std::string(e.what()) + " (see 'skiff " + command + " --help')");
  }
  if (parsed.options.count("__positional"))
    parsed.positional = parsed.options["__positional"].as<std::vector<std::string>>();
  size_t from = end < args.size() && args[end] == "--" ? end + 1 : end;
  parsed.positional.insert(parsed.positional.end(), args.begin() + static_cast<long>(from),
                           args.end());
  return parsed;
}

int run_group(Context& ctx, const std::string& group, const std::string& summary,
              const std::vector<Subcommand>& subcommands, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help") {
    std::cout << "Usage:  skiff " << group << " COMMAND\n\n" << summary << "\n\nCommands:\n";
    for (const auto& s : subcommands) std::cout << "  " << s.name << "\n";
    return args.empty() ? kExitFailure : 0;
  }
  for (const auto& s : subcommands)
    if (args[0] == s.name) return s.run(ctx, std::vector<std::string>(args.begin() + 1, args.end()));
  throw core::Error("'" + group + " " + args[0] + "' is not a skiff command (see 'skiff " + group + " --help')",
                    kExitFailure);
}

}  // namespace skiff::cli
