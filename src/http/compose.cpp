// What a user keeps for themselves: their signature, drafts kept while typing, the page's language
// and time zone, and whom a deal's new mail may go to (the new mail and the reply themselves are
// in views.cpp).
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "crm/core/compose.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

// GET/PUT /me/signature: {"signature": text}; "" removes it.
void signature(Ctx& c) {
    auto& cs = c.backend.compose();
    if (c.req.method == "PUT") {
        auto body = body_object(c);
        only_fields(body, {"signature"});
        auto s = opt_string(body, "signature", kMaxSignatureBytes);
        if (!s)
            invalid("signature", "is required (\"\" removes it)");
        if (s->find('\0') != std::string::npos)
            invalid("signature", "contains NUL");
        ok_or_500(
            c.backend.work().transaction([&] { return cs.set_signature(c.user->id, *s, c.now); }));
    } else if (c.req.method != "GET" && c.req.method != "HEAD") {
        throw_error(405, "method_not_allowed", "use GET or PUT on " + c.path);
    }
    send_json(c, 200, json::object{{"signature", ok_or_500(cs.signature(c.user->id))}});
}

// Whether the time zone database of this host knows `zone` (checked in form already): a TZif
// file under /usr/share/zoneinfo, not one of its "posix/" or "right/" copies (leap seconds) nor
// another file there. A host without the database (no tzdata) accepts any well-formed name: the
// browser checks it again.
bool known_zone(const std::string& zone) {
    static const std::filesystem::path kZoneInfo = "/usr/share/zoneinfo";
    std::error_code ec;
    if (!std::filesystem::is_directory(kZoneInfo, ec))
        return true;
    if (zone.starts_with("posix/") || zone.starts_with("right/") || zone == "posixrules" ||
        zone == "localtime" || zone == "Factory")
        return false;
    std::ifstream in(kZoneInfo / zone, std::ios::binary);
    char magic[4] = {};
    return std::filesystem::is_regular_file(kZoneInfo / zone, ec) && in.read(magic, 4) &&
           std::string_view(magic, 4) == "TZif";
}

// GET/PUT /me/settings: {"locale": "en"|"ro"|"", "time_zone": IANA name|""}; "" is the
// browser's. A language the page does not have is a 422 naming `locale` and the ones it has.
void settings(Ctx& c) {
    auto& cs = c.backend.compose();
    if (c.req.method == "PUT") {
        auto body = body_object(c);
        only_fields(body, {"locale", "time_zone"});
        PagePreferences p;
        p.locale = opt_string(body, "locale", 64).value_or("");
        p.time_zone = opt_string(body, "time_zone", 128).value_or("");
        if (auto ok = check_page_preferences(p); !ok)
            invalid(ok.error().code.substr(std::string_view("settings.invalid.").size()),
                    ok.error().detail);
        if (!p.time_zone.empty() && !known_zone(p.time_zone))
            invalid("time_zone", fmt::format("'{}' is not in the time zone database", p.time_zone));
        ok_or_500(
            c.backend.work().transaction([&] { return cs.set_preferences(c.user->id, p, c.now); }));
    } else if (c.req.method != "GET" && c.req.method != "HEAD") {
        throw_error(405, "method_not_allowed", "use GET or PUT on " + c.path);
    }
    json::object out = preferences_json(ok_or_500(cs.preferences(c.user->id)));
    json::array langs;
    for (auto l : kPageLocales)
        langs.emplace_back(l);
    out["locales"] = std::move(langs);
    send_json(c, 200, out);
}

// GET /drafts: the user's drafts, newest first (keys and times).
void draft_list(Ctx& c) {
    json::array a;
    for (const auto& d : ok_or_500(c.backend.compose().drafts(c.user->id)))
        a.push_back(json::object{{"key", d.key}, {"updated_at", d.updated_at}});
    send_json(c, 200, json::object{{"drafts", std::move(a)}});
}

// GET/PUT/DELETE /drafts/{key}: one draft, {"content": {...}, "updated_at": t}. The content is
// the page's object of fields; only its user reads it back.
void draft(Ctx& c, const std::string& key) {
    if (!draft_key(key))
        not_found(fmt::format("draft '{}' (keys are thread-ID or deal-ID)", key.substr(0, 40)));
    auto& cs = c.backend.compose();
    const UserId user = c.user->id;
    if (c.req.method == "GET" || c.req.method == "HEAD") {
        auto d = ok_or_500(cs.draft(user, key));
        if (!d)
            not_found(fmt::format("draft {}", key));
        boost::system::error_code ec;
        auto content = json::parse(d->content, ec);
        send_json(c, 200,
                  json::object{{"key", key},
                               {"content", ec ? json::value(json::object{}) : std::move(content)},
                               {"updated_at", d->updated_at}});
    } else if (c.req.method == "PUT") {
        if (c.req.body.size() > kMaxDraftBytes)
            throw_error(413, "too_large",
                        fmt::format("a draft may have at most {} bytes", kMaxDraftBytes),
                        "content");
        auto body = body_object(c);
        only_fields(body, {"content"});
        auto it = body.find("content");
        if (it == body.end() || !it->value().is_object())
            invalid("content", "is required (an object of the fields typed)");
        const std::string content = json::serialize(it->value());
        ok_or_raise(
            c.backend.work().transaction([&] { return cs.put_draft(user, key, content, c.now); }));
        send_json(c, 200, json::object{{"key", key}, {"updated_at", c.now}});
    } else if (c.req.method == "DELETE") {
        const bool gone =
            ok_or_500(in_transaction(c.backend.work(), [&] { return cs.delete_draft(user, key); }));
        if (!gone)
            not_found(fmt::format("draft {}", key));
        send_json(c, 200, json::object{{"key", key}, {"deleted", true}});
    } else {
        throw_error(405, "method_not_allowed", "use GET, PUT or DELETE on " + c.path);
    }
}

// GET /deals/{id}/recipients: the deal's contacts' addresses, for a new mail's To.
void recipients(Ctx& c, DealId id) {
    if (!ok_or_500(c.backend.reads().deal_visible(c.viewer(), id)))
        not_found(fmt::format("deal {}", id));
    json::array a;
    for (const auto& r : ok_or_500(c.backend.compose().deal_recipients(id)))
        a.push_back(
            json::object{{"contact_id", r.contact}, {"name", r.name}, {"address", r.address}});
    send_json(c, 200, json::object{{"deal_id", id}, {"recipients", std::move(a)}});
}

} // namespace

json::object preferences_json(const PagePreferences& p) {
    return {{"locale", p.locale}, {"time_zone", p.time_zone}};
}

bool route_compose(Ctx& c) {
    const auto& s = c.seg;
    if (s.empty())
        return false;
    if (s[0] == "me" && s.size() == 2 && s[1] == "signature") {
        signature(c);
    } else if (s[0] == "me" && s.size() == 2 && s[1] == "settings") {
        settings(c);
    } else if (s[0] == "drafts" && wants(c, "GET", 1)) {
        draft_list(c);
    } else if (s[0] == "drafts" && s.size() == 2) {
        draft(c, s[1]);
    } else if (s[0] == "deals" && s.size() == 3 && s[2] == "recipients" && wants(c, "GET", 3)) {
        recipients(c, id_segment(s[1], "deal"));
    } else {
        return false;
    }
    return true;
}

} // namespace crm::http
