#pragma once
// What an account's folders hold on the server, for the completeness check (crm-mailctl accounts
// check, the admin API): each folder's UIDVALIDITY and every UID in it. Blocking: one session,
// EXAMINE (read-only: nothing changes on the server) and UID SEARCH over slices of 10,000
// message sequence numbers, so no response line grows with the folder.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/net/transport.hpp"

namespace crm::imap {

struct FolderCensus {
    std::string folder; // UTF-8
    std::optional<std::uint32_t> uid_validity;
    std::uint32_t exists = 0;        // EXAMINE's EXISTS
    std::vector<std::uint32_t> uids; // ascending
    std::string error; // the folder could not be examined or searched ("" when it could)
};

// `folders`: UTF-8 names. A folder that fails is reported with its error; the session failing
// (connect, TLS, login) fails the whole call.
[[nodiscard]] Result<std::vector<FolderCensus>> census(const net::Endpoint& ep,
                                                       const std::vector<std::string>& folders);

} // namespace crm::imap
