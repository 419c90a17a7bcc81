#include "crm/pg/lease_fence.hpp"

#include <fmt/format.h>

#include "crm/pg/connection.hpp"

namespace crm::pg {

void LeaseFence::set_worker(std::optional<std::int64_t> worker) {
    std::lock_guard lock(mu_);
    worker_ = worker;
    epochs_.clear();
}

std::optional<std::int64_t> LeaseFence::worker() const {
    std::lock_guard lock(mu_);
    return worker_;
}

void LeaseFence::hold(AccountId account, std::int64_t epoch) {
    std::lock_guard lock(mu_);
    epochs_[account] = epoch;
}

void LeaseFence::drop(AccountId account) {
    std::lock_guard lock(mu_);
    epochs_.erase(account);
}

void LeaseFence::drop_all() {
    std::lock_guard lock(mu_);
    epochs_.clear();
}

std::optional<std::int64_t> LeaseFence::epoch(AccountId account) const {
    std::lock_guard lock(mu_);
    auto it = epochs_.find(account);
    if (it == epochs_.end())
        return std::nullopt;
    return it->second;
}

std::vector<std::pair<AccountId, std::int64_t>> LeaseFence::held() const {
    std::lock_guard lock(mu_);
    return {epochs_.begin(), epochs_.end()};
}

Result<std::optional<LeaseFence::Proof>> LeaseFence::proof(AccountId account) const {
    std::optional<std::int64_t> worker, epoch;
    {
        std::lock_guard lock(mu_);
        worker = worker_;
        if (auto it = epochs_.find(account); it != epochs_.end())
            epoch = it->second;
    }
    if (!worker)
        return std::nullopt;
    if (!epoch)
        return fail("lease.lost",
                    fmt::format("worker {} no longer holds the lease of account {}: the write "
                                "for it was not applied",
                                *worker, account),
                    ErrorScope::Account, Retry::Never);
    return Proof{account, *worker, *epoch};
}

Result<void> LeaseFence::check(Connection& c, AccountId account) const {
    auto p = proof(account);
    if (!p)
        return std::unexpected(p.error());
    if (!*p)
        return {};
    auto r = c.exec(kCheckSql, (*p)->account, (*p)->worker, (*p)->epoch);
    if (!r)
        return std::unexpected(r.error());
    return {};
}

} // namespace crm::pg
