#include "crm/match/sort.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "crm/core/utf8.hpp"

namespace crm::match {
namespace {

constexpr std::size_t kMaxSuggestions = 5;
constexpr double kSecondsPerDay = 86400.0;

// Words for the subject match: runs of ASCII letters/digits and non-ASCII bytes (so UTF-8
// words stay whole), ASCII-lower-cased. Punctuation and spaces separate words.
[[nodiscard]] std::vector<std::string> words(std::string_view s) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        const bool word = u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9');
        if (word) {
            cur.push_back(ascii_lower(c));
        } else if (!cur.empty()) {
            out.push_back(std::move(cur));
            cur.clear();
        }
    }
    if (!cur.empty())
        out.push_back(std::move(cur));
    return out;
}

[[nodiscard]] bool name_in_subject(const std::vector<std::string>& subject,
                                   std::string_view deal_name) {
    const auto name = words(deal_name);
    if (name.empty())
        return false;
    return std::search(subject.begin(), subject.end(), name.begin(), name.end()) !=
           subject.end();
}

struct Candidate {
    DealId id = 0;
    double score = 0;
};

[[nodiscard]] bool better(const Candidate& a, const Candidate& b) {
    if (a.score != b.score)
        return a.score > b.score;
    return a.id < b.id;
}

[[nodiscard]] std::string join_ids(std::vector<DealId> ids) {
    std::sort(ids.begin(), ids.end());
    return fmt::format("{}", fmt::join(ids, ", "));
}

[[nodiscard]] std::vector<Candidate> score_all(const SortInput& in,
                                               const std::vector<const DealFacts*>& deals,
                                               const std::vector<const Participant*>& external,
                                               const SortPolicy& p) {
    const auto subject = words(in.subject);
    std::set<ContactId> contacts;
    std::set<CompanyId> companies;
    for (const auto* part : external) {
        if (part->contact)
            contacts.insert(*part->contact);
        if (part->company)
            companies.insert(*part->company);
    }
    std::vector<Candidate> out;
    out.reserve(deals.size());
    for (const auto* d : deals) {
        double s = 0;
        if (name_in_subject(subject, d->name))
            s += p.name_in_subject;
        if (d->owner && in.mailbox_owner && *d->owner == *in.mailbox_owner)
            s += p.owner_is_mailbox_owner;
        // Each distinct external contact counts once, however many headers name them.
        const std::set<ContactId> deal_contacts(d->contacts.begin(), d->contacts.end());
        for (ContactId c : contacts)
            if (deal_contacts.contains(c))
                s += p.contact_participant;
        if (d->company && companies.contains(*d->company))
            s += p.company_participant;
        if (p.recency_days > 0) {
            const double age_days =
                std::max(0.0, static_cast<double>(in.now - d->updated_at) / kSecondsPerDay);
            s += p.recency_max * std::max(0.0, 1.0 - age_days / p.recency_days);
        }
        out.push_back({d->id, s});
    }
    std::sort(out.begin(), out.end(), better);
    return out;
}

[[nodiscard]] std::vector<DealId> suggestions_of(const std::vector<Candidate>& ranked) {
    std::vector<DealId> out;
    for (const auto& c : ranked) {
        if (out.size() == kMaxSuggestions)
            break;
        out.push_back(c.id);
    }
    return out;
}

[[nodiscard]] DealId most_frequent(const std::vector<DealId>& ids) {
    std::map<DealId, std::size_t> count;
    for (DealId id : ids)
        ++count[id];
    DealId best = ids.front();
    for (DealId id : ids) // first occurrence wins a tie: scan in input order
        if (count[id] > count[best])
            best = id;
    return best;
}

[[nodiscard]] SortDecision unsorted(std::string reason, std::vector<DealId> suggestions = {}) {
    SortDecision d;
    d.reason = std::move(reason);
    d.suggestions = std::move(suggestions);
    return d;
}


[[nodiscard]] SortDecision held(std::vector<DealId> deals) {
    std::sort(deals.begin(), deals.end());
    deals.erase(std::unique(deals.begin(), deals.end()), deals.end());
    SortDecision d;
    d.reason = "conflict: deals " + join_ids(deals);
    d.suggestions = std::move(deals);
    d.hold = true;
    return d;
}

// Whether participant `p` belongs to deal `d`: one of its contacts, or of its company.
// Open deals (other than `linked`) that participants new to the thread belong to while they do
// not belong to the linked deal: evidence that this message is about something else.
[[nodiscard]] std::vector<DealId> contrary_deals(const SortInput& in, DealId linked) {
    std::vector<DealId> out;
    for (const auto& p : in.participants) {
        if (p.user || (!p.contact && !p.company))
            continue;
        const bool known = std::any_of(in.thread_participants.begin(), in.thread_participants.end(),
                                       [&](const Participant& t) { return t.address == p.address; });
        if (known)
            continue; // already in the thread when it was linked
        if (in.linked_deal && belongs(p, *in.linked_deal))
            continue;
        for (const auto& d : in.open_deals)
            if (d.id != linked && belongs(p, d))
                out.push_back(d.id);
    }
    return out;
}

} // namespace

bool belongs(const Participant& p, const DealFacts& d) {
    if (p.contact &&
        std::find(d.contacts.begin(), d.contacts.end(), *p.contact) != d.contacts.end())
        return true;
    return p.company && d.company && *p.company == *d.company;
}

