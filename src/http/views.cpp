// The salesperson's routes: me, deals, threads, messages, read marks, links, replies, outbox.
#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "crm/app/compose.hpp"
#include "crm/app/reply.hpp"
#include "crm/app/search.hpp"
#include "crm/app/thread_actions.hpp"
#include "crm/core/base64.hpp"
#include "crm/core/cursor.hpp"
#include "crm/core/list_cursors.hpp"
#include "crm/http/auth.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

constexpr std::size_t kMaxAttachments = 50;

json::array strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return a;
}

std::string show(const Address& a) {
    return a.name.empty() ? a.address : fmt::format("{} <{}>", a.name, a.address);
}

json::array addresses(const std::vector<Address>& v) {
    json::array a;
    for (const auto& x : v)
        a.emplace_back(show(x));
    return a;
}

// What delivery reports said about an entry's recipients, oldest first.
json::array reports_json(const OutboxRow& r) {
    json::array a;
    for (const auto& x : r.reports)
        a.push_back(json::object{{"recipient", x.recipient},
                                 {"action", x.action},
                                 {"status", x.status},
                                 {"diagnostic", x.diagnostic},
                                 {"message_id", opt_json(x.report)},
                                 {"at", x.at}});
    return a;
}

json::object outbox_json(const OutboxRow& r, const std::string& account_name) {
    json::array atts;
    for (const auto& a : r.attachments)
        atts.push_back(json::object{{"filename", a.filename}, {"content_type", a.content_type}});
    return {{"id", r.id},
            {"state", r.state},
            {"attempts", r.attempts},
            {"last_error", r.last_error},
            {"account", account_name},
            {"to", addresses(r.to)},
            {"cc", addresses(r.cc)},
            {"subject", r.subject},
            {"created_at", r.created_at},
            {"sent_at", opt_json(r.sent_at)},
            {"thread_id", opt_json(r.thread)},
            {"new_conversation", r.in_reply_to.empty()},
            {"attachments", std::move(atts)},
            {"reports", reports_json(r)}};
}

std::vector<AccountId> mirror_accounts(Ctx& c) {
    std::vector<AccountId> out;
    std::vector<std::string> names;
    for (const auto& a : c.control.accounts())
        if (a.mirror_seen)
            names.push_back(a.name);
    if (names.empty())
        return out;
    auto& ob = c.backend.outbox();
    for (const auto& n : names)
        if (auto acc = ok_or_500(ob.account_by_name(n)))
            out.push_back(acc->id);
    return out;
}

void me(Ctx& c) {
    auto& ws = c.backend.reads();
    json::array accs;
    for (const auto& a : ok_or_500(ws.sender_accounts(c.user->id)))
        accs.push_back(json::object{{"name", a.name}, {"address", a.address}});
    const auto& limits = c.options.compose;
    send_json(
        c, 200,
        json::object{
            {"user", user_json(*c.user)},
            {"accounts", accs},
            {"settings", preferences_json(ok_or_500(c.backend.compose().preferences(c.user->id)))},
            {"compose", json::object{{"max_attachment_bytes", limits.max_attachment_bytes},
                                     {"max_message_bytes", limits.max_message_bytes}}}});
}

// Messages per page of the thread view: the newest first, older ones with ?before=.
constexpr std::int64_t kThreadPage = 50, kMaxThreadPage = 200;
// Thread lists (a deal's threads, the unsorted queue): threads per page.
constexpr std::int64_t kThreadListPage = 100, kMaxThreadListPage = 500;

