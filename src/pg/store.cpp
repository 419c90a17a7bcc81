// ThreadIndex and MailStore over PostgreSQL: src/store/store.cpp's statements, translated.
#include "crm/pg/store.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "crm/blob/codec.hpp"
#include "crm/core/stored_json.hpp"
#include "store_values.hpp"
#include "web_support.hpp"

namespace crm::pg {

using detail::check_text;
using detail::Ctx;
using detail::in_context;
using detail::int_array;
using detail::owned;
using detail::Statements;
using detail::text_array;

namespace {

// The row of the message this session inserted last, when it exists (see
// PgStore::add_message_statements).
constexpr const char* kOurs = "(SELECT id FROM messages WHERE id = (SELECT "
                              "currval(pg_get_serial_sequence('messages', 'id'))))";

// The row a message's dependent statements (participants, attachments, location, counters) refer
// to, and only when it exists: kOurs, or the message's reserved id given as parameter $`param`.
std::string ours(std::optional<MessageRowId> reserved, int param) {
    if (!reserved)
        return kOurs;
    return fmt::format("(SELECT id FROM messages WHERE id = ${}::bigint)", param);
}

std::string join_ids(std::span<const std::int64_t> ids) {
    std::string out;
    for (auto id : ids) {
        if (!out.empty())
            out += ' ';
        out += std::to_string(id);
    }
    return out;
}

constexpr const char* kThreadLinkSql =
    "SELECT deal_id, manual FROM thread_deals WHERE thread_id = $1::bigint";
constexpr const char* kThreadHeldSql = "SELECT held FROM unsorted WHERE thread_id = $1::bigint";
constexpr const char* kThreadParticipantsSql =
    "SELECT DISTINCT p.address, p.contact_id, p.company_id FROM messages m JOIN participants p "
    "ON p.message_id = m.id WHERE m.thread_id = $1::bigint AND m.is_bulk = 0 AND p.user_id IS "
    "NULL AND p.address <> '' AND p.role IN ('from', 'to', 'cc', 'reply-to') LIMIT 500";

Result<std::optional<ThreadLink>> link_of(const ResultSet& r) {
    if (r.rows() == 0)
        return std::nullopt;
    CRM_PG_TRY(deal, r.get<std::int64_t>(0, 0));
    CRM_PG_TRY(manual, r.get<std::int64_t>(0, 1));
    return ThreadLink{*deal, *manual != 0};
}

Result<bool> held_of(const ResultSet& r) {
    if (r.rows() == 0)
        return false;
    CRM_PG_TRY(held, r.get<std::int64_t>(0, 0));
    return *held != 0;
}

Result<std::vector<ThreadParticipant>> participants_of(const ResultSet& r) {
    std::vector<ThreadParticipant> out;
    for (int i = 0; i < r.rows(); ++i) {
        CRM_PG_TRY(address, r.get<std::string>(i, 0));
        CRM_PG_TRY(contact, r.get<std::optional<std::int64_t>>(i, 1));
        CRM_PG_TRY(company, r.get<std::optional<std::int64_t>>(i, 2));
        out.push_back({std::move(*address), *contact, *company});
    }
    return out;
}

// One deal with its contacts; nullopt when it does not exist.
constexpr const char* kDealSelect =
    "SELECT d.id, d.name, d.company_id, d.owner_id, d.updated_at, "
    "ARRAY(SELECT contact_id FROM deal_contacts dc WHERE dc.deal_id = d.id ORDER BY contact_id)"
    "::text FROM deals d ";

Result<DealRecord> deal_of_row(const ResultSet& r, int row) {
    DealRecord d;
    CRM_PG_TRY(id, r.get<std::int64_t>(row, 0));
    CRM_PG_TRY(name, r.get<std::string>(row, 1));
    CRM_PG_TRY(company, r.get<std::optional<std::int64_t>>(row, 2));
    CRM_PG_TRY(owner, r.get<std::optional<std::int64_t>>(row, 3));
    CRM_PG_TRY(updated, r.get<std::int64_t>(row, 4));
    CRM_PG_TRY(contacts, r.get<std::string>(row, 5));
    d.id = *id;
    d.name = std::move(*name);
    d.company = *company;
    d.owner = *owner;
    d.updated_at = *updated;
    d.contacts = detail::parse_int_array(*contacts);
    return d;
}

Result<std::vector<std::int64_t>> int_column(const ResultSet& r, int col = 0) {
    std::vector<std::int64_t> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        CRM_PG_TRY(v, r.get<std::int64_t>(i, col));
        out.push_back(*v);
    }
    return out;
}

Result<std::vector<std::string>> text_column(const ResultSet& r, int col = 0) {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        CRM_PG_TRY(v, r.get<std::string>(i, col));
        out.push_back(std::move(*v));
    }
    return out;
}

constexpr const char* kFindMessageSql =
    "SELECT id FROM messages WHERE message_id = $1 AND content_hash = $2";
constexpr const char* kThreadsForKeysSql =
    "SELECT DISTINCT thread_id FROM thread_keys WHERE key = ANY($1::text[]) ORDER BY thread_id";
// The candidates with their participants in one statement: team members are in every
// conversation of a mailbox, so they never tie two together (SQLite asks once per candidate).
// One row per candidate and participant (address and company), a candidate without any with
// NULLs, in candidate then participant order.
constexpr const char* kSubjectCandidatesSql =
    "SELECT m.id, m.message_id, m.thread_id, m.at, m.is_bulk, m.subject_reply, p.address, "
    "p.company_id FROM (SELECT id, message_id, thread_id, coalesce(date, received_at) AS at, "
    "is_bulk, subject_reply FROM messages WHERE base_subject = $1 AND coalesce(date, received_at) "
    "BETWEEN $2::bigint AND $3::bigint LIMIT 200) AS m LEFT JOIN LATERAL (SELECT DISTINCT "
    "address, company_id FROM participants WHERE message_id = m.id AND address <> '' AND user_id "
    "IS NULL AND role IN ('from', 'to', 'cc', 'reply-to')) AS p ON true "
    "ORDER BY m.id, p.address, p.company_id";
