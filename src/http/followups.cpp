// Follow-ups (issue 20): the user's "follow up today" list, snoozing a thread, and a deal's own
// follow-up periods. docs/openapi.yaml has the shapes.
#include <limits>

#include "crm/app/followups.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

json::object policy_json(const FollowupPolicy& p) {
    return {{"awaiting_days", p.awaiting_days}, {"answer_hours", p.answer_hours}};
}

json::value opt_int_json(const std::optional<int>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

// GET /followups[?user=ID]: the user's own; an admin may name anyone's.
void followups_list(Ctx& c) {
    UserId user = c.user->id;
    if (c.query.contains("user")) {
        user = query_int(c, "user", 1, std::numeric_limits<std::int64_t>::max(), user);
        if (user != c.user->id && !c.admin())
            throw_error(403, "forbidden", "only an admin may read another user's follow-ups");
    }
    const auto list =
        ok_or_500(app::list_followups(c.backend.followups(), user, c.options.followups, c.now));
    json::array items;
    for (const auto& f : list.items)
        items.push_back(json::object{{"thread_id", f.thread},
                                     {"subject", f.subject},
                                     {"deal", json::object{{"id", f.deal}, {"name", f.deal_name}}},
                                     {"kind", std::string(followup_kind_name(f.kind))},
                                     {"since", f.since},
                                     {"due_at", f.due_at}});
    send_json(c, 200,
              json::object{{"followups", std::move(items)},
                           {"total", static_cast<std::int64_t>(list.items.size())},
                           {"truncated", list.truncated},
                           {"user_id", user},
                           {"policy", policy_json(c.options.followups)}});
}

// POST /threads/{id}/snooze {"until": unix time | null}: out of the viewer's follow-up list
// until then (null: back now).
void snooze(Ctx& c, ThreadId id) {
    auto body = body_object(c);
    only_fields(body, {"until"});
    auto v = c.viewer();
    if (!ok_or_500(c.backend.reads().thread_visible(v, id)))
        not_found(fmt::format("thread {}", id));
    const auto until = opt_int(body, "until");
    if (until && (*until <= c.now || *until > c.now + kMaxSnoozeSeconds))
        invalid("until", "must be a time in the next 366 days (Unix seconds), or null to lift "
                         "the snooze");
    ok_or_500(c.backend.work().transaction(
        [&] { return c.backend.followups().snooze(c.user->id, id, until, c.now); }));
    send_json(c, 200, json::object{{"thread_id", id}, {"snoozed_until", opt_json(until)}});
}

void settings_reply(Ctx& c, DealId id, const DealFollowupSettings& s) {
    send_json(c, 200,
              json::object{{"deal_id", id},
                           {"awaiting_days", opt_int_json(s.awaiting_days)},
                           {"answer_hours", opt_int_json(s.answer_hours)},
                           {"defaults", policy_json(c.options.followups)}});
}

// A setting of the body: absent or null is the default; else an integer in [lo, hi].
std::optional<int> setting(const json::object& body, const char* field, int lo, int hi,
                           const char* unit) {
    const auto v = opt_int(body, field);
    if (v && (*v < lo || *v > hi))
        invalid(field, fmt::format("must be {}..{} {}, or null for the default", lo, hi, unit));
    return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
}

// GET/PUT /deals/{id}/followups: the deal's own periods. Changing them is for the deal's owner
// and admins.
void deal_settings(Ctx& c, DealId id) {
    auto v = c.viewer();
    auto& ws = c.backend.reads();
    if (c.req.method == "GET") {
        if (!ok_or_500(ws.deal_visible(v, id)))
            not_found(fmt::format("deal {}", id));
        settings_reply(c, id, ok_or_500(c.backend.followups().deal_settings(id)));
        return;
    }
    if (c.req.method != "PUT")
        throw_error(405, "method_not_allowed", "use GET or PUT on " + c.path);
    auto body = body_object(c);
    only_fields(body, {"awaiting_days", "answer_hours"});
    const DealFollowupSettings s{
        setting(body, "awaiting_days", kMinAwaitingDays, kMaxAwaitingDays, "business days"),
        setting(body, "answer_hours", kMinAnswerHours, kMaxAnswerHours, "hours")};
    const auto deal = ok_or_500(ws.deal(v, id));
    if (!deal)
        not_found(fmt::format("deal {}", id));
    if (!c.admin() && deal->owner != std::optional<UserId>(c.user->id))
        throw_error(403, "forbidden",
                    "only the deal's owner or an admin may change its follow-ups");
    ok_or_raise(c.backend.work().transaction(
        [&] { return c.backend.followups().set_deal_settings(id, s, c.user->id, c.now); }));
    settings_reply(c, id, s);
}

} // namespace

bool route_followups(Ctx& c) {
    const auto& s = c.seg;
    if (s.empty())
        return false;
    if (s[0] == "followups" && s.size() == 1 && wants(c, "GET", 1)) {
        followups_list(c);
    } else if (s[0] == "threads" && s.size() == 3 && s[2] == "snooze" && wants(c, "POST", 3)) {
        snooze(c, id_segment(s[1], "thread"));
    } else if (s[0] == "deals" && s.size() == 3 && s[2] == "followups") {
        deal_settings(c, id_segment(s[1], "deal"));
    } else {
        return false;
    }
    return true;
}

} // namespace crm::http
