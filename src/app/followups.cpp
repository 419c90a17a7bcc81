#include "crm/app/followups.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "crm/app/reply.hpp"

namespace crm::app {

Result<FollowupList> list_followups(Followups& store, UserId user, const FollowupPolicy& policy,
                                    std::int64_t now) {
    // The pre-selection's cutoffs: the shortest period any of the user's deals sets, in calendar
    // time (N business days are at least N calendar days).
    auto shortest = store.shortest_settings(user);
    if (!shortest)
        return std::unexpected(shortest.error());
    const int days =
        std::min(policy.awaiting_days, shortest->awaiting_days.value_or(kMaxAwaitingDays));
    const int hours =
        std::min(policy.answer_hours, shortest->answer_hours.value_or(kMaxAnswerHours));
    auto candidates =
        store.candidates(user, now, now - static_cast<std::int64_t>(days) * 86400,
                         now - static_cast<std::int64_t>(hours) * 3600, kFollowupLimit + 1);
    if (!candidates)
        return std::unexpected(candidates.error());
    FollowupList out;
    if (candidates->size() > kFollowupLimit) {
        candidates->resize(kFollowupLimit);
        out.truncated = true;
    }
    out.items = due_followups(*candidates, policy, now);
    return out;
}

namespace {

std::string waited(std::int64_t seconds) {
    if (seconds < 2 * 3600)
        return fmt::format("{} min", std::max<std::int64_t>(1, seconds / 60));
    if (seconds < 2 * 86400)
        return fmt::format("{} hours", seconds / 3600);
    return fmt::format("{} days", seconds / 86400);
}

} // namespace

bool reminder_due(std::int64_t now, int hour, const std::vector<std::string>& days) {
    static constexpr std::array<std::string_view, 7> kNames{"mon", "tue", "wed", "thu",
                                                            "fri", "sat", "sun"};
    const auto name = kNames[static_cast<std::size_t>(utc_weekday(now))];
    const std::int64_t hour_now = ((now % 86400) + 86400) % 86400 / 3600;
    return hour_now >= hour && std::find(days.begin(), days.end(), name) != days.end();
}

ReminderText reminder_text(const FollowupList& list, std::int64_t now,
                           const std::string& page_url) {
    ReminderText out;
    std::size_t awaiting = 0, answer = 0;
    for (const auto& f : list.items)
        (f.kind == FollowupKind::AwaitingReply ? awaiting : answer) += 1;
    const auto n = list.items.size();
    out.subject = fmt::format("Follow up today: {} conversation{}", n, n == 1 ? "" : "s");
    std::string& b = out.body;
    b = fmt::format("{} conversation{} on your open deals wait{} for someone today: {} for our "
                    "answer, {} for the customer's.\n",
                    n, n == 1 ? "" : "s", n == 1 ? "s" : "", answer, awaiting);
    auto section = [&](FollowupKind kind, std::string_view title) {
        bool first = true;
        for (const auto& f : list.items) {
            if (f.kind != kind)
                continue;
            if (first)
                b += fmt::format("\n{}\n", title);
            first = false;
            // Subjects and deal names are the customers' and the CRM's text: one line each.
            std::string subject = f.subject.empty() ? "(no subject)" : f.subject;
            std::string deal = f.deal_name;
            for (auto* s : {&subject, &deal})
                for (auto& c : *s)
                    if (c == '\r' || c == '\n' || c == '\t')
                        c = ' ';
            b += fmt::format("- {} (deal: {}), waiting {}\n", subject, deal, waited(now - f.since));
            if (!page_url.empty())
                b += fmt::format("  {}/#/threads/{}\n", page_url, f.thread);
        }
    };
    section(FollowupKind::NeedsAnswer, "Needs our answer:");
    section(FollowupKind::AwaitingReply, "Awaiting their reply:");
    if (list.truncated)
        b += "\nThe list shows the first 500; the page's Follow up view has them all.\n";
    b += "\nSnooze a conversation on the Follow up page to leave it out until then.\n"
         "-- \ncrm-mail: the daily follow-up reminder ([followups] daily_reminder_hour)\n";
    return out;
}

Result<int> queue_followup_reminders(Backend& b, const std::map<UserId, std::string>& accounts,
                                     const FollowupPolicy& policy, const std::string& page_url,
                                     std::int64_t now,
                                     const std::function<std::string()>& random_hex) {
    auto owners = b.followups().deal_owners();
    if (!owners)
        return std::unexpected(owners.error());
    const std::string day = utc_day(now);
    int queued = 0;
    std::optional<Error> failed; // the first user's failure; the others still get theirs
    for (UserId user : *owners) {
        auto name = accounts.find(user);
        if (name == accounts.end())
            continue;
        auto list = list_followups(b.followups(), user, policy, now);
        if (!list) {
            failed = failed.value_or(list.error());
            continue;
        }
        if (list->items.empty())
            continue;
        auto account = b.outbox().account_by_name(name->second);
        if (!account) {
            failed = failed.value_or(account.error());
            continue;
        }
        if (!*account || (*account)->owner != std::optional<UserId>(user))
            continue; // renamed or given to someone else since the config was read
        const auto text = reminder_text(*list, now, page_url);
        OutboxRow row;
        row.account = (*account)->id;
        row.user = user;
        row.message_id = fmt::format("crm-reminder.{}.{}@{}", day, random_hex(),
                                     message_id_domain((*account)->address));
        row.mode = "custom";
        row.to = {Address{"", (*account)->address}};
        row.subject = text.subject;
        row.text_body = text.body;
        row.state = "queued";
        row.created_at = row.updated_at = now;
        bool claimed = false;
        auto done = b.work().transaction([&]() -> Result<void> {
            auto c = b.followups().claim_reminder(
                user, day, row.message_id, static_cast<std::int64_t>(list->items.size()), now);
            if (!c)
                return std::unexpected(c.error());
            claimed = *c;
            if (!claimed)
                return {};
            auto id = b.outbox().queue(row, {}, now);
            if (!id)
                return std::unexpected(id.error());
            return b.followups().record_reminder_outbox(user, day, *id);
        });
        if (!done) {
            failed = failed.value_or(done.error());
            continue;
        }
        queued += claimed ? 1 : 0;
    }
    if (failed) // asked again later: the claims keep those queued now from going twice
        return std::unexpected(*failed);
    return queued;
}

} // namespace crm::app