constexpr const char* kLookupAddressSql =
    "SELECT (SELECT user_id FROM user_addresses WHERE address = $1), c.id, c.company_id, (SELECT "
    "company_id FROM company_domains WHERE domain = $2) FROM (SELECT 1) AS one LEFT JOIN "
    "contact_addresses a ON a.address = $1 LEFT JOIN contacts c ON c.id = a.contact_id LIMIT 1";
constexpr const char* kTokenDealsSql = "SELECT deal_id FROM outbox WHERE message_id = "
                                       "ANY($1::text[]) AND deal_id IS NOT NULL ORDER BY id";
constexpr const char* kOpenDealsSql =
    "SELECT d.id, d.name, d.company_id, d.owner_id, d.updated_at, ARRAY(SELECT contact_id FROM "
    "deal_contacts dc WHERE dc.deal_id = d.id ORDER BY contact_id)::text FROM deals d WHERE "
    "d.status = 'open' AND (d.id IN (SELECT deal_id FROM deal_contacts WHERE contact_id = "
    "ANY($1::bigint[])) OR d.company_id = ANY($2::bigint[])) ORDER BY d.id";
// A block of ids from a table's identity sequence ($1: the table), in ascending order.
constexpr const char* kReserveIdsSql = "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM "
                                       "generate_series(1, $2::integer) ORDER BY 1";
constexpr int kReservedIds = 64;
constexpr const char* kThreadFactsWhat = "reading a thread's link, queue entry and participants";
constexpr std::size_t kThreadFactsStatements = 4;

Result<std::optional<MessageRowId>> found_of(const ResultSet& r) {
    if (r.rows() == 0)
        return std::nullopt;
    CRM_PG_TRY(id, r.get<std::int64_t>(0, 0));
    return std::optional<MessageRowId>(*id);
}

Result<std::vector<SubjectCandidate>> subject_candidates_of(const ResultSet& r) {
    std::vector<SubjectCandidate> out;
    std::int64_t current = 0;
    for (int i = 0; i < r.rows(); ++i) {
        CRM_PG_TRY(id, r.get<std::int64_t>(i, 0));
        if (out.empty() || *id != current) {
            SubjectCandidate c;
            CRM_PG_TRY(mid, r.get<std::string>(i, 1));
            CRM_PG_TRY(thread, r.get<std::int64_t>(i, 2));
            CRM_PG_TRY(date, r.get<std::int64_t>(i, 3));
            CRM_PG_TRY(bulk, r.get<std::int64_t>(i, 4));
            CRM_PG_TRY(reply, r.get<std::int64_t>(i, 5));
            c.message_id = std::move(*mid);
            c.thread_id = *thread;
            c.date = *date;
            c.is_bulk = *bulk != 0;
            c.subject_reply = *reply != 0;
            out.push_back(std::move(c));
            current = *id;
        }
        CRM_PG_TRY(address, r.get<std::optional<std::string>>(i, 6));
        if (!*address)
            continue; // no participant
        CRM_PG_TRY(company, r.get<std::optional<std::int64_t>>(i, 7));
        auto& who = out.back().participants;
        if (std::find(who.begin(), who.end(), **address) == who.end())
            who.push_back(std::move(**address));
        if (*company) {
            std::string co = fmt::format("company:{}", **company);
            if (std::find(who.begin(), who.end(), co) == who.end())
                who.push_back(std::move(co));
        }
    }
    return out;
}

std::optional<std::string> domain_of(std::string_view canonical) {
    if (auto at = canonical.rfind('@'); at != std::string_view::npos)
        return std::string(canonical.substr(at + 1));
    return std::nullopt;
}

Result<AddressFacts> address_facts_of(const ResultSet& r) {
    AddressFacts f;
    CRM_PG_TRY(user, r.get<std::optional<std::int64_t>>(0, 0));
    CRM_PG_TRY(contact, r.get<std::optional<std::int64_t>>(0, 1));
    CRM_PG_TRY(company, r.get<std::optional<std::int64_t>>(0, 2));
    CRM_PG_TRY(by_domain, r.get<std::optional<std::int64_t>>(0, 3));
    f.user = *user;
    f.contact = *contact;
    f.company = *company ? *company : *by_domain;
    return f;
}

Result<std::vector<DealRecord>> deals_of(const ResultSet& r) {
    std::vector<DealRecord> out;
    for (int i = 0; i < r.rows(); ++i) {
        CRM_PG_TRY(d, deal_of_row(r, i));
        out.push_back(std::move(*d));
    }
    return out;
}

// open_deals' arguments as a set (the answer does not depend on their order).
ReadAhead::Deals deal_keys(std::span<const ContactId> contacts,
                           std::span<const CompanyId> companies) {
    ReadAhead::Deals k{{contacts.begin(), contacts.end()}, {companies.begin(), companies.end()}};
    for (auto* v : {&k.contacts, &k.companies}) {
        std::sort(v->begin(), v->end());
        v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    return k;
}

// The answer read ahead for exactly `key`, taken (it is used once); nullopt when there is none.
template <class K, class V, class Q>
std::optional<V> take(std::optional<std::pair<K, V>>& answer, const Q& key) {
    if (!answer)
        return std::nullopt;
    if constexpr (std::ranges::range<K>) {
        if (!std::ranges::equal(answer->first, key))
            return std::nullopt;
    } else if (!(answer->first == key)) {
        return std::nullopt;
    }
    V v = std::move(answer->second);
    answer.reset();
    return v;
}

// thread_facts' four reads; what the default asks only under conditions is asked anyway and
// then left out the same way.
void add_thread_facts(Statements& s, ThreadId thread) {
    s.add(kThreadLinkSql, thread);
    s.add(std::string(kDealSelect) + "WHERE d.id = (SELECT deal_id FROM thread_deals WHERE "
                                     "thread_id = $1::bigint AND manual = 0)",
          thread);
    s.add(kThreadHeldSql, thread);
    s.add(kThreadParticipantsSql, thread);
}

Result<ThreadFacts> thread_facts_of(std::span<const ResultSet> r) {
    ThreadFacts f;
    CRM_PG_TRY(link, link_of(r[0]));
    f.link = *link;
    if (f.link && !f.link->manual && r[1].rows() > 0) {
        CRM_PG_TRY(deal, deal_of_row(r[1], 0));
        f.linked_deal = std::move(*deal);
    }
    if (!f.link) {
        CRM_PG_TRY(held, held_of(r[2]));
        f.held = *held;
    }
    if (!f.held && !(f.link && f.link->manual)) {
        CRM_PG_TRY(who, participants_of(r[3]));
        f.participants = std::move(*who);
    }
    return f;
}

Result<void> check_all(std::string_view what, std::span<const std::string> values,
                       std::string_view field) {
    for (const auto& v : values)
        if (auto ok = check_text(what, field, v); !ok)
            return ok;
    return {};
}

} // namespace

