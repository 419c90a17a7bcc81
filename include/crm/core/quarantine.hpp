#pragma once
// Messages the sync could not store (issue 19): what an admin sees of the quarantine and does
// about it. A message that fails is retried; after kQuarantineAttempts failures it is given up
// on and no longer fetched (the counts still include it, so a folder stays complete). An admin
// retries it (the record goes and the next pass fetches it again, say after an upgrade of the
// parser) or drops it (it is never fetched again and leaves the list and the metrics).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

namespace crm {

// Failures after which a message is given up on (the sync stops fetching it).
inline constexpr std::int64_t kQuarantineAttempts = 3;

// A quarantined message: its mailbox row, UIDVALIDITY and UID. As text "M:V:U" (quarantine_id).
struct QuarantineKey {
    std::int64_t mailbox = 0;
    std::uint32_t uid_validity = 0, uid = 0;
    friend bool operator==(const QuarantineKey&, const QuarantineKey&) = default;
};
[[nodiscard]] std::string quarantine_id(const QuarantineKey& k);
// nullopt when `text` is not "M:V:U" with numbers in range.
[[nodiscard]] std::optional<QuarantineKey> parse_quarantine_id(std::string_view text);

struct QuarantineEntry {
    QuarantineKey key;
    std::string account, mailbox; // names
    std::int64_t attempts = 0;
    std::string reason; // the last failure's
    std::int64_t first_failed_at = 0, last_failed_at = 0;
    [[nodiscard]] bool given_up() const { return attempts >= kQuarantineAttempts; }
};

class QuarantineAdmin {
  public:
    virtual ~QuarantineAdmin() = default;
    // What is quarantined and not dropped, by account, mailbox and UID; `account` narrows it.
    virtual Result<std::vector<QuarantineEntry>>
    quarantine_list(const std::optional<std::string>& account) = 0;
    // nullopt: no such entry (or it was dropped).
    virtual Result<std::optional<QuarantineEntry>> quarantine_entry(const QuarantineKey& key) = 0;
    // The record goes: the next pass fetches the message again. False: no such entry.
    virtual Result<bool> quarantine_retry(const QuarantineKey& key) = 0;
    // Never fetched again; leaves the list. False: no such entry (or dropped already).
    virtual Result<bool> quarantine_drop(const QuarantineKey& key, std::int64_t now) = 0;
};

} // namespace crm
