#include "crm/app/ingest.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "crm/mime/parse.hpp"
#include "unique.hpp"

namespace crm::app {

namespace {

struct RoleList {
    const char* role;
    const std::vector<Address> ParsedMessage::*list;
};
constexpr RoleList kRoles[] = {
    {"from", &ParsedMessage::from},         {"sender", &ParsedMessage::sender},
    {"reply-to", &ParsedMessage::reply_to}, {"to", &ParsedMessage::to},
    {"cc", &ParsedMessage::cc},             {"bcc", &ParsedMessage::bcc},
};

} // namespace

Identity identity_of(const ParsedMessage& m) {
    if (!m.message_id.empty())
        return {m.message_id, false};
    std::string basis;
    for (const char* h : {"From", "To", "Date", "Subject"}) {
        if (const auto* v = find_header(m, h))
            basis += *v;
        basis += '\n';
    }
    basis += m.content_hash;
    return {"crm-sha256-" + mime::sha256_hex(basis), true};
}

Ingestor::Ingestor(MailStore& store, ThreadIndex& index, IngestOptions options)
    : store_(store), index_(index), opt_(std::move(options)) {}

Result<IngestOutcome> Ingestor::ingest(const IngestSource& src, const ParsedMessage& m,
                                       std::int64_t now) {
    IngestOutcome out;
    out.warnings = m.warnings.size();
    out.unparsable = m.unparsable;
    const Identity id = identity_of(m);

    if (!team_loaded_) {
        auto doms = store_.team_domains();
        if (!doms)
            return std::unexpected(doms.error());
        // A salesperson on free mail does not make everyone there a colleague.
        team_domains_.clear();
        for (auto& d : *doms)
            if (!match::is_free_mail_domain(d, opt_.addresses))
                team_domains_.push_back(std::move(d));
        subjects_ = opt_.subjects;
        subjects_.internal_domains.insert(subjects_.internal_domains.end(), team_domains_.begin(),
                                          team_domains_.end());
        team_loaded_ = true;
    }
    auto on_team_domain = [&](std::string_view canonical) {
        const std::string_view dom = match::domain_of(canonical);
        return std::find(team_domains_.begin(), team_domains_.end(), dom) != team_domains_.end();
    };
    // The contacts and companies a participant adds to the deal candidates (as the sorting
    // input below collects them): not Bcc or Sender, not a team member.
    auto add_own_deal_keys = [&](std::string_view role, const std::string& address,
                                 const AddressFacts& f, ReadAhead::Deals& into) {
        if (role == "bcc" || role == "sender" || address.empty() || f.user ||
            on_team_domain(address))
            return;
        if (f.contact)
            push_unique(into.contacts, *f.contact);
        if (f.company)
            push_unique(into.companies, *f.company);
    };

    // Participants, canonical. Never matched by display name.
    NewMessage n;
    for (const auto& r : kRoles)
        for (const auto& a : m.*(r.list)) {
            ParticipantRow p;
            p.role = r.role;
            p.written = a.address;
            p.name = a.name;
            if (auto c = match::canonical_address(a.address, opt_.addresses))
                p.address = std::move(*c);
            n.participants.push_back(std::move(p));
        }
    auto tin = thread::make_input(m, id.message_id, {});
    if (tin.date == 0)
        tin.date = now;
    std::vector<std::string> refs = m.references;
    refs.insert(refs.end(), m.in_reply_to.begin(), m.in_reply_to.end());
    // A delivery report names the mail it reports on in the copy it returns, rarely in its own
    // headers: that mail is its parent, so the report joins its conversation (and deal) instead
    // of waiting in the unsorted queue, and our deal token in that Message-ID places it.
    const std::string& reported = m.report.original_message_id;
    const bool delivery_report =
        (m.report.kind == AutoKind::Bounce || m.report.kind == AutoKind::Delayed ||
         m.report.kind == AutoKind::Delivered) &&
        !reported.empty() && reported != id.message_id;
    if (delivery_report && std::find(refs.begin(), refs.end(), reported) == refs.end()) {
        tin.references.push_back(reported);
        tin.parent = reported;
        tin.has_reference_headers = true;
        refs.push_back(reported);
    }

    // The first reads, asked together: the copy already stored, the thread lookups, the deal
    // tokens, the addresses not cached and, when every address is, the deals of a new thread.
    {
        ReadAhead ahead;
        ahead.message_id = id.message_id;
        ahead.content_hash = m.content_hash;
        auto first = thread::first_lookups(tin, subjects_);
        ahead.thread_keys = std::move(first.keys);
        ahead.subject = std::move(first.subject);
        ahead.token_ids = refs;
        ReadAhead::Deals deals;
        bool all_cached = true;
        for (const auto& p : n.participants) {
            if (p.address.empty())
                continue;
            if (auto hit = address_cache_.find(p.address); hit != address_cache_.end()) {
                add_own_deal_keys(p.role, p.address, hit->second, deals);
            } else {
                all_cached = false;
                push_unique(ahead.addresses, p.address);
            }
        }
        if (all_cached)
            ahead.open_deals = std::move(deals);
        if (auto asked = store_.read_ahead(ahead); !asked)
            return std::unexpected(asked.error());
    }

    // One canonical message per Message-ID and content: another copy only adds a location.
    auto existing = store_.find_message(id.message_id, m.content_hash);
    if (!existing)
        return std::unexpected(existing.error());
    if (*existing) {
        auto added = store_.add_location(**existing, src.where, now);
        if (!added)
            return std::unexpected(added.error());
        out.kind = *added ? IngestKind::NewLocation : IngestKind::Duplicate;
        out.message = **existing;
        return out;
    }

    n.parsed = &m;
    n.raw = src.raw;
    n.raw_packed = src.raw_packed;
    n.raw_sha256 =
        src.raw_sha256.empty() ? mime::sha256_hex(src.raw) : std::string(src.raw_sha256);
    n.message_id = id.message_id;
    n.synthetic_id = id.synthetic;
    n.received_at = now;
    n.parser_version = kParserVersion;
    // The conversation's external participants: the team (users, addresses on the team's
    // domains such as sales@) is in every conversation of a mailbox and tells nothing apart.
    std::vector<std::string> thread_participants;
    for (auto& p : n.participants) {
        if (p.address.empty())
            continue;
        if (auto hit = address_cache_.find(p.address); hit != address_cache_.end()) {
            p.facts = hit->second;
        } else {
            auto facts = store_.lookup_address(p.address);
            if (!facts)
                return std::unexpected(facts.error());
            p.facts = *facts;
            if (address_cache_.size() >= 100'000)
                address_cache_.clear();
            address_cache_.emplace(p.address, *facts);
        }
        if (p.role != "bcc" && p.role != "sender" && !p.facts.user && !on_team_domain(p.address)) {
            push_unique(thread_participants, p.address);
            if (p.facts.company)
                push_unique(thread_participants, fmt::format("company:{}", *p.facts.company));
        }
    }
    const ParticipantRow* from = nullptr;
    for (const auto& p : n.participants)
        if (p.role == "from") {
            from = &p;
            break;
        }
    if (from) {
        n.from_address = from->address;
        n.outgoing = from->facts.user.has_value();
    }
    // Our own mail is read by definition.
    n.unread = !src.seen && !n.outgoing;

    if (!m.from.empty() && !n.outgoing) {
        if (!domains_loaded_) {
            auto doms = store_.company_domains();
            if (!doms)
                return std::unexpected(doms.error());
            domains_ = std::move(*doms);
            domains_loaded_ = true;
        }
        n.suspicious = match::suspicious_sender(m.from.front(), m, domains_,
                                                opt_.trusted_authserv_ids);
    }

    // Thread.
    tin.participants = std::move(thread_participants);
    n.base_subject = thread::base_subject(m.subject);
    n.subject_reply = thread::is_reply_subject(m.subject) && !tin.has_reference_headers;
    auto assigned = thread::assign_thread(tin, index_, subjects_);
    if (!assigned)
        return std::unexpected(assigned.error());
    const ThreadId tid = assigned->thread;
    n.thread = tid;

    // What the thread held before this message: its link, whether it waits for a person, and
    // its external participants (the deal is decided from the conversation as a whole).
    match::SortInput in;
    in.conflict_deals = assigned->conflict_deals;
    const bool fresh = assigned->created; // no link, no queue entry, no earlier participants
    ThreadFacts facts;
    if (!fresh) {
        // With the deals of this message's own participants, which are among the candidates
        // unless the thread's earlier participants add some.
        ReadAhead ahead;
        ahead.facts_of = tid;
        ReadAhead::Deals own;
        for (const auto& p : n.participants)
            add_own_deal_keys(p.role, p.address, p.facts, own);
        ahead.open_deals = std::move(own);
        if (auto asked = store_.read_ahead(ahead); !asked)
            return std::unexpected(asked.error());
        auto f = store_.thread_facts(tid);
        if (!f)
            return std::unexpected(f.error());
        facts = std::move(*f);
    }
    if (facts.link)
        in.thread_link = match::ExistingLink{facts.link->deal, facts.link->manual};
    if (in.thread_link && !in.thread_link->manual && facts.linked_deal) {
        const DealRecord& d = *facts.linked_deal;
        in.linked_deal =
            match::DealFacts{d.id, d.name, d.company, d.contacts, d.owner, d.updated_at};
    }
    in.thread_held = facts.held;
    // The contacts and companies whose open deals are the candidates.
    std::vector<ContactId> contacts;
    std::vector<CompanyId> companies;
    auto collect = [&](const match::Participant& p) {
        if (p.user)
            return;
        if (p.contact)
            push_unique(contacts, *p.contact);
        if (p.company)
            push_unique(companies, *p.company);
    };
    if (!fresh && !in.thread_held && !(in.thread_link && in.thread_link->manual)) {
        for (auto& t : facts.participants) {
            if (on_team_domain(t.address))
                continue;
            match::Participant mp;
            mp.role = "thread";
            mp.address = std::move(t.address);
            mp.contact = t.contact;
            mp.company = t.company;
            // Only an unlinked thread is decided on its earlier participants' deals; a linked
            // one only needs to know who was already there.
            if (!in.thread_link)
                collect(mp);
            in.thread_participants.push_back(std::move(mp));
        }
    }

    // Deal sorting. Everything it reads was stored before this message, so it is decided first
    // and the message is stored with its filing in one step.
    // Our own new mail from a deal (crm.<deal>.… with no References) names the deal in its own
    // Message-ID: its copy in Sent finds the deal by the outbox entry with that id. Only for
    // mail a team member sent: the outbox is ours, a customer's message never borrows it.
    std::vector<std::string> token_ids = refs;
    if (n.outgoing && !id.message_id.empty())
        token_ids.push_back(id.message_id);
    auto tokens = store_.deals_of_our_message_ids(token_ids);
    if (!tokens)
        return std::unexpected(tokens.error());
    in.token_deals = *tokens;
    for (const auto& p : n.participants) {
        if (p.role == "bcc" || p.role == "sender" || p.address.empty())
            continue;
        if (!p.facts.user && on_team_domain(p.address))
            continue;
        match::Participant mp;
        mp.role = p.role;
        mp.address = p.address;
        mp.name = p.name;
        mp.contact = p.facts.contact;
        mp.company = p.facts.company;
        mp.user = p.facts.user;
        collect(mp);
        in.participants.push_back(std::move(mp));
    }
    auto deals = store_.open_deals(contacts, companies);
    if (!deals)
        return std::unexpected(deals.error());
    for (const auto& d : *deals)
        in.open_deals.push_back({d.id, d.name, d.company, d.contacts, d.owner, d.updated_at});
    in.subject = m.subject;
    in.mailbox_owner = src.owner;
    in.is_bulk = m.is_bulk;
    in.now = m.date.value_or(now);
    in.suspicious_sender = n.suspicious;
    auto decision = match::decide(in, opt_.sorting);
    if (src.label_rule && !(in.thread_link && in.thread_link->manual)) {
        // The salesperson filed it under that label in Gmail: their decision, like a link by
        // hand, when the deal exists.
        auto deal = store_.deal_record(src.label_rule->deal);
        if (!deal)
            return std::unexpected(deal.error());
        if (*deal) {
            decision.deal = src.label_rule->deal;
            decision.reason = fmt::format("Gmail label \"{}\" (account rule: deal {})",
                                          src.label_rule->label, src.label_rule->deal);
            decision.score = 1.0;
            decision.suggestions.clear();
            decision.keep_existing = false;
            decision.hold = false;
        }
    }
    // Its shape: from a team member, or from an address to that same address alone (an account
    // whose address is not a CRM user's).
    auto to_itself = [&] {
        std::vector<std::string> to;
        for (const auto& p : n.participants)
            if (p.role == "to" || p.role == "cc")
                to.push_back(p.address);
        return to.size() == 1 && !n.from_address.empty() && to.front() == n.from_address;
    };
    if (id.message_id.starts_with("crm-reminder.") && (n.outgoing || to_itself())) {
        // Our own daily follow-up reminder (its copy in Sent and in the salesperson's INBOX) is
        // kept where it is filed, on no deal and not in the unsorted queue: not a conversation.
        // Known by its recorded Message-ID (96 random bits).
        auto reminder = store_.is_followup_reminder(id.message_id);
        if (!reminder)
            return std::unexpected(reminder.error());
        if (*reminder) {
            decision = match::SortDecision{};
            decision.keep_existing = true;
            decision.reason = "our daily follow-up reminder: not a conversation";
        }
    }
    Placement pl{decision.deal,       decision.reason,        decision.score,
                 decision.suggestions, decision.keep_existing, decision.hold};
    auto row = store_.store_new_message(n, src.where, pl, now);
    if (!row)
        return std::unexpected(row.error());
    if (delivery_report) {
        DeliveryReportRow report{reported, *row, m.report.kind, m.report.recipients, now};
        if (auto marked = store_.record_delivery_report(report); !marked)
            return std::unexpected(marked.error());
    }

    out.kind = IngestKind::New;
    out.message = *row;
    out.thread = tid;
    out.deal = decision.deal;
    out.reason = decision.reason;
    return out;
}

} // namespace crm::app