// ---- ThreadIndex -------------------------------------------------------------------------

Result<std::vector<ThreadId>> PgStore::threads_for_keys(std::span<const std::string> keys) {
    Ctx q{c_, "looking up thread keys"};
    if (auto ok = check_all(q.what, keys, "a thread key"); !ok)
        return std::unexpected(ok.error());
    if (auto hit = take(ahead_.keys, keys))
        return std::move(*hit);
    // One statement for all keys (References chains can be long).
    CRM_PG_TRY(r, q.exec(kThreadsForKeysSql, text_array(keys)));
    return int_column(*r);
}

Result<std::vector<SubjectCandidate>>
PgStore::subject_candidates(std::string_view base_subject, std::int64_t from, std::int64_t to) {
    Ctx q{c_, "looking up subject candidates"};
    if (auto ok = check_text(q.what, "the base subject", base_subject); !ok)
        return std::unexpected(ok.error());
    if (auto hit = take(ahead_.subject, SubjectQuery{std::string(base_subject), from, to}))
        return std::move(*hit);
    CRM_PG_TRY(r, q.exec(kSubjectCandidatesSql, owned(base_subject), from, to));
    return subject_candidates_of(*r);
}

Result<ThreadId> PgStore::create_thread() {
    Ctx q{c_, "creating a thread"};
    if (auto id = reserved_id(thread_ids_)) {
        // Nobody waits for the row: it goes out with the next statement (Connection::defer).
        std::vector<Param> params;
        params.emplace_back(*id);
        c_.defer("INSERT INTO threads (id, created_at, updated_at) VALUES ($1::bigint, "
                 "extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint)",
                 std::move(params));
        return *id;
    }
    CRM_PG_TRY(r, q.exec("INSERT INTO threads (created_at, updated_at) VALUES "
                         "(extract(epoch FROM now())::bigint, extract(epoch FROM now())::bigint) "
                         "RETURNING id"));
    return r->get<std::int64_t>(0, 0);
}

Result<void> PgStore::merge_threads(ThreadId into, ThreadId from) {
    ahead_ = {}; // what was read ahead may change now
    if (into == from)
        return {};
    Statements s(c_, opts_.pipeline);
    // Both threads locked first, in id order (two merges of the same pair cannot deadlock):
    // FOR UPDATE also waits for transactions still inserting messages into either (their
    // foreign key holds KEY SHARE on the thread), so every message moves, none is left behind
    // in a thread that is then deleted.
    s.add("SELECT id FROM threads WHERE id IN ($1::bigint, $2::bigint) ORDER BY id FOR UPDATE",
          into, from);
    s.add("UPDATE thread_keys SET thread_id = $1::bigint WHERE thread_id = $2::bigint", into, from);
    s.add("UPDATE messages SET thread_id = $1::bigint WHERE thread_id = $2::bigint", into, from);
    s.add("UPDATE outbox SET thread_id = $1::bigint WHERE thread_id = $2::bigint", into, from);
    // Deal links: a manual link wins; else the surviving thread's link; else the other's.
    s.add("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, linked_by, "
          "linked_at) SELECT $1::bigint, deal_id, manual, reason, score, linked_by, linked_at "
          "FROM thread_deals WHERE thread_id = $2::bigint "
          "ON CONFLICT (thread_id) DO UPDATE SET deal_id = excluded.deal_id, manual = 1, "
          "reason = excluded.reason, linked_by = excluded.linked_by, linked_at = "
          "excluded.linked_at WHERE excluded.manual = 1 AND thread_deals.manual = 0",
          into, from);
    s.add("DELETE FROM thread_deals WHERE thread_id = $1::bigint", from);
    // The unsorted entry goes when the merged thread is linked.
    s.add("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) "
          "SELECT $1::bigint, reason, suggestions, queued_at, held FROM unsorted WHERE "
          "thread_id = $2::bigint ON CONFLICT (thread_id) DO UPDATE SET "
          "held = GREATEST(unsorted.held, excluded.held)",
          into, from);
    s.add("DELETE FROM unsorted WHERE thread_id = $1::bigint", from);
    s.add("DELETE FROM unsorted WHERE thread_id = $1::bigint AND EXISTS (SELECT 1 FROM "
          "thread_deals WHERE thread_id = $1::bigint)",
          into);
    s.add("UPDATE thread_splits SET thread_id = $1::bigint WHERE thread_id = $2::bigint", into,
          from);
    s.add("UPDATE thread_splits SET from_thread_id = $1::bigint WHERE from_thread_id = $2::bigint",
          into, from);
    s.add("DELETE FROM threads WHERE id = $1::bigint", from);
    s.add(detail::kRefreshThread, into, 0);
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context("merging threads", std::move(r).error()));
    return {};
}