void thread_get(Ctx& c, ThreadId id) {
    auto& ws = c.backend.reads();
    auto v = c.viewer();
    auto t = ok_or_500(ws.thread(v, id));
    if (!t)
        not_found(fmt::format("thread {}", id));
    const auto limit = query_int(c, "limit", 1, kMaxThreadPage, kThreadPage);
    const auto before = query_int(c, "before", 1, std::numeric_limits<std::int64_t>::max(), 0);
    auto page = ok_or_500(ws.thread_page(v, id, before, static_cast<std::size_t>(limit)));
    if (!page)
        invalid("before", fmt::format("message {} is not in this thread", before));
    json::array msgs;
    for (const auto& m : page->messages) {
        json::array atts;
        for (const auto& a : m.attachments)
            atts.push_back(json::object{
                {"position", a.position},
                {"filename", a.filename},
                {"content_type", a.content_type},
                {"size", a.size},
                {"inline", a.is_inline},
                {"url", fmt::format("/api/v1/messages/{}/attachments/{}", m.id, a.position)}});
        auto quoted = quoted_tail_offset(m.text_body);
        const bool has_html = !m.html_body.empty();
        msgs.push_back(json::object{
            {"id", m.id},
            {"message_id", m.message_id},
            {"date", opt_json(m.date)},
            {"subject", m.subject},
            {"direction", m.outgoing ? "out" : "in"},
            {"unread", m.unread},
            {"from", json::object{{"name", m.from_name}, {"address", m.from_address}}},
            {"to", strings(m.to)},
            {"reply_to", strings(m.reply_to)},
            {"suspicious", m.suspicious.empty() ? json::value(nullptr) : json::value(m.suspicious)},
            {"received_at", m.received_at},
            {"cc", strings(m.cc)},
            {"text", m.text_body},
            {"quoted_from",
             quoted ? json::value(static_cast<std::int64_t>(*quoted)) : json::value(nullptr)},
            {"has_html", has_html},
            {"remote_images",
             has_html ? safe_html(c, m.id, m.content_hash, m.html_body, false)->remote_images : 0},
            {"html_url", has_html ? json::value(fmt::format("/api/v1/messages/{}/html", m.id))
                                  : json::value(nullptr)},
            {"unparsable", m.unparsable},
            {"auto_kind", m.auto_kind},
            {"warnings", strings(m.warnings)},
            {"labels", strings(m.labels)},
            {"attachments", atts}});
    }
    send_json(c, 200,
              json::object{
                  {"thread", thread_json(ws, v, *t)}, {"messages", msgs}, {"older", page->older}});
}

void thread_link(Ctx& c, ThreadId id, bool link) {
    auto v = c.viewer();
    if (link) {
        auto body = body_object(c);
        only_fields(body, {"deal_id"});
        auto deal = opt_int(body, "deal_id");
        if (!deal)
            invalid("deal_id", "is required");
        ok_or_raise(app::link_thread(c.backend, v, id, *deal, c.now));
    } else {
        ok_or_raise(app::unlink_thread(c.backend, v, id, c.now));
    }
    // After linking, a salesperson may no longer see it (someone else's private deal): only
    // reachable for admins, since the deal had to be visible. Read back as the viewer.
    auto& ws = c.backend.reads();
    auto t = ok_or_500(ws.thread(v, id));
    if (!t)
        not_found(fmt::format("thread {}", id));
    send_json(c, 200, json::object{{"thread", thread_json(ws, v, *t)}});
}

// "Not part of this conversation": the message and the replies referencing it move to a new
// thread, held in the unsorted queue; the threader never joins the two again by itself.
void split(Ctx& c, MessageRowId id) {
    auto body = body_object(c);
    only_fields(body, {});
    auto v = c.viewer();
    const auto done = ok_or_raise(app::split_message(c.backend, v, id, c.now));
    auto& ws = c.backend.reads();
    json::object out{{"from_thread_id", done.from}, {"moved", done.moved}};
    if (auto t = ok_or_500(ws.thread(v, done.thread)))
        out["thread"] = thread_json(ws, v, *t);
    else
        out["thread"] = json::object{{"id", done.thread}};
    send_json(c, 200, out);
}

void mark(Ctx& c, bool thread, std::int64_t id) {
    auto body = body_object(c);
    only_fields(body, {"unread"});
    auto unread = opt_bool(body, "unread");
    if (!unread)
        invalid("unread", "is required (true or false)");
    auto v = c.viewer();
    const app::ReadTarget target{
        thread ? app::ReadTarget::Kind::Thread : app::ReadTarget::Kind::Message, id};
    const auto tid =
        ok_or_raise(app::mark_read(c.backend, v, target, *unread, mirror_accounts(c), c.now));
    if (thread) {
        auto& ws = c.backend.reads();
        auto t = ok_or_500(ws.thread(v, tid));
        if (!t)
            not_found(fmt::format("thread {}", id));
        send_json(c, 200, json::object{{"thread", thread_json(ws, v, *t)}});
    } else {
        send_json(c, 200, json::object{{"message_id", id}, {"unread", *unread}});
    }
}

