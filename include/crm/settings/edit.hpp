#pragma once
// Editing the config file as text, so that comments and layout survive: an [[accounts]] block is
// rendered from an AccountConfig, and replaced, appended or cut by its byte range (its header
// line, located by parse_config, up to the next table that is not one of its [accounts.*]
// subtables). Every result is validated with parse_config before it is returned. Pure.

#include <cstddef>
#include <string>
#include <string_view>

#include "crm/core/result.hpp"
#include "crm/settings/config.hpp"

namespace crm::settings {

// A TOML basic string, quoted and escaped.
std::string toml_string(std::string_view s);
using crm::tls_name; // implicit | starttls | none

// The whole [[accounts]] block; keys at their defaults are left out.
std::string account_block(const AccountConfig& a);

struct TextSpan {
    std::size_t begin = 0, end = 0;
};
// The byte range of the account block whose [[accounts]] header is on `header_line` (1-based),
// without the comments and blank lines just before the next foreign header.
TextSpan account_span(const std::string& text, int header_line);

// `text` with account `a` added (appended) or replaced (same name), validated. Errors:
// "config.invalid" with the problems (file:line: ...) joined by newlines.
Result<std::string> with_account(const std::string& text, const std::string& path,
                                 const AccountConfig& a);
// `text` without the account named `name`. Errors: "config.no_account", "config.invalid".
Result<std::string> without_account(const std::string& text, const std::string& path,
                                    const std::string& name);

} // namespace crm::settings