SortDecision decide(const SortInput& in, const SortPolicy& policy) {
    if (in.thread_link && in.thread_link->manual) {
        SortDecision d;
        d.deal = in.thread_link->deal;
        d.keep_existing = true;
        d.reason = "manual link kept";
        return d;
    }
    if (!in.conflict_deals.empty())
        return held(in.conflict_deals);
    if (in.thread_held) {
        SortDecision d;
        d.keep_existing = true;
        d.reason = "thread held for a person";
        return d;
    }
    if (in.thread_link) {
        const DealId linked = in.thread_link->deal;
        std::vector<DealId> other = contrary_deals(in, linked);
        for (DealId t : in.token_deals)
            if (t != linked)
                other.push_back(t);
        if (!other.empty()) {
            other.push_back(linked);
            return held(std::move(other));
        }
        SortDecision d;
        d.deal = linked;
        d.keep_existing = true;
        d.reason = fmt::format("thread already linked to deal {}", linked);
        return d;
    }
    if (!in.token_deals.empty()) {
        SortDecision d;
        d.deal = most_frequent(in.token_deals);
        d.reason = "deal token in References";
        return d;
    }
    if (in.is_bulk)
        return unsorted("bulk mail");

    std::vector<const Participant*> external;
    const Participant* sender = nullptr;
    for (const auto& p : in.participants) {
        if (!p.user)
            external.push_back(&p);
        if (!sender && p.role == "from")
            sender = &p;
    }
    // The thread's earlier participants are evidence too: the deal is the conversation's.
    for (const auto& p : in.thread_participants)
        if (!p.user && std::none_of(external.begin(), external.end(), [&](const Participant* e) {
                return e->address == p.address;
            }))
            external.push_back(&p);
    if (!sender)
        for (const auto& p : in.participants)
            if (p.role == "sender") {
                sender = &p;
                break;
            }

    // Open deals, first occurrence of each id, in input order.
    std::vector<const DealFacts*> deals;
    std::set<DealId> seen;
    for (const auto& d : in.open_deals)
        if (seen.insert(d.id).second)
            deals.push_back(&d);

    const auto ranked = score_all(in, deals, external, policy);

    if (!in.suspicious_sender.empty())
        return unsorted("suspicious sender: " + in.suspicious_sender, suggestions_of(ranked));
    if (external.empty())
        return unsorted("internal mail");

    // The participant the decision is about: the external sender if known, else the first
    // external participant that matched anything.
    const Participant* known = nullptr;
    if (sender && !sender->user && (sender->contact || sender->company))
        known = sender;
    for (const auto* p : external)
        if (!known && (p->contact || p->company))
            known = p;
    if (!known)
        return unsorted((sender && sender->user) ? "unknown participants" : "unknown sender");

    if (deals.empty()) {
        const std::string who = known->contact ? fmt::format("contact {}", *known->contact)
                                               : fmt::format("company {}", *known->company);
        return unsorted(fmt::format("no open deal for {}", who));
    }
    if (deals.size() == 1) {
        SortDecision d;
        d.deal = deals.front()->id;
        d.reason = "single open deal";
        return d;
    }

    const Candidate& best = ranked[0];
    const Candidate& second = ranked[1];
    // Another customer in the conversation: a participant who belongs to another candidate deal
    // and not to the best one. Who owns a deal and how recent it is tell one customer's deals
    // apart, never two customers: then only the deal's name in the subject (and no rival's) may
    // decide.
    const auto deal_of = [&](DealId id) {
        return *std::find_if(deals.begin(), deals.end(), [&](const DealFacts* d) { return d->id == id; });
    };
    const DealFacts& best_deal = *deal_of(best.id);
    bool rival_customer = false;
    for (const auto* p : external)
        if ((p->contact || p->company) && !belongs(*p, best_deal))
            for (const auto* d : deals)
                rival_customer = rival_customer || (d->id != best.id && belongs(*p, *d));
    bool named_alone = false;
    if (rival_customer) {
        const auto subject_words = words(in.subject);
        named_alone = name_in_subject(subject_words, best_deal.name);
        for (const auto* d : deals)
            if (d->id != best.id && name_in_subject(subject_words, d->name))
                named_alone = false;
    }
    if (rival_customer && named_alone) {
        SortDecision d;
        d.deal = best.id;
        d.score = best.score;
        d.reason = fmt::format("deal name in subject (deal {}), another customer taking part", best.id);
        return d;
    }
    if (!rival_customer && best.score >= policy.min_score &&
        (second.score == 0 || best.score >= policy.margin * second.score)) {
        SortDecision d;
        d.deal = best.id;
        d.score = best.score;
        d.reason =
            fmt::format("best score {:.1f} vs {:.1f} (deal {})", best.score, second.score, best.id);
        return d;
    }
    // Close candidates: those the margin cannot separate from the best. When the best lost
    // only on min_score, nothing is close to it, so name the top two.
    std::vector<DealId> close;
    for (const auto& c : ranked)
        if (c.score * policy.margin >= best.score && c.id != best.id)
            close.push_back(c.id);
    if (close.empty())
        close.push_back(second.id);
    close.push_back(best.id);
    if (close.size() > kMaxSuggestions) {
        std::vector<DealId> top;
        for (const auto& c : ranked)
            if (std::find(close.begin(), close.end(), c.id) != close.end() &&
                top.size() < kMaxSuggestions)
                top.push_back(c.id);
        close = std::move(top);
    }
    return unsorted("ambiguous: deals " + join_ids(std::move(close)), suggestions_of(ranked));
}

} // namespace crm::match