// "attachments": [{"filename", "content_type", "content_base64"}], decoded; 422 naming the
// entry for anything malformed. Names, types and sizes are the app's to check.
void read_attachments(const json::object& body, std::vector<OutboxAttachment>& atts,
                      std::vector<std::string>& contents) {
    auto it = body.find("attachments");
    if (it == body.end() || it->value().is_null())
        return;
    if (!it->value().is_array())
        invalid("attachments", "must be an array of objects");
    const auto& arr = it->value().as_array();
    if (arr.size() > kMaxAttachments)
        invalid("attachments", fmt::format("more than {} files", kMaxAttachments));
    for (std::size_t i = 0; i < arr.size(); ++i) {
        const std::string field = fmt::format("attachments[{}]", i);
        if (!arr[i].is_object())
            invalid(field, "must be an object");
        const auto& o = arr[i].as_object();
        only_fields(o, {"filename", "content_type", "content_base64"}, field + ".");
        auto name = opt_string(o, "filename", 1024);
        auto type = opt_string(o, "content_type", 255);
        auto it64 = o.find("content_base64");
        if (!name || name->empty())
            invalid(field + ".filename", "is required");
        if (it64 == o.end() || !it64->value().is_string())
            invalid(field + ".content_base64", "is required (the file's bytes in base64)");
        auto content = base64_decode(std::string_view(it64->value().as_string()));
        if (!content)
            invalid(field + ".content_base64", fmt::format("'{}' is not valid base64", *name));
        // The SHA-256 that files the content is the app's to compute (app::queue).
        atts.push_back({*name, type && !type->empty() ? *type : "application/octet-stream", ""});
        contents.push_back(std::move(*content));
    }
}

// 202 with the entry just queued; the daemon is told to look at its outbox.
void queued_answer(Ctx& c, const app::QueuedReply& queued) {
    c.control.outbox_changed();
    auto stored = ok_or_500(c.backend.outbox().get(queued.id));
    send_json(
        c, 202,
        json::object{{"outbox", outbox_json(stored.value_or(queued.row), queued.account.name)}});
}

void reply(Ctx& c, ThreadId id) {
    auto v = c.viewer();
    // Not found before the body is looked at: nothing about a thread one may not see.
    if (!ok_or_500(c.backend.reads().thread_visible(v, id)))
        not_found(fmt::format("thread {}", id));
    auto body = body_object(c);
    only_fields(body, {"account", "body", "mode", "to", "cc", "bcc", "parent_id", "attachments",
                       "quote", "signature"});
    app::ReplyRequest req;
    req.thread = id;
    req.account = req_string(body, "account", 64);
    read_attachments(body, req.attachments, req.attachment_contents);
    req.text_body = opt_string(body, "body", 1u << 20).value_or("");
    req.quote = opt_bool(body, "quote").value_or(false);
    req.signature = opt_bool(body, "signature").value_or(true);
    if (req.text_body.find_first_not_of(" \t\r\n") == std::string::npos && req.attachments.empty())
        invalid("body", "is required (or attach a file)");
    auto mode = opt_string(body, "mode", 16).value_or("reply");
    if (mode != "reply" && mode != "reply-all")
        invalid("mode", "must be \"reply\" or \"reply-all\"");
    req.parent = opt_int(body, "parent_id");
    req.choice.all = mode == "reply-all";
    req.choice.to = opt_string_list(body, "to", 100, 320);
    req.choice.cc = opt_string_list(body, "cc", 100, 320);
    req.choice.bcc = opt_string_list(body, "bcc", 100, 320);
    queued_answer(c, ok_or_raise(app::queue_reply(c.backend, v, std::move(req), random_hex(12),
                                                  c.now, c.options.compose)));
}

