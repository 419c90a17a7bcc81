#pragma once
// Resolves a configured secret reference: a file (trailing newline dropped), an environment
// variable, a systemd credential ($CREDENTIALS_DIRECTORY/NAME) or an inline value.

#include <string>

#include "crm/core/result.hpp"
#include "crm/settings/config.hpp"

namespace crm::runtime {

// Errors: "secret.missing" naming the file, variable or credential (never the value).
Result<std::string> resolve_secret(const settings::SecretRef& ref);

} // namespace crm::runtime
