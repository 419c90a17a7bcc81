#pragma once
// A Control that records what the API asked of the daemon (tests of the http module).

#include <string>
#include <utility>
#include <vector>

#include "crm/http/api.hpp"

namespace crm::http {

class FakeControl final : public Control {
  public:
    std::vector<AccountConfig> configured;
    std::vector<std::pair<AccountConfig, AccountSecrets>> saved;
    std::vector<std::string> resynced;
    int outbox_kicks = 0;
    Health health_report;

    Health health() override { return health_report; }
    std::vector<AccountConfig> accounts() override { return configured; }
    Result<void> save_account(const AccountConfig& a, const AccountSecrets& s) override {
        saved.emplace_back(a, s);
        bool replaced = false;
        for (auto& c : configured)
            if (c.name == a.name) {
                c = a;
                replaced = true;
            }
        if (!replaced)
            configured.push_back(a);
        return {};
    }
    std::vector<ServerTest> test_account(const AccountConfig& a) override {
        return {{false, "tls", "imap " + a.imap.host + ":993: certificate has expired"}};
    }
    // Account "alice-mail" is compared with one folder missing UID 7; any other is not synced.
    Result<CompletenessReport> completeness(const AccountConfig& a) override {
        if (a.name != "alice-mail")
            return fail("account.not_synced", "account " + a.name + " has no folder synced yet");
        FolderCompleteness f;
        f.folder = "INBOX";
        f.server_uid_validity = f.stored_uid_validity = 9;
        f.server = 3;
        f.stored = 2;
        f.missing = {7};
        f.missing_count = 1;
        return CompletenessReport{a.name, {f}};
    }
    Result<void> resync(const std::string& name) override {
        resynced.push_back(name);
        return {};
    }
    void outbox_changed() override { ++outbox_kicks; }
    std::string metrics() override { return "crm_up 1\n"; }
};

} // namespace crm::http