// POST /deals/{id}/mail: a new mail to the deal's contacts (or anyone named).
void new_mail(Ctx& c, DealId id) {
    auto v = c.viewer();
    if (!ok_or_500(c.backend.reads().deal_visible(v, id)))
        not_found(fmt::format("deal {}", id));
    auto body = body_object(c);
    only_fields(body,
                {"account", "to", "cc", "bcc", "subject", "body", "attachments", "signature"});
    app::NewMailRequest req;
    req.deal = id;
    req.account = req_string(body, "account", 64);
    req.to = opt_string_list(body, "to", 100, 320);
    req.cc = opt_string_list(body, "cc", 100, 320);
    req.bcc = opt_string_list(body, "bcc", 100, 320);
    req.subject = opt_string(body, "subject", 1000).value_or("");
    req.text_body = opt_string(body, "body", 1u << 20).value_or("");
    req.signature = opt_bool(body, "signature").value_or(true);
    read_attachments(body, req.attachments, req.attachment_contents);
    queued_answer(c, ok_or_raise(app::queue_new_mail(c.backend, v, std::move(req),
                                                     c.options.compose, random_hex(12), c.now)));
}

void outbox_get(Ctx& c, std::int64_t id) {
    auto& ob = c.backend.outbox();
    auto r = ok_or_500(ob.get(id));
    if (!r || (!c.admin() && r->user != c.user->id))
        not_found(fmt::format("outbox entry {}", id));
    auto acc = ok_or_500(ob.account(r->account));
    send_json(c, 200, json::object{{"outbox", outbox_json(*r, acc ? acc->name : "")}});
}

} // namespace

json::object deal_json(const WebDeal& d) {
    return {{"id", d.id},
            {"name", d.name},
            {"stage", d.stage},
            {"status", d.status},
            {"shared", d.shared},
            {"owner", d.owner ? json::value(json::object{{"id", *d.owner}, {"name", d.owner_name}})
                              : json::value(nullptr)},
            {"company", d.company ? json::value(json::object{{"id", *d.company},
                                                             {"name", d.company_name}})
                                  : json::value(nullptr)},
            {"threads", d.threads},
            {"messages", d.messages},
            {"unread", d.unread},
            {"last_date", opt_json(d.last_date)}};
}

json::object thread_json(ReadModel& ws, const Viewer& v, const ThreadSummary& t) {
    json::array sugg;
    if (!t.suggestions.empty())
        for (const auto& [id, name] : ok_or_500(ws.deal_names(v, t.suggestions)))
            sugg.push_back(json::object{{"id", id}, {"name", name}});
    return {{"id", t.id},
            {"subject", t.subject},
            {"message_count", t.message_count},
            {"unread_count", t.unread_count},
            {"first_date", opt_json(t.first_date)},
            {"last_date", opt_json(t.last_date)},
            {"deal", t.deal ? json::value(json::object{{"id", *t.deal}, {"name", t.deal_name}})
                            : json::value(nullptr)},
            {"manual", t.manual},
            {"reason", t.reason},
            {"suggestions", sugg},
            {"participants", strings(t.participants)}};
}

