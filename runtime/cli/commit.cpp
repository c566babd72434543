// cli/commit.cpp — scaffolding: each command here is being written (this file is replaced).
#include "cli/command.hpp"
#include "core/error.hpp"
namespace skiff::cli {
int cmd_commit(Context&, const std::vector<std::string>&) { throw core::Error("commit: not implemented yet"); }
}  // namespace skiff::cli