Result<void> PgStore::add_keys(ThreadId thread, std::span<const std::string> keys) {
    Ctx q{c_, "recording thread keys"};
    if (keys.empty())
        return {};
    if (auto ok = check_all(q.what, keys, "a thread key"); !ok)
        return ok;
    // A key another transaction is adding at the same moment: ON CONFLICT waits for it to
    // commit and then leaves the key alone (or inserts it if that one rolled back), exactly as if
    // the two had run one after the other.
    static constexpr const char* kSql = "INSERT INTO thread_keys (key, thread_id) SELECT k, "
                                        "$2::bigint FROM unnest($1::text[]) AS k ON CONFLICT "
                                        "(key) DO NOTHING";
    if (opts_.pipeline && detail::in_transaction(c_)) {
        // Nothing waits for its answer: it goes out with the next statement (Connection::defer),
        // which in a sync batch is the same message's next lookup. Its failure is that
        // statement's, or the message's savepoint's when none follows.
        std::vector<Param> params;
        params.emplace_back(text_array(keys));
        params.emplace_back(thread);
        c_.defer(kSql, std::move(params));
        return {};
    }
    CRM_PG_TRY(r, q.exec(kSql, text_array(keys), thread));
    return {};
}

Result<std::optional<DealId>> PgStore::linked_deal(ThreadId thread) {
    auto link = thread_link(thread);
    if (!link)
        return std::unexpected(link.error());
    if (!*link)
        return std::nullopt;
    return (*link)->deal;
}

Result<bool> PgStore::kept_apart(ThreadId a, ThreadId b) {
    Ctx q{c_, "looking up thread splits"};
    CRM_PG_TRY(r, q.exec("SELECT 1 FROM thread_splits WHERE (thread_id = $1::bigint AND "
                         "from_thread_id = $2::bigint) OR (thread_id = $2::bigint AND "
                         "from_thread_id = $1::bigint) LIMIT 1",
                         a, b));
    return r->rows() > 0;
}

// ---- MailStore ---------------------------------------------------------------------------

Result<void> PgStore::read_ahead(const ReadAhead& a) {
    // A message's second read ahead (its thread's facts) keeps the answer its first one got to
    // the same open_deals question; everything else is replaced.
    std::optional<std::pair<ReadAhead::Deals, std::vector<DealRecord>>> kept_deals;
    std::optional<ReadAhead::Deals> deal_question;
    if (a.open_deals) {
        deal_question = deal_keys(a.open_deals->contacts, a.open_deals->companies);
        if (a.facts_of && ahead_.deals && ahead_.deals->first == *deal_question) {
            kept_deals = std::move(ahead_.deals);
            deal_question.reset();
        }
    }
    ahead_ = {};
    ahead_.deals = std::move(kept_deals);

    // Only what passes the checks the reads themselves make is asked: a read that would fail
    // runs on its own and reports its error there.
    auto texts_ok = [](std::span<const std::string> values) {
        return std::ranges::all_of(
            values, [](const std::string& v) { return static_cast<bool>(check_text("", "", v)); });
    };
    enum class Ask { Found, Keys, Subject, Tokens, Address, Deals, Facts, MessageIds, ThreadIds };
    std::vector<std::pair<Ask, std::size_t>> asked; // what each statement (or group) answers
    Statements s(c_, opts_.pipeline);
    if (!a.message_id.empty() && check_text("", "", a.message_id) &&
        check_text("", "", a.content_hash)) {
        s.add(kFindMessageSql, a.message_id, a.content_hash);
        asked.emplace_back(Ask::Found, 0);
    }
    if (!a.thread_keys.empty() && texts_ok(a.thread_keys)) {
        s.add(kThreadsForKeysSql, text_array(a.thread_keys));
        asked.emplace_back(Ask::Keys, 0);
    }
    if (a.subject && check_text("", "", a.subject->base)) {
        s.add(kSubjectCandidatesSql, a.subject->base, a.subject->from, a.subject->to);
        asked.emplace_back(Ask::Subject, 0);
    }
    if (!a.token_ids.empty() && texts_ok(a.token_ids)) {
        s.add(kTokenDealsSql, text_array(a.token_ids));
        asked.emplace_back(Ask::Tokens, 0);
    }
    std::vector<std::optional<std::string>> domains(a.addresses.size());
    for (std::size_t i = 0; i < a.addresses.size(); ++i) {
        if (!check_text("", "", a.addresses[i]))
            continue;
        domains[i] = domain_of(a.addresses[i]);
        s.add(kLookupAddressSql, a.addresses[i], domains[i]);
        asked.emplace_back(Ask::Address, i);
    }
    if (deal_question) {
        s.add(kOpenDealsSql, int_array(deal_question->contacts),
              int_array(deal_question->companies));
        asked.emplace_back(Ask::Deals, 0);
    }
    if (a.facts_of) {
        add_thread_facts(s, *a.facts_of);
        asked.emplace_back(Ask::Facts, 0);
    }
    // Ids for the rows to come, drawn in blocks with the reads: store_new_message and
    // create_thread then need not wait for the server to number them.
    if (!asked.empty() && opts_.pipeline && detail::in_transaction(c_)) {
        if (message_ids_.empty()) {
            s.add(kReserveIdsSql, "messages", kReservedIds);
            asked.emplace_back(Ask::MessageIds, 0);
        }
        if (thread_ids_.empty()) {
            s.add(kReserveIdsSql, "threads", kReservedIds);
            asked.emplace_back(Ask::ThreadIds, 0);
        }
    }
    if (asked.empty())
        return {};
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context("reading ahead for a new message", std::move(r).error()));
    std::size_t at = 0;
    for (const auto& [ask, index] : asked) {
        const ResultSet& rs = (*r)[at];
        switch (ask) {
        case Ask::Found: {
            CRM_PG_TRY(found, found_of(rs));
            ahead_.found.emplace(std::pair(a.message_id, a.content_hash), *found);
            break;
        }
        case Ask::Keys: {
            CRM_PG_TRY(threads, int_column(rs));
            ahead_.keys.emplace(a.thread_keys, std::move(*threads));
            break;
        }
        case Ask::Subject: {
            CRM_PG_TRY(candidates, subject_candidates_of(rs));
            ahead_.subject.emplace(*a.subject, std::move(*candidates));
            break;
        }
        case Ask::Tokens: {
            CRM_PG_TRY(deals, int_column(rs));
            ahead_.tokens.emplace(a.token_ids, std::move(*deals));
            break;
        }
        case Ask::Address: {
            CRM_PG_TRY(facts, address_facts_of(rs));
            ahead_.addresses.insert_or_assign(a.addresses[index], std::move(*facts));
            break;
        }
        case Ask::Deals: {
            CRM_PG_TRY(deals, deals_of(rs));
            ahead_.deals.emplace(std::move(*deal_question), std::move(*deals));
            break;
        }
        case Ask::Facts: {
            CRM_PG_TRY(facts, thread_facts_of(std::span(*r).subspan(at, kThreadFactsStatements)));
            ahead_.facts.emplace(*a.facts_of, std::move(*facts));
            at += kThreadFactsStatements - 1;
            break;
        }
        case Ask::MessageIds:
        case Ask::ThreadIds: {
            CRM_PG_TRY(ids, int_column(rs));
            // Used from the back: smallest first.
            auto& into = ask == Ask::MessageIds ? message_ids_ : thread_ids_;
            into.assign(ids->rbegin(), ids->rend());
            break;
        }
        }
        ++at;
    }
    return {};
}