namespace {

// The ?cursor= of the request, empty when there is none.
std::string_view cursor_of(const Ctx& c) {
    const auto it = c.query.find("cursor");
    return it == c.query.end() ? std::string_view() : std::string_view(it->second);
}

// A cursor read by its list's codec (crm/core/list_cursors.hpp); 422 when it is another list's,
// or damaged.
template <class T> T cursor_or_422(Result<T> key) {
    if (!key)
        throw_error(422, "cursor.invalid", "cursor: " + key.error().detail, "cursor");
    return std::move(*key);
}

// ?limit= and ?cursor= of a thread list: the page size (1..500, 100 by default) and where the
// page starts. The cursor holds the last thread's date and id; it is refused by another list.
std::pair<std::optional<ThreadKey>, std::size_t>
thread_page_request(const Ctx& c, std::string_view list, std::string_view scope) {
    const auto limit =
        static_cast<std::size_t>(query_int(c, "limit", 1, kMaxThreadListPage, kThreadListPage));
    if (cursor_of(c).empty())
        return {std::nullopt, limit};
    return {cursor_or_422(parse_thread_cursor(cursor_of(c), list, scope)), limit};
}

void send_thread_page(Ctx& c, ReadModel& ws, const Viewer& v, const ThreadPage& page,
                      std::string_view list, std::string_view scope) {
    json::array a;
    for (const auto& t : page.threads)
        a.push_back(thread_json(ws, v, t));
    json::value next = nullptr;
    if (page.next)
        next = thread_cursor(list, scope, *page.next);
    send_json(c, 200, json::object{{"threads", a}, {"total", page.total}, {"next_cursor", next}});
}

// GET /api/v1/deals?limit=&cursor=: the deals the viewer sees, a page at a time (100 by
// default, at most 500), with their count.
void deal_list(Ctx& c, ReadModel& ws, const Viewer& v) {
    const auto limit =
        static_cast<std::size_t>(query_int(c, "limit", 1, kMaxThreadListPage, kThreadListPage));
    std::optional<DealKey> after;
    if (!cursor_of(c).empty())
        after = cursor_or_422(parse_deal_cursor(cursor_of(c)));
    const auto page = ok_or_500(ws.deal_page(v, after, limit));
    json::array a;
    for (const auto& d : page.deals)
        a.push_back(deal_json(d));
    json::value next = nullptr;
    if (page.next)
        next = deal_cursor(*page.next);
    send_json(c, 200, json::object{{"deals", a}, {"total", page.total}, {"next_cursor", next}});
}

// GET /api/v1/outbox?state=&limit=&cursor=: the caller's own replies and new mail (an admin's:
// everyone's), newest first, a page at a time, with their count.
void outbox_list(Ctx& c) {
    OutboxFilter f;
    if (const auto it = c.query.find("state"); it != c.query.end() && !it->second.empty()) {
        if (!outbox_state(it->second))
            invalid("state",
                    "must be one of queued, sending, sent, failed, unknown, cancelled, bounced");
        f.state = it->second;
    }
    if (!c.admin())
        f.user = c.user->id;
    const auto limit =
        static_cast<std::size_t>(query_int(c, "limit", 1, kMaxThreadListPage, kThreadListPage));
    // The cursor is of this filter: another state's would skip entries.
    const std::string scope = f.state.value_or("");
    std::optional<std::int64_t> before;
    if (!cursor_of(c).empty())
        before = cursor_or_422(parse_outbox_cursor(cursor_of(c), scope));
    auto& ob = c.backend.outbox();
    const auto page = ok_or_500(ob.page(f, before, limit));
    std::map<AccountId, std::string> names;
    json::array a;
    for (const auto& r : page.rows) {
        auto name = names.find(r.account);
        if (name == names.end()) {
            auto acc = ok_or_500(ob.account(r.account));
            name = names.emplace(r.account, acc ? acc->name : "").first;
        }
        a.push_back(outbox_json(r, name->second));
    }
    json::value next = nullptr;
    if (page.next)
        next = outbox_cursor(scope, *page.next);
    send_json(c, 200, json::object{{"entries", a}, {"total", page.total}, {"next_cursor", next}});
}

} // namespace

json::object search_result_object(const app::SearchResult& r) {
    json::array hits;
    for (const auto& h : r.page.hits) {
        json::array snippet;
        for (const auto& part : h.snippet)
            snippet.push_back(json::object{{"text", part.text}, {"hit", part.hit}});
        hits.push_back(json::object{
            {"message", h.message},
            {"thread", h.thread},
            {"subject", h.subject},
            {"from", json::object{{"name", h.from_name}, {"address", h.from_address}}},
            {"date", opt_json(h.date)},
            {"received_at", h.received_at},
            {"deal", h.deal ? json::value(json::object{{"id", *h.deal}, {"name", h.deal_name}})
                            : json::value(nullptr)},
            {"unread", h.unread},
            {"outgoing", h.outgoing},
            {"has_attachment", h.has_attachment},
            {"snippet", snippet}});
    }
    return json::object{
        {"results", hits},
        {"total", r.page.total},
        {"total_capped", r.page.total_capped},
        {"next_cursor", r.next_cursor ? json::value(*r.next_cursor) : json::value(nullptr)}};
}

