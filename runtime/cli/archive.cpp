// cli/archive.cpp — scaffolding: each command here is being written (this file is replaced).
#include "cli/command.hpp"
#include "core/error.hpp"
namespace skiff::cli {
int cmd_save(Context&, const std::vector<std::string>&) { throw core::Error("save: not implemented yet"); }
int cmd_load(Context&, const std::vector<std::string>&) { throw core::Error("load: not implemented yet"); }
int cmd_export(Context&, const std::vector<std::string>&) { throw core::Error("export: not implemented yet"); }
}  // namespace skiff::cli
