#pragma once
// Writing the config file and the secret files next to it: shared by crm-mailctl (accounts
// add/edit/remove) and crm-maild (the admin API). Files are replaced atomically (temp file in
// the same directory, fsync, rename); secrets are always mode 0600 in <config dir>/secrets/.

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>

#include "crm/core/result.hpp"

namespace crm::runtime {

// The crm-mail system user, when running as root and the package created it.
std::optional<std::pair<uid_t, gid_t>> service_owner();

// Errors: "config.write" naming the file and the system error.
// With `inherit`, mode and owner come from the file being replaced (else `mode` and `owner`).
Result<void> write_atomic(const std::string& path, const std::string& content, mode_t mode,
                          std::optional<std::pair<uid_t, gid_t>> owner, bool inherit = true);

std::string absolute_path(const std::string& p);
std::string secrets_dir(const std::string& config_path);
std::string secret_path(const std::string& config_path, const std::string& account_name);
// The secret file name of an account's SMTP password: "<name>+smtp". Account names cannot hold
// a '+', so no account's IMAP secret ("<name>") can ever be another account's SMTP secret (an
// account named "x.smtp" once overwrote account x's).
std::string smtp_secret_name(const std::string& account_name);
// Writes <config dir>/secrets/<name> (0600, owned by the service user when root).
Result<void> store_secret(const std::string& config_path, const std::string& name,
                          const std::string& secret);
std::optional<std::string> read_text_file(const std::string& path);

} // namespace crm::runtime
