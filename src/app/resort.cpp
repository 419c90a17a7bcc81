// Re-sorting stored threads after CRM changes (see resort.hpp).
#include "crm/app/resort.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "unique.hpp"

namespace crm::app {

namespace {

bool contains(const std::vector<DealId>& v, DealId id) {
    return std::find(v.begin(), v.end(), id) != v.end();
}

struct Resorter {
    Backend& b;
    const ResortOptions& opt;
    std::vector<std::string> team_domains;

    [[nodiscard]] bool on_team_domain(std::string_view canonical) const {
        const auto dom = match::domain_of(canonical);
        return std::find(team_domains.begin(), team_domains.end(), dom) != team_domains.end();
    }

    // The thread as the sorter sees a new message of it: the newest (incoming) message's
    // participants, the thread's earlier ones, with what the CRM knows of each now.
    Result<match::SortInput> input_of(ThreadId thread, const ThreadTail& tail,
                                      std::vector<ThreadParticipant>& stored) {
        auto& mail = b.mail();
        match::SortInput in;
        std::vector<ContactId> contacts;
        std::vector<CompanyId> companies;
        auto participant =
            [&](std::string role,
                const std::string& address) -> Result<std::optional<match::Participant>> {
            auto facts = mail.lookup_address(address);
            if (!facts)
                return std::unexpected(facts.error());
            if (!facts->user && on_team_domain(address))
                return std::nullopt;
            match::Participant p;
            p.role = std::move(role);
            p.address = address;
            p.contact = facts->contact;
            p.company = facts->company;
            p.user = facts->user;
            if (!p.user) {
                if (p.contact)
                    push_unique(contacts, *p.contact);
                if (p.company)
                    push_unique(companies, *p.company);
            }
            return p;
        };
        for (const auto& [role, address] : tail.participants) {
            auto p = participant(role, address);
            if (!p)
                return std::unexpected(p.error());
            if (*p)
                in.participants.push_back(std::move(**p));
        }
        auto earlier = mail.thread_participants(thread);
        if (!earlier)
            return std::unexpected(earlier.error());
        stored = *earlier;
        for (const auto& t : *earlier) {
            const bool known =
                std::any_of(in.participants.begin(), in.participants.end(),
                            [&](const match::Participant& p) { return p.address == t.address; });
            if (known)
                continue;
            auto p = participant("thread", t.address);
            if (!p)
                return std::unexpected(p.error());
            if (*p && !(*p)->user)
                in.thread_participants.push_back(std::move(**p));
        }
        auto tokens = mail.deals_of_our_message_ids(tail.ids);
        if (!tokens)
            return std::unexpected(tokens.error());
        in.token_deals = std::move(*tokens);
        auto deals = mail.open_deals(contacts, companies);
        if (!deals)
            return std::unexpected(deals.error());
        for (const auto& d : *deals)
            in.open_deals.push_back({d.id, d.name, d.company, d.contacts, d.owner, d.updated_at});
        in.subject = tail.subject;
        in.mailbox_owner = tail.owner;
        in.is_bulk = tail.all_bulk;
        in.suspicious_sender = tail.suspicious;
        in.now = tail.date;
        return in;
    }

    // A participant whose CRM facts changed since their mail was stored (`stored`: the facts
    // then), who now belongs to an open deal other than `linked` and not to `linked`: their
    // address and that deal. nullopt: none.
    static std::optional<std::pair<std::string, DealId>>
    newly_contrary(const match::SortInput& in, const std::vector<ThreadParticipant>& stored,
                   DealId linked) {
        using match::belongs;
        const match::DealFacts* mine = nullptr;
        for (const auto& d : in.open_deals)
            if (d.id == linked)
                mine = &d;
        auto check =
            [&](const match::Participant& p) -> std::optional<std::pair<std::string, DealId>> {
            if (p.user || (!p.contact && !p.company) || (mine && belongs(p, *mine)))
                return std::nullopt;
            // Changed: stored with other facts, and never with these (an address not stored,
            // say of bulk mail, tells nothing).
            bool seen = false, same = false;
            for (const auto& t : stored)
                if (t.address == p.address) {
                    seen = true;
                    same = same || (t.contact == p.contact && t.company == p.company);
                }
            if (!seen || same)
                return std::nullopt;
            for (const auto& d : in.open_deals)
                if (d.id != linked && belongs(p, d))
                    return std::pair{p.address, d.id};
            return std::nullopt;
        };
        for (const auto& p : in.participants)
            if (auto r = check(p))
                return r;
        for (const auto& p : in.thread_participants)
            if (auto r = check(p))
                return r;
        return std::nullopt;
    }

