// core/error.cpp — see error.hpp.
#include "core/error.hpp"

#include <exception>

namespace skiff::core {

void rethrow_with_context(const std::string& doing) {
  try {
    throw;
  } catch (const Error& e) {
    throw Error(doing + ": " + e.what(), e.exit_code());
  } catch (const std::exception& e) {
    throw Error(doing + ": " + e.what());
  }
}

}  // namespace skiff::core
