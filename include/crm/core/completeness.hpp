#pragma once
// Completeness of an account's mail (issue 19): per synced folder, what the server holds against
// what is stored here, from a real comparison (runtime::check_completeness).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace crm {

struct FolderCompleteness {
    std::string folder;
    std::optional<std::uint32_t> server_uid_validity, stored_uid_validity;
    std::uint64_t server = 0;      // messages (UIDs) in the folder on the server
    std::uint64_t stored = 0;      // of those, stored here
    std::uint64_t quarantined = 0; // of those, quarantined (retried, given up or dropped)
    // On the server, neither stored nor quarantined: the first kMissingShown, and how many.
    std::vector<std::uint32_t> missing;
    std::uint64_t missing_count = 0;
    // Stored here under the folder's current UIDVALIDITY but no longer on the server (expunged
    // there; the next reconcile removes them).
    std::uint64_t gone = 0;
    std::string error; // the folder could not be compared ("" when it was)
    static constexpr std::size_t kMissingShown = 100;
    [[nodiscard]] bool complete() const { return error.empty() && missing_count == 0; }
};

struct CompletenessReport {
    std::string account;
    std::vector<FolderCompleteness> folders;
    [[nodiscard]] bool complete() const {
        for (const auto& f : folders)
            if (!f.complete())
                return false;
        return true;
    }
};

} // namespace crm
