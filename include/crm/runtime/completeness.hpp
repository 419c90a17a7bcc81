#pragma once
// "Is all of this account's mail here?" (crm-mailctl accounts check, the admin API): connects to
// the account's IMAP server as the daemon does, lists every UID of each folder the sync recorded
// (read-only: EXAMINE, UID SEARCH) and compares them with the stored locations and the
// quarantine. Blocking. Errors: "account.not_found" (the sync never registered the account),
// "account.not_synced" (it recorded no folder yet), and the connection's ("net.*").

#include <chrono>

#include "crm/core/backend.hpp"
#include "crm/core/completeness.hpp"
#include "crm/core/result.hpp"
#include "crm/settings/config.hpp"

namespace crm::runtime {

[[nodiscard]] Result<CompletenessReport>
check_completeness(const settings::AccountConfig& account, Backend& db,
                   std::chrono::seconds timeout = std::chrono::seconds(30));

} // namespace crm::runtime