namespace {

// GET /api/v1/search?q=...&cursor=...&limit=N: the viewer's hits, ranked, a page at a time.
void search(Ctx& c) {
    const auto q = c.query.find("q");
    const std::string text = q == c.query.end() ? std::string() : q->second;
    auto parsed = parse_search_query(text);
    if (!parsed)
        throw HttpError{
            422, "query.invalid",
            fmt::format("q: at character {}: {}", parsed.error().position, parsed.error().message),
            "q", parsed.error().position};
    const auto limit = query_int(c, "limit", 1, static_cast<std::int64_t>(app::kSearchPageMax),
                                 static_cast<std::int64_t>(app::kSearchPageDefault));
    const auto cursor = c.query.find("cursor");
    auto r = app::search(c.backend, c.viewer(), *parsed, text,
                         cursor == c.query.end() ? std::string_view() : cursor->second,
                         static_cast<std::size_t>(limit));
    if (!r) {
        if (r.error().code == "cursor.invalid")
            throw_error(422, "cursor.invalid", "cursor: " + r.error().detail, "cursor");
        if (r.error().code == "search.unavailable")
            throw_error(501, "search.unavailable", r.error().detail);
        throw_error(500, "internal", r.error().detail);
    }
    send_json(c, 200, search_result_object(*r));
}

} // namespace

std::string search_result_json(const app::SearchResult& r) {
    return json::serialize(search_result_object(r));
}

bool route_views(Ctx& c) {
    const auto& s = c.seg;
    if (s.empty())
        return false;
    auto& ws = c.backend.reads();
    auto v = c.viewer();
    if (s[0] == "me" && wants(c, "GET", 1)) {
        me(c);
    } else if (s[0] == "search" && wants(c, "GET", 1)) {
        search(c);
    } else if (s[0] == "deals" && wants(c, "GET", 1)) {
        deal_list(c, ws, v);
    } else if (s[0] == "deals" && s.size() == 2 && wants(c, "GET", 2)) {
        auto d = ok_or_500(ws.deal(v, id_segment(s[1], "deal")));
        if (!d)
            not_found("deal " + s[1]);
        send_json(c, 200, json::object{{"deal", deal_json(*d)}});
    } else if (s[0] == "deals" && s.size() == 3 && s[2] == "threads" && wants(c, "GET", 3)) {
        auto id = id_segment(s[1], "deal");
        if (!ok_or_500(ws.deal_visible(v, id)))
            not_found("deal " + s[1]);
        const std::string scope = "deal " + std::to_string(id);
        const auto [after, limit] = thread_page_request(c, "deal-threads", scope);
        send_thread_page(c, ws, v, ok_or_500(ws.deal_threads(v, id, after, limit)), "deal-threads",
                         scope);
    } else if (s[0] == "unsorted" && wants(c, "GET", 1)) {
        const auto [after, limit] = thread_page_request(c, "unsorted", "");
        send_thread_page(c, ws, v, ok_or_500(ws.unsorted(v, after, limit)), "unsorted", "");
    } else if (s[0] == "threads" && s.size() == 2 && wants(c, "GET", 2)) {
        thread_get(c, id_segment(s[1], "thread"));
    } else if (s[0] == "threads" && s.size() == 3 && s[2] == "link") {
        if (c.req.method == "POST")
            thread_link(c, id_segment(s[1], "thread"), true);
        else if (c.req.method == "DELETE")
            thread_link(c, id_segment(s[1], "thread"), false);
        else
            throw_error(405, "method_not_allowed", "use POST or DELETE on " + c.path);
    } else if (s[0] == "threads" && s.size() == 3 && s[2] == "read" && wants(c, "POST", 3)) {
        mark(c, true, id_segment(s[1], "thread"));
    } else if (s[0] == "messages" && s.size() == 3 && s[2] == "split" && wants(c, "POST", 3)) {
        split(c, id_segment(s[1], "message"));
    } else if (s[0] == "messages" && s.size() == 3 && s[2] == "read" && wants(c, "POST", 3)) {
        mark(c, false, id_segment(s[1], "message"));
    } else if (s[0] == "threads" && s.size() == 3 && s[2] == "reply" && wants(c, "POST", 3)) {
        reply(c, id_segment(s[1], "thread"));
    } else if (s[0] == "deals" && s.size() == 3 && s[2] == "mail" && wants(c, "POST", 3)) {
        new_mail(c, id_segment(s[1], "deal"));
    } else if (s[0] == "outbox" && wants(c, "GET", 1)) {
        outbox_list(c);
    } else if (s[0] == "outbox" && s.size() == 2 && wants(c, "GET", 2)) {
        outbox_get(c, id_segment(s[1], "outbox entry"));
    } else {
        return false;
    }
    return true;
}

} // namespace crm::http
