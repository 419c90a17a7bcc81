// The completeness check (see completeness.hpp).
#include "crm/runtime/completeness.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "crm/imap/census.hpp"
#include "crm/runtime/server_check.hpp"

namespace crm::runtime {

Result<CompletenessReport> check_completeness(const settings::AccountConfig& account, Backend& db,
                                              std::chrono::seconds timeout) {
    auto rows = db.sync().accounts();
    if (!rows)
        return std::unexpected(rows.error());
    auto row = std::find_if(rows->begin(), rows->end(),
                            [&](const AccountRow& r) { return r.name == account.name; });
    if (row == rows->end())
        return fail("account.not_found",
                    fmt::format("account {} is not registered by crm-maild yet", account.name));
    auto mailboxes = db.sync().account_mailboxes(row->id);
    if (!mailboxes)
        return std::unexpected(mailboxes.error());
    if (mailboxes->empty())
        return fail("account.not_synced",
                    fmt::format("account {} has no folder synced yet", account.name));
    auto quarantine = db.quarantine().quarantine_list(account.name);
    if (!quarantine)
        return std::unexpected(quarantine.error());

    auto ep = server_endpoint("imap", account.imap, timeout);
    if (!ep)
        return std::unexpected(ep.error());
    std::vector<std::string> names;
    for (const auto& m : *mailboxes)
        names.push_back(m.name);
    auto server = imap::census(*ep, names);
    if (!server)
        return std::unexpected(server.error());

    CompletenessReport report;
    report.account = account.name;
    for (std::size_t i = 0; i < mailboxes->size(); ++i) {
        const StoredMailbox& m = (*mailboxes)[i];
        const imap::FolderCensus& c = (*server)[i];
        FolderCompleteness f;
        f.folder = m.name;
        f.stored_uid_validity = m.uid_validity;
        f.server_uid_validity = c.uid_validity;
        f.error = c.error;
        if (f.error.empty() && m.uid_validity && c.uid_validity &&
            *m.uid_validity != *c.uid_validity)
            f.error = fmt::format("UIDVALIDITY changed on the server ({} here, {} there): the "
                                  "next pass fetches the folder again",
                                  *m.uid_validity, *c.uid_validity);
        if (f.error.empty() && c.uid_validity) {
            f.server = c.uids.size();
            const std::uint32_t uv = *c.uid_validity;
            auto stored = db.sync().stored_uids(m.id, uv);
            if (!stored)
                return std::unexpected(stored.error());
            auto skipped = db.sync().quarantined_uids(m.id, uv); // given up or dropped
            if (!skipped)
                return std::unexpected(skipped.error());
            std::set<std::uint32_t> held(skipped->begin(), skipped->end());
            for (const auto& q : *quarantine)
                if (q.key.mailbox == m.id && q.key.uid_validity == uv)
                    held.insert(q.key.uid);
            for (auto uid : c.uids) {
                if (std::binary_search(stored->begin(), stored->end(), uid)) {
                    ++f.stored;
                } else if (held.contains(uid)) {
                    ++f.quarantined;
                } else {
                    ++f.missing_count;
                    if (f.missing.size() < FolderCompleteness::kMissingShown)
                        f.missing.push_back(uid);
                }
            }
            for (auto uid : *stored)
                if (!std::binary_search(c.uids.begin(), c.uids.end(), uid))
                    ++f.gone;
        }
        report.folders.push_back(std::move(f));
    }
    return report;
}

} // namespace crm::runtime