Result<std::optional<MessageRowId>> PgStore::find_message(std::string_view message_id,
                                                          std::string_view content_hash) {
    Ctx q{c_, "looking up a message"};
    if (auto ok = check_text(q.what, "the Message-ID", message_id); !ok)
        return std::unexpected(ok.error());
    if (auto ok = check_text(q.what, "the content hash", content_hash); !ok)
        return std::unexpected(ok.error());
    if (auto hit =
            take(ahead_.found, std::pair(std::string(message_id), std::string(content_hash))))
        return *hit;
    CRM_PG_TRY(r, q.exec(kFindMessageSql, owned(message_id), owned(content_hash)));
    return found_of(*r);
}

Result<std::size_t> PgStore::add_fence(Statements& s, const LocationRef& w, std::string_view what) {
    // A location of a synced account is written only by the worker holding its lease: the
    // fence runs first, in the same round trip, and its failure keeps the rest from running.
    if (!fence_ || !w.account)
        return 0;
    auto proof = fence_->proof(*w.account);
    if (!proof)
        return std::unexpected(in_context(what, proof.error()));
    if (!*proof)
        return 0;
    s.add(LeaseFence::kCheckSql, (*proof)->account, (*proof)->worker, (*proof)->epoch);
    return 1;
}

Result<void> PgStore::add_location_statement(Statements& s, const LocationRef& w,
                                             std::string_view what,
                                             std::optional<MessageRowId> message, std::int64_t now,
                                             bool reserved) {
    if (auto ok = check_text(what, "the flags", w.flags); !ok)
        return ok;
    if (auto ok = check_text(what, "the source", w.source); !ok)
        return ok;
    std::string labels = stored::json_string_array(w.labels);
    if (auto ok = check_text(what, "the labels", labels); !ok)
        return ok;
    // No conflict target, like SQLite's: a location is unique by either partial index
    // (locations_imap: mailbox, UIDVALIDITY, UID; locations_file: message, source), and a copy
    // already recorded (or being recorded by another transaction, whose commit this waits for)
    // is left alone. Without `message`, the message is the one this session inserted last.
    const std::string sql =
        std::string("INSERT INTO locations (message_id, account_id, "
                    "mailbox_id, uid_validity, uid, gm_msgid, flags, source, "
                    "owner_id, created_at, labels) SELECT o.id, $1::bigint, "
                    "$2::bigint, $3::bigint, $4::bigint, $5::bigint, $6, $7, "
                    "$8::bigint, $9::bigint, $10 FROM ") +
        (message && !reserved ? "(SELECT $11::bigint AS id)" : ours(message, 11)) +
        " AS o ON CONFLICT DO NOTHING";
    const Param source = w.source.empty() ? Param(std::nullopt) : Param(w.source);
    if (message)
        s.add(sql, w.account, w.mailbox, w.uid_validity, w.uid, w.gm_msgid, w.flags, source,
              w.owner, now, std::move(labels), *message);
    else
        s.add(sql, w.account, w.mailbox, w.uid_validity, w.uid, w.gm_msgid, w.flags, source,
              w.owner, now, std::move(labels));
    return {};
}

Result<bool> PgStore::add_location(MessageRowId message, const LocationRef& w, std::int64_t now) {
    ahead_ = {}; // what was read ahead may change now
    const std::string_view what = "recording a location";
    Statements s(c_, opts_.pipeline);
    if (auto fenced = add_fence(s, w, what); !fenced)
        return std::unexpected(fenced.error());
    if (auto ok = add_location_statement(s, w, what, message, now); !ok)
        return std::unexpected(ok.error());
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context(what, std::move(r).error()));
    return r->back().affected() > 0;
}

Result<AddressFacts> PgStore::lookup_address(std::string_view canonical) {
    Ctx q{c_, "looking up an address"};
    if (auto ok = check_text(q.what, "the address", canonical); !ok)
        return std::unexpected(ok.error());
    if (auto hit = ahead_.addresses.find(canonical); hit != ahead_.addresses.end()) {
        AddressFacts f = hit->second;
        ahead_.addresses.erase(hit);
        return f;
    }
    // One round trip for the three lookups store::Store makes one by one.
    CRM_PG_TRY(r, q.exec(kLookupAddressSql, owned(canonical), domain_of(canonical)));
    return address_facts_of(*r);
}

// What insert statements bind besides the NewMessage's own fields, made once and kept alive
// until the statements have run (Statements borrows them).
struct PgStore::MessageTexts {
    std::string what;
    std::string from_name, refs, in_reply_to, headers, warnings;
    PackedBlob packed_here;
    const PackedBlob* raw = nullptr;
};

