// The salesperson's routes: me, deals, threads, messages, read marks, links, replies, outbox.
#include <algorithm>
#include <limits>
#include <tuple>

#include <fmt/format.h>

#include "crm/app/reply.hpp"
#include "crm/http/auth.hpp"
#include "crm/store/outbox.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

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

json::object outbox_json(const store::OutboxRow& r, const std::string& account_name) {
    return {{"id", r.id},
            {"state", r.state},
            {"attempts", r.attempts},
            {"last_error", r.last_error},
            {"account", account_name},
            {"to", addresses(r.to)},
            {"cc", addresses(r.cc)},
            {"subject", r.subject},
            {"created_at", r.created_at},
            {"sent_at", opt_json(r.sent_at)}};
}

std::vector<AccountId> mirror_accounts(Ctx& c) {
    std::vector<AccountId> out;
    std::vector<std::string> names;
    for (const auto& a : c.control.accounts())
        if (a.mirror_seen)
            names.push_back(a.name);
    if (names.empty())
        return out;
    store::OutboxStore ob(c.db);
    for (const auto& n : names)
        if (auto acc = ok_or_500(ob.account_by_name(n)))
            out.push_back(acc->id);
    return out;
}

bool wants(const Ctx& c, const char* method, std::size_t n) {
    if (c.seg.size() != n)
        return false;
    if (c.req.method != method && !(std::string_view(method) == "GET" && c.req.method == "HEAD"))
        throw_error(405, "method_not_allowed", fmt::format("use {} on {}", method, c.path));
    return true;
}

void me(Ctx& c) {
    store::WebStore ws(c.db);
    json::array accs;
    for (const auto& a : ok_or_500(ws.sender_accounts(c.user->id)))
        accs.push_back(json::object{{"name", a.name}, {"address", a.address}});
    send_json(c, 200, json::object{{"user", user_json(*c.user)}, {"accounts", accs}});
}

// Messages per page of the thread view: the newest first, older ones with ?before=.
constexpr std::int64_t kThreadPage = 50, kMaxThreadPage = 200;

void thread_get(Ctx& c, ThreadId id) {
    store::WebStore ws(c.db);
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
            {"warnings", strings(m.warnings)},
            {"attachments", atts}});
    }
    send_json(c, 200,
              json::object{
                  {"thread", thread_json(ws, v, *t)}, {"messages", msgs}, {"older", page->older}});
}

// A salesperson changes a thread's deal only when the whole thread is theirs to see: linking
// would show them another salesperson's mail, unlinking would take it from another's deal.
void require_whole_thread(Ctx& c, store::WebStore& ws, const store::Viewer& v, ThreadId id) {
    if (v.admin)
        return;
    store::Store s(c.db);
    auto all = ok_or_500(s.thread(id));
    const auto mine = ok_or_500(ws.visible_messages(v, id));
    auto seen = ok_or_500(ws.thread(v, id));
    const bool foreign_deal = all && all->deal && (!seen || !seen->deal);
    if (!all || static_cast<std::int64_t>(mine.size()) < all->message_count || foreign_deal)
        throw_error(409, "thread_shared",
                    fmt::format("thread {} also holds mail or a deal link of another "
                                "salesperson: move your messages to a conversation of their own "
                                "first (\"Not part of this conversation\"), or ask an admin",
                                id));
}

