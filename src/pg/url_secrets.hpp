#pragma once
// Private to the pg module: a connection string split into what may be shown and its secrets.

#include <string>
#include <string_view>
#include <vector>

namespace crm::pg {

struct UrlSecrets {
    std::string redacted;             // redact_url()'s answer
    std::vector<std::string> secrets; // the passwords found, as written and percent-decoded
};

UrlSecrets url_secrets(std::string_view url);

} // namespace crm::pg