Result<void> PgStore::add_message_statements(Statements& s, const NewMessage& n, MessageTexts& t,
                                             const std::string* sort_reason,
                                             std::optional<MessageRowId> reserved) {
    const ParsedMessage& m = *n.parsed;
    t.what = "storing message " + n.message_id;
    t.from_name = m.from.empty() ? std::string() : m.from.front().name;
    t.refs = stored::join(m.references);
    t.in_reply_to = stored::join(m.in_reply_to);
    t.headers = stored::json_pair_array(m.headers);
    t.warnings = stored::json_string_array(m.warnings);
    const std::string& what = t.what;
    // Everything bound to a TEXT column, checked before anything is sent: a message is stored
    // whole or not at all, and never cut short at a NUL.
    const std::pair<const char*, const std::string*> texts[] = {
        {"the Message-ID", &n.message_id},
        {"the content hash", &m.content_hash},
        {"the Subject", &m.subject},
        {"the base subject", &n.base_subject},
        {"the From name", &t.from_name},
        {"the From address", &n.from_address},
        {"References", &t.refs},
        {"In-Reply-To", &t.in_reply_to},
        {"the headers", &t.headers},
        {"the text body", &m.text_body},
        {"the HTML body", &m.html_body},
        {"the raw SHA-256", &n.raw_sha256},
        {"List-Id", &m.list_id},
        {"a parser warning", &t.warnings},
        {"the spoofing note", &n.suspicious},
    };
    for (const auto& [field, value] : texts)
        if (auto ok = check_text(what, field, *value); !ok)
            return ok;
    if (sort_reason)
        if (auto ok = check_text(what, "the reason", *sort_reason); !ok)
            return ok;
    for (const auto& p : n.participants)
        for (const std::string* v : {&p.role, &p.address, &p.written, &p.name})
            if (auto ok = check_text(what, "a participant (" + p.role + ")", *v); !ok)
                return ok;
    for (const auto& a : m.attachments)
        for (const std::string* v : {&a.filename, &a.content_type, &a.content_id, &a.sha256})
            if (auto ok = check_text(what, "an attachment", *v); !ok)
                return ok;

    t.raw = n.raw_packed;
    if (t.raw == nullptr) {
        t.packed_here = blob::pack_blob(n.raw);
        t.raw = &t.packed_here;
    }
    const PackedBlob* raw = t.raw;
    // A dependent statement's parameters, plus the reserved id last when there is one.
    auto with_row = [&](std::vector<Param> params) {
        if (reserved)
            params.emplace_back(*reserved);
        return params;
    };

    // The rows that reference the message take its id from the identity sequence (currval: this
    // session's last value, so another session's inserts do not matter), or the id reserved for
    // it, and only when that row exists: after a conflict the id was drawn but no row has it, and
    // they do nothing. The inner SELECT makes the sequence lookup an init plan: evaluated once,
    // and the row found by its primary key (a volatile currval() in the WHERE would be evaluated
    // row by row).
    //
    // Blobs are content-addressed: a blob stored by a concurrent transaction is left alone
    // (ON CONFLICT waits for it and then does nothing).
    s.add("INSERT INTO blobs (sha256, size, codec, data) VALUES ($1, $2::bigint, $3, $4) "
          "ON CONFLICT (sha256) DO NOTHING",
          n.raw_sha256, static_cast<std::int64_t>(raw->size), raw->codec, Param::bytea(raw->bytes));
    // Two transactions storing the same Message-ID and content: the second waits on the unique
    // index for the first to commit, then inserts nothing (and reports "message.exists");
    // if the first rolls back, the second inserts.
    s.add(std::string("INSERT INTO messages (message_id, synthetic_id, content_hash, thread_id, "
                      "subject, base_subject, subject_reply, from_name, from_address, date, "
                      "received_at, refs, in_reply_to, headers_json, text_body, html_body, "
                      "raw_sha256, raw_size, is_bulk, list_id, direction, unread, unparsable, "
                      "warnings_json, parser_version, suspicious, sort_reason, auto_kind, id) "
                      "VALUES ($1, $2::smallint, $3, $4::bigint, $5, $6, $7::smallint, $8, $9, "
                      "$10::bigint, $11::bigint, $12, $13, $14, $15, $16, $17, $18::bigint, "
                      "$19::smallint, $20, $21, $22::smallint, $23::smallint, $24, $25::bigint, "
                      "$26, coalesce($27, ''), $28, ") +
              "coalesce($29::bigint, nextval(pg_get_serial_sequence('messages', 'id')))"
              ") ON CONFLICT (message_id, content_hash) DO NOTHING RETURNING id",
          n.message_id, n.synthetic_id ? 1 : 0, m.content_hash, n.thread, m.subject, n.base_subject,
          n.subject_reply ? 1 : 0, t.from_name, n.from_address, m.date, n.received_at, t.refs,
          t.in_reply_to, t.headers, m.text_body, m.html_body, n.raw_sha256,
          static_cast<std::int64_t>(raw->size), m.is_bulk ? 1 : 0, m.list_id,
          n.outgoing ? "out" : "in", n.unread ? 1 : 0, m.unparsable ? 1 : 0, t.warnings,
          n.parser_version, n.suspicious, sort_reason ? Param(*sort_reason) : Param(std::nullopt),
          std::string(auto_kind_name(m.report.kind)),
          reserved ? Param(*reserved) : Param(std::nullopt));
    if (!n.participants.empty()) {
        // All participants in one statement, as arrays: the same statement text whatever their
        // number, so it is prepared once.
        std::vector<std::string> roles, addresses, written, names;
        std::vector<std::int64_t> positions;
        std::vector<std::optional<std::int64_t>> contacts, companies, users;
        std::map<std::string, int> next_position;
        for (const auto& r : n.participants) {
            roles.push_back(r.role);
            positions.push_back(next_position[r.role]++);
            addresses.push_back(r.address);
            written.push_back(r.written);
            names.push_back(r.name);
            contacts.push_back(r.facts.contact);
            companies.push_back(r.facts.company);
            users.push_back(r.facts.user);
        }
        s.add_params(
            std::string("INSERT INTO participants (message_id, role, position, address, "
                        "written, display_name, contact_id, company_id, user_id) SELECT "
                        "o.id, v.* FROM ") +
                ours(reserved, 9) +
                " AS o, unnest($1::text[], $2::bigint[], $3::text[], $4::text[], "
                "$5::text[], $6::bigint[], $7::bigint[], $8::bigint[]) AS v ON CONFLICT "
                "(message_id, role, position) DO NOTHING",
            with_row({text_array(roles), int_array(positions), text_array(addresses),
                      text_array(written), text_array(names), detail::optional_int_array(contacts),
                      detail::optional_int_array(companies), detail::optional_int_array(users)}));
    }
    if (!m.attachments.empty()) {
        // Only the metadata: the bytes are in the raw message (schema/0009).
        std::vector<std::string> filenames, types, ids, hashes;
        std::vector<std::int64_t> positions, inline_flags, sizes;
        for (std::size_t i = 0; i < m.attachments.size(); ++i) {
            const auto& a = m.attachments[i];
            positions.push_back(static_cast<std::int64_t>(i));
            filenames.push_back(a.filename);
            types.push_back(a.content_type);
            ids.push_back(a.content_id);
            inline_flags.push_back(a.is_inline ? 1 : 0);
            sizes.push_back(static_cast<std::int64_t>(a.size));
            hashes.push_back(a.sha256);
        }
        s.add_params(std::string("INSERT INTO attachments (message_id, position, filename, "
                                 "content_type, content_id, is_inline, size, sha256) SELECT o.id, "
                                 "v.* FROM ") +
                         ours(reserved, 8) +
                         " AS o, unnest($1::bigint[], $2::text[], $3::text[], $4::text[], "
                         "$5::smallint[], $6::bigint[], $7::text[]) AS v",
                     with_row({int_array(positions), text_array(filenames), text_array(types),
                               text_array(ids), int_array(inline_flags), int_array(sizes),
                               text_array(hashes)}));
    }
    // Counters move incrementally (a full recount per insert would be quadratic in the thread's
    // size); merges and flag changes recount. The UPDATE takes the thread's row lock, so two
    // workers adding to one thread apply their differences one after the other.
    const std::int64_t when = m.date.value_or(n.received_at);
    s.add_params(fmt::format("UPDATE threads SET message_count = message_count + 1, unread_count "
                             "= unread_count + $2::bigint, subject = CASE WHEN first_date IS NULL "
                             "OR $3::bigint < first_date THEN $4 ELSE subject END, first_date = "
                             "LEAST(coalesce(first_date, $3::bigint), $3::bigint), last_date = "
                             "GREATEST(coalesce(last_date, $3::bigint), $3::bigint), updated_at = "
                             "$5::bigint WHERE id = $1::bigint AND EXISTS {}",
                             ours(reserved, 6)),
                 with_row({n.thread, n.unread ? 1 : 0, when, m.subject, n.received_at}));
    return {};
}