void thread_link(Ctx& c, ThreadId id, bool link) {
    store::WebStore ws(c.db);
    auto v = c.viewer();
    if (!ok_or_500(ws.thread_visible(v, id)))
        not_found(fmt::format("thread {}", id));
    require_whole_thread(c, ws, v, id);
    store::Store s(c.db);
    store::Database::Transaction tx(c.db);
    if (link) {
        auto body = body_object(c);
        only_fields(body, {"deal_id"});
        auto deal = opt_int(body, "deal_id");
        if (!deal)
            invalid("deal_id", "is required");
        if (!ok_or_500(ws.deal(v, *deal)))
            invalid("deal_id", fmt::format("deal {} does not exist or is not yours", *deal));
        ok_or_500(s.link_thread(id, *deal, c.user->id, c.now));
    } else {
        ok_or_500(s.unlink_thread(id, c.now));
    }
    ok_or_500(tx.commit());
    // After linking, a salesperson may no longer see it (someone else's private deal): only
    // reachable for admins, since the deal had to be visible. Read back as the viewer.
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
    store::WebStore ws(c.db);
    auto v = c.viewer();
    if (!ok_or_500(ws.message_thread(v, id)))
        not_found(fmt::format("message {}", id));
    store::Store s(c.db);
    std::optional<std::vector<MessageRowId>> movable;
    if (!v.admin) // another salesperson's replies stay where they are
        movable = ok_or_500(ws.visible_messages(v, *ok_or_500(ws.message_thread(v, id))));
    store::Database::Transaction tx(c.db);
    auto r = s.split_message(id, c.user->id, c.now, movable);
    if (!r && r.error().code == "thread.split_whole")
        throw_error(409, "split_whole", r.error().detail);
    const auto done = ok_or_500(std::move(r));
    ok_or_500(tx.commit());
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
    store::WebStore ws(c.db);
    auto v = c.viewer();
    ThreadId tid = id;
    if (!thread) {
        auto t = ok_or_500(ws.message_thread(v, id));
        if (!t)
            not_found(fmt::format("message {}", id));
        tid = *t;
    } else if (!ok_or_500(ws.thread_visible(v, id))) {
        not_found(fmt::format("thread {}", id));
    }
    auto mirror = mirror_accounts(c);
    store::Database::Transaction tx(c.db);
    if (thread)
        ok_or_500(ws.set_thread_unread(v, id, *unread, mirror, c.now));
    else
        ok_or_500(ws.set_message_unread(id, *unread, mirror, c.now));
    ok_or_500(tx.commit());
    if (thread) {
        auto t = ok_or_500(ws.thread(v, tid));
        send_json(c, 200, json::object{{"thread", thread_json(ws, v, *t)}});
    } else {
        send_json(c, 200, json::object{{"message_id", id}, {"unread", *unread}});
    }
}

void reply(Ctx& c, ThreadId id) {
    store::WebStore ws(c.db);
    auto v = c.viewer();
    if (!ok_or_500(ws.thread_visible(v, id)))
        not_found(fmt::format("thread {}", id));
    auto body = body_object(c);
    only_fields(body, {"account", "body", "mode", "to", "cc", "bcc", "parent_id"});
    auto account_name = req_string(body, "account", 64);
    auto text = req_string(body, "body", 1u << 20);
    auto mode = opt_string(body, "mode", 16).value_or("reply");
    if (mode != "reply" && mode != "reply-all")
        invalid("mode", "must be \"reply\" or \"reply-all\"");
    store::OutboxStore ob(c.db);
    auto account = ok_or_500(ob.account_by_name(account_name));
    if (!account)
        invalid("account", fmt::format("no mail account named '{}'", account_name));
    if (account->owner != c.user->id)
        throw_error(403, "forbidden",
                    fmt::format("account: you can only send from your own mail accounts, and "
                                "'{}' is not yours",
                                account_name),
                    "account");
    std::optional<std::string> parent_mid;
    const auto visible = ok_or_500(ws.thread_messages(v, id));
    if (auto pid = opt_int(body, "parent_id")) {
        auto t = ok_or_500(ws.message_thread(v, *pid));
        if (!t || *t != id)
            invalid("parent_id", fmt::format("message {} is not in thread {}", *pid, id));
        for (const auto& m : visible)
            if (m.id == *pid)
                parent_mid = m.message_id;
    } else if (!v.admin && !visible.empty()) {
        // The newest message the viewer can see (by arrival, never by the sender's Date), never
        // one of another salesperson's.
        const auto newest = std::max_element(visible.begin(), visible.end(), [](const auto& a, const auto& b) {
            return std::tie(a.received_at, a.id) < std::tie(b.received_at, b.id);
        });
        parent_mid = newest->message_id;
    }
    auto parent = ok_or_500(ob.reply_parent(id, parent_mid));
    if (!parent)
        throw_error(409, "conflict", fmt::format("thread {} has no message to reply to", id));
    auto own = ok_or_500(ob.team_addresses());
    app::ReplyParentInfo info{parent->message_id, parent->subject, parent->references,
                              parent->in_reply_to, parent->from, parent->reply_to,
                              parent->to, parent->cc, parent->deal, parent->suspicious};
    app::ReplyChoice choice;
    choice.all = mode == "reply-all";
    choice.to = opt_string_list(body, "to", 100, 320);
    choice.cc = opt_string_list(body, "cc", 100, 320);
    choice.bcc = opt_string_list(body, "bcc", 100, 320);
    auto plan = app::plan_reply(info, choice, account->address, own, random_hex(12));
    if (!plan)
        invalid(plan.error().code.starts_with("reply.invalid.")
                    ? plan.error().code.substr(std::string_view("reply.invalid.").size())
                    : std::string("to"), // no recipient left: name one in "to"
                plan.error().detail);
    store::OutboxRow row;
    row.account = account->id;
    row.user = c.user->id;
    row.thread = parent->thread;
    row.parent = parent->id;
    row.deal = parent->deal;
    row.message_id = plan->message_id;
    row.mode = plan->mode;
    row.to = plan->to;
    row.cc = plan->cc;
    row.bcc = plan->bcc;
    row.subject = plan->subject;
    row.in_reply_to = plan->in_reply_to;
    row.references = plan->references;
    row.text_body = std::move(text);
    store::Database::Transaction tx(c.db);
    auto qid = ok_or_500(ob.queue(row, {}, c.now));
    ok_or_500(tx.commit());
    c.control.outbox_changed();
    auto stored = ok_or_500(ob.get(qid));
    send_json(c, 202, json::object{{"outbox", outbox_json(stored.value_or(row), account->name)}});
}

