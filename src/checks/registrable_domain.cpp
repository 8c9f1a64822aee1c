#include "checks/registrable_domain.hpp"

#include <libpsl.h>

namespace safetynet::checks {

std::string registrableDomain(const std::string& ascii_domain) {
  const char* r = psl_registrable_domain(psl_builtin(), ascii_domain.c_str());
  return r ? std::string(r) : ascii_domain;
}

}  // namespace safetynet::checks