std::unexpected<Error> PgStore::exists_error(std::string_view what) {
    return fail("message.exists",
                fmt::format("{}: another transaction stored this Message-ID with the same content "
                            "meanwhile; nothing was written: look it up again (find_message) and "
                            "add a location",
                            what),
                ErrorScope::Message, Retry::Now);
}

std::optional<std::int64_t> PgStore::reserved_id(std::vector<std::int64_t>& ids) {
    if (ids.empty() || !opts_.pipeline || !detail::in_transaction(c_))
        return std::nullopt;
    const std::int64_t id = ids.back();
    ids.pop_back();
    return id;
}

Result<void> PgStore::settle() {
    ahead_ = {};
    if (!c_.write_deferred())
        return {};
    if (auto f = c_.flush_deferred(); !f)
        return std::unexpected(in_context("sending the writes kept back", std::move(f).error()));
    return {};
}

Result<MessageRowId> PgStore::inserted_id(const ResultSet& inserted, const std::string& what) {
    if (inserted.rows() == 0)
        return exists_error(what);
    ++inserted_;
    return inserted.get<std::int64_t>(0, 0);
}

Result<MessageRowId> PgStore::insert_message(const NewMessage& n) {
    ahead_ = {}; // what was read ahead may change now
    Statements s(c_, opts_.pipeline);
    MessageTexts t;
    if (auto ok = add_message_statements(s, n, t, nullptr); !ok)
        return std::unexpected(ok.error());
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context(t.what, std::move(r).error()));
    return inserted_id((*r)[1], t.what);
}

Result<MessageRowId> PgStore::store_new_message(const NewMessage& n, const LocationRef& w,
                                                const Placement& p, std::int64_t now) {
    ahead_ = {}; // what was read ahead may change now
    // Everything in one pipeline: the lease fence first (its failure keeps the rest from
    // running), the message, its location and its filing.
    Statements s(c_, opts_.pipeline);
    MessageTexts t;
    std::size_t first = 0;
    if (auto fenced = add_fence(s, w, "storing message " + n.message_id); !fenced)
        return std::unexpected(fenced.error());
    else
        first = *fenced;
    const std::optional<MessageRowId> id = reserved_id(message_ids_);
    if (auto ok = add_message_statements(s, n, t, &p.reason, id); !ok)
        return std::unexpected(ok.error());
    if (auto ok = add_location_statement(s, w, t.what, id, now, id.has_value()); !ok)
        return std::unexpected(ok.error());
    if (auto ok = add_place_statements(s, n.thread, p, now); !ok)
        return std::unexpected(in_context(t.what, ok.error()));
    if (id) {
        // With its id known, nothing waits for the answers: the statements go out with the next
        // one (the next message's reads, or settle()), and their failure is reported there.
        s.defer(first + 1, exists_error(t.what).error());
        ++inserted_;
        return *id;
    }
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context(t.what, std::move(r).error()));
    return inserted_id((*r)[first + 1], t.what);
}

bool PgStore::statistics_due() noexcept {
    if (inserted_ < next_analyze_)
        return false;
    next_analyze_ = std::max<std::int64_t>(next_analyze_, inserted_) * 2;
    return true;
}

Result<void> PgStore::refresh_statistics() {
    Ctx q{c_, "refreshing the planner's statistics after a bulk of new mail"};
    CRM_PG_TRY(r, q.exec("ANALYZE messages, participants, attachments, locations, threads, "
                         "thread_keys, blobs"));
    return {};
}

Result<std::optional<std::string>> PgStore::raw_message(MessageRowId id) {
    return detail::read_raw_message(c_, id);
}