    // Decides one thread again, in its own transaction; the change, if its filing changed.
    Result<std::optional<ResortChange>> one(const ResortTarget& target, std::int64_t now) {
        std::optional<ResortChange> change;
        auto done = b.work().transaction([&]() -> Result<void> {
            auto tail = b.resort().thread_tail(target.thread);
            if (!tail)
                return std::unexpected(tail.error());
            if (!*tail)
                return {};
            const ThreadTail& t = **tail;
            // Filed otherwise since it was listed (a person linked or held it): not ours.
            if (t.manual || t.held || t.linked != target.linked)
                return {};
            std::vector<ThreadParticipant> stored;
            auto in = input_of(target.thread, t, stored);
            if (!in)
                return std::unexpected(in.error());
            const match::SortDecision d = match::decide(*in, opt.sorting);
            Placement pl;
            if (!target.linked) {
                if (d.deal) {
                    pl = Placement{d.deal, "re-sorted: " + d.reason, d.score, {}, false, false};
                    change = ResortChange{target.thread, std::nullopt, d.deal, false, pl.reason};
                } else {
                    pl = Placement{std::nullopt, d.reason, 0, d.suggestions, false, false};
                    if (pl.reason == t.reason && pl.suggestions == t.suggestions)
                        return {}; // nothing new to say
                }
            } else {
                const DealId linked = *target.linked;
                const bool tied =
                    contains(in->token_deals, linked) ||
                    std::any_of(in->open_deals.begin(), in->open_deals.end(),
                                [&](const match::DealFacts& f) { return f.id == linked; });
                // Still tied to it, and no participant the CRM now places differently from when
                // their mail was stored belongs to another open deal (and not to this one): the
                // link stays. Evidence the CRM already had when the link was made does not count
                // again: the sorter weighed it then, as it does for a new message.
                const auto rival = newly_contrary(*in, stored, linked);
                if (tied && !rival)
                    return {};
                auto open = b.resort().deal_open(linked);
                if (!open)
                    return std::unexpected(open.error());
                if (!*open)
                    return {}; // a won or lost deal keeps its mail
                std::vector<DealId> suggest;
                if (rival)
                    suggest.push_back(rival->second);
                if (d.deal)
                    push_unique(suggest, *d.deal);
                for (DealId s : d.suggestions)
                    push_unique(suggest, s);
                push_unique(suggest, linked);
                pl = Placement{std::nullopt,
                               tied ? fmt::format("re-sorted: the CRM now ties {} to deal {} as "
                                                  "well as to deal {} ({})",
                                                  rival->first, rival->second, linked, d.reason)
                                    : fmt::format("re-sorted: the CRM no longer ties it to deal "
                                                  "{} ({})",
                                                  linked, d.reason),
                               0,
                               std::move(suggest),
                               false,
                               true};
                change = ResortChange{target.thread, linked, std::nullopt, true, pl.reason};
            }
            return b.mail().place(target.thread, t.message, pl, now);
        });
        if (!done)
            return std::unexpected(done.error());
        return change;
    }
};

} // namespace

Result<ResortReport> resort(Backend& b, const ResortScope& scope, std::int64_t now,
                            const ResortOptions& options) {
    Resorter r{b, options, {}};
    auto doms = b.mail().team_domains();
    if (!doms)
        return std::unexpected(doms.error());
    // A salesperson on free mail does not make everyone there a colleague (as in ingest).
    for (auto& d : *doms)
        if (!match::is_free_mail_domain(d, options.addresses))
            r.team_domains.push_back(std::move(d));
    auto targets = b.resort().resort_targets(scope);
    if (!targets)
        return std::unexpected(targets.error());
    ResortReport report;
    std::size_t failed_in_a_row = 0;
    for (const auto& t : *targets) {
        if (options.stop && options.stop->load()) {
            report.stopped = true;
            break;
        }
        auto c = r.one(t, now);
        ++report.examined;
        if (!c) {
            report.failed.emplace_back(t.thread, c.error());
            if (++failed_in_a_row >= 10)
                return std::unexpected(c.error());
            continue;
        }
        failed_in_a_row = 0;
        if (*c)
            report.changes.push_back(std::move(**c));
    }
    return report;
}

} // namespace crm::app