void outbox_get(Ctx& c, std::int64_t id) {
    store::OutboxStore ob(c.db);
    auto r = ok_or_500(ob.get(id));
    if (!r || (!c.admin() && r->user != c.user->id))
        not_found(fmt::format("outbox entry {}", id));
    auto acc = ok_or_500(ob.account(r->account));
    send_json(c, 200, json::object{{"outbox", outbox_json(*r, acc ? acc->name : "")}});
}

} // namespace

json::object deal_json(const store::WebDeal& d) {
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

json::object thread_json(store::WebStore& ws, const store::Viewer& v,
                         const store::ThreadSummary& t) {
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

bool route_views(Ctx& c) {
    const auto& s = c.seg;
    if (s.empty())
        return false;
    store::WebStore ws(c.db);
    auto v = c.viewer();
    if (s[0] == "me" && wants(c, "GET", 1)) {
        me(c);
    } else if (s[0] == "deals" && wants(c, "GET", 1)) {
        json::array a;
        for (const auto& d : ok_or_500(ws.deals(v)))
            a.push_back(deal_json(d));
        send_json(c, 200, json::object{{"deals", a}});
    } else if (s[0] == "deals" && s.size() == 2 && wants(c, "GET", 2)) {
        auto d = ok_or_500(ws.deal(v, id_segment(s[1], "deal")));
        if (!d)
            not_found("deal " + s[1]);
        send_json(c, 200, json::object{{"deal", deal_json(*d)}});
    } else if (s[0] == "deals" && s.size() == 3 && s[2] == "threads" && wants(c, "GET", 3)) {
        auto id = id_segment(s[1], "deal");
        if (!ok_or_500(ws.deal(v, id)))
            not_found("deal " + s[1]);
        json::array a;
        for (const auto& t : ok_or_500(ws.deal_threads(v, id)))
            a.push_back(thread_json(ws, v, t));
        send_json(c, 200, json::object{{"threads", a}});
    } else if (s[0] == "unsorted" && wants(c, "GET", 1)) {
        json::array a;
        for (const auto& t : ok_or_500(ws.unsorted(v)))
            a.push_back(thread_json(ws, v, t));
        send_json(c, 200, json::object{{"threads", a}});
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
    } else if (s[0] == "outbox" && s.size() == 2 && wants(c, "GET", 2)) {
        outbox_get(c, id_segment(s[1], "outbox entry"));
    } else {
        return false;
    }
    return true;
}

} // namespace crm::http