Result<std::optional<ThreadLink>> PgStore::thread_link(ThreadId thread) {
    Ctx q{c_, "reading a thread link"};
    CRM_PG_TRY(r, q.exec(kThreadLinkSql, thread));
    return link_of(*r);
}

Result<ThreadFacts> PgStore::thread_facts(ThreadId thread) {
    if (auto hit = take(ahead_.facts, thread))
        return std::move(*hit);
    Statements s(c_, opts_.pipeline);
    add_thread_facts(s, thread);
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context(kThreadFactsWhat, std::move(r).error()));
    return thread_facts_of(std::span(*r).first(kThreadFactsStatements));
}

Result<std::vector<DealId>> PgStore::deals_of_our_message_ids(std::span<const std::string> ids) {
    Ctx q{c_, "looking up deal tokens"};
    if (ids.empty())
        return std::vector<DealId>{};
    if (auto ok = check_all(q.what, ids, "a Message-ID"); !ok)
        return std::unexpected(ok.error());
    if (auto hit = take(ahead_.tokens, ids))
        return std::move(*hit);
    CRM_PG_TRY(r, q.exec(kTokenDealsSql, text_array(ids)));
    return int_column(*r);
}

Result<bool> PgStore::is_followup_reminder(const std::string& message_id) {
    Ctx q{c_, "looking up a follow-up reminder"};
    CRM_PG_TRY(r, q.exec("SELECT 1 FROM followup_reminders WHERE message_id = $1", message_id));
    return r->rows() > 0;
}

Result<std::vector<DealRecord>> PgStore::open_deals(std::span<const ContactId> contacts,
                                                    std::span<const CompanyId> companies) {
    Ctx q{c_, "looking up open deals"};
    if (auto hit = take(ahead_.deals, deal_keys(contacts, companies)))
        return std::move(*hit);
    // One statement for the deals of all contacts and companies, ordered by id as the SQLite
    // store's std::set orders them.
    CRM_PG_TRY(r, q.exec(kOpenDealsSql, int_array(contacts), int_array(companies)));
    return deals_of(*r);
}

Result<std::vector<std::string>> PgStore::company_domains() {
    Ctx q{c_, "reading company domains"};
    CRM_PG_TRY(r, q.exec("SELECT domain FROM company_domains ORDER BY domain"));
    return text_column(*r);
}

Result<void> PgStore::add_place_statements(Statements& s, ThreadId thread, const Placement& p,
                                           std::int64_t now) {
    if (auto ok = check_text("filing a thread", "the reason", p.reason); !ok)
        return ok;
    if (p.keep_existing)
        return {};
    if (p.deal) {
        // Never overwrite a manual link (the sorter asked to keep it, but be sure). The upsert's
        // row lock orders it against a concurrent link of the same thread.
        s.add("INSERT INTO thread_deals (thread_id, deal_id, manual, reason, score, linked_at) "
              "VALUES ($1::bigint, $2::bigint, 0, $3, $4::double precision, $5::bigint) ON "
              "CONFLICT (thread_id) DO UPDATE SET deal_id = excluded.deal_id, reason = "
              "excluded.reason, score = excluded.score, linked_at = excluded.linked_at WHERE "
              "thread_deals.manual = 0",
              thread, *p.deal, p.reason, p.score, now);
        s.add("DELETE FROM unsorted WHERE thread_id = $1::bigint", thread);
        return {};
    }
    if (p.hold)
        s.add("DELETE FROM thread_deals WHERE thread_id = $1::bigint AND manual = 0", thread);
    s.add("INSERT INTO unsorted (thread_id, reason, suggestions, queued_at, held) SELECT "
          "$1::bigint, $2, $3, $4::bigint, $5::smallint WHERE NOT EXISTS (SELECT 1 FROM "
          "thread_deals WHERE thread_id = $1::bigint) ON CONFLICT (thread_id) DO UPDATE SET "
          "reason = excluded.reason, suggestions = excluded.suggestions, held = "
          "GREATEST(unsorted.held, excluded.held)",
          thread, p.reason, owned(join_ids(p.suggestions)), now, p.hold ? 1 : 0);
    return {};
}

Result<void> PgStore::place(ThreadId thread, MessageRowId message, const Placement& p,
                            std::int64_t now) {
    ahead_ = {}; // what was read ahead may change now
    const std::string_view what = "filing a thread";
    Statements s(c_, opts_.pipeline);
    // add_place_statements checks the reason before anything is sent.
    s.add("UPDATE messages SET sort_reason = $1 WHERE id = $2::bigint", p.reason, message);
    if (auto ok = add_place_statements(s, thread, p, now); !ok)
        return ok;
    auto r = s.run();
    if (!r)
        return std::unexpected(in_context(what, std::move(r).error()));
    return {};
}

Result<std::vector<ThreadParticipant>> PgStore::thread_participants(ThreadId thread) {
    Ctx q{c_, "reading a thread's participants"};
    CRM_PG_TRY(r, q.exec(kThreadParticipantsSql, thread));
    return participants_of(*r);
}

Result<std::optional<DealRecord>> PgStore::deal_record(DealId deal) {
    Ctx q{c_, "reading a deal"};
    CRM_PG_TRY(r, q.exec(std::string(kDealSelect) + "WHERE d.id = $1::bigint", deal));
    if (r->rows() == 0)
        return std::nullopt;
    CRM_PG_TRY(d, deal_of_row(*r, 0));
    return std::optional<DealRecord>(std::move(*d));
}

Result<bool> PgStore::thread_held(ThreadId thread) {
    Ctx q{c_, "reading a thread's queue entry"};
    CRM_PG_TRY(r, q.exec(kThreadHeldSql, thread));
    return held_of(*r);
}

Result<std::vector<std::string>> PgStore::team_domains() {
    Ctx q{c_, "reading the team's domains"};
    CRM_PG_TRY(r, q.exec("SELECT DISTINCT substr(address, strpos(address, '@') + 1) FROM "
                         "user_addresses WHERE strpos(address, '@') > 0 ORDER BY 1"));
    return text_column(*r);
}

} // namespace crm::pg
