// Activity per deal and per salesperson (issue 20; crm/core/activity.hpp):
//   GET /deals/{id}/activity?weeks=12   the deal's weeks, response times, last contact, open
//                                        follow-ups
//   GET /reports/activity?from=&to=[&format=csv]
//                                        per salesperson (a salesperson: their own row)
#include <algorithm>
#include <ctime>
#include <limits>
#include <map>
#include <set>

#include "crm/app/followups.hpp"
#include "crm/core/search_query.hpp"
#include "internal.hpp"

namespace crm::http {

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kMaxReportDays = 366;

json::value opt_value(const std::optional<std::int64_t>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::object figures_json(const ActivityFigures& f) {
    json::array weeks;
    for (const auto& w : f.weeks)
        weeks.push_back(json::object{{"week", w.week}, {"in", w.in}, {"out", w.out}});
    return {{"weeks", std::move(weeks)},
            {"in", f.in},
            {"out", f.out},
            {"responses", f.responses},
            {"first_response_seconds", opt_value(f.first_response_seconds)},
            {"average_response_seconds", opt_value(f.average_response_seconds)},
            {"last_contact", opt_value(f.last_contact)},
            {"open_followups", f.open_followups}};
}

void deal_activity(Ctx& c, DealId id) {
    if (!ok_or_500(c.backend.reads().deal_visible(c.viewer(), id)))
        not_found(fmt::format("deal {}", id));
    const std::int64_t weeks = query_int(c, "weeks", 1, 104, 12);
    const std::int64_t to = week_start(c.now) + kWeek;
    const std::int64_t from = to - weeks * kWeek;
    const auto messages = ok_or_500(c.backend.activity().deal_messages(id));
    const auto settings = ok_or_500(c.backend.followups().deal_settings(id));
    auto out =
        figures_json(activity_figures(messages, from, to, c.now, c.options.followups, settings));
    out["deal_id"] = id;
    out["from"] = from;
    out["to"] = to;
    send_json(c, 200, out);
}

// A day query parameter as Unix seconds (00:00 UTC); absent: `fallback`.
std::int64_t day_param(const Ctx& c, const char* name, std::int64_t fallback) {
    auto it = c.query.find(name);
    if (it == c.query.end())
        return fallback;
    auto day = parse_day(it->second);
    if (!day)
        invalid(name, "must be a day as YYYY-MM-DD (from 1970)");
    return *day;
}

std::string iso_time(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// One CSV field (RFC 4180), never read by a spreadsheet as a formula.
std::string csv_field(std::string v) {
    if (!v.empty() && std::string_view("=+-@\t\r").find(v.front()) != std::string_view::npos)
        v.insert(v.begin(), '\'');
    if (v.find_first_of(",\"\r\n") == std::string::npos)
        return v;
    std::string out = "\"";
    for (char ch : v) {
        if (ch == '"')
            out += '"';
        out += ch;
    }
    return out + "\"";
}

struct ReportRow {
    UserId user = 0;
    std::string name;
    std::int64_t deals = 0;
    ActivityFigures figures;
};

void report(Ctx& c) {
    const std::int64_t today = c.now - ((c.now % kDay) + kDay) % kDay;
    const std::int64_t to_day = day_param(c, "to", today);
    const std::int64_t from = day_param(c, "from", to_day - 29 * kDay);
    if (from > to_day)
        invalid("from", "must not be after to");
    if ((to_day - from) / kDay + 1 > kMaxReportDays)
        invalid("to", fmt::format("a report covers at most {} days", kMaxReportDays));
    const std::int64_t to = to_day + kDay; // the whole of the last day
    std::string format = "json";
    if (auto f = c.query.find("format"); f != c.query.end()) {
        if (f->second != "json" && f->second != "csv")
            invalid("format", "must be json or csv");
        format = f->second;
    }
    // A salesperson sees their own row; an admin everyone's (or one user's with ?user=).
    std::optional<UserId> only;
    if (!c.admin())
        only = c.user->id;
    if (c.query.contains("user")) {
        const auto u = query_int(c, "user", 1, std::numeric_limits<std::int64_t>::max(), 0);
        if (!c.admin() && u != c.user->id)
            throw_error(403, "forbidden", "only an admin may read another user's activity");
        only = u;
    }
    const auto messages = ok_or_500(c.backend.activity().owner_messages(only, from, to));
    // Every deal owner has a row, mail in the range or not (their open follow-ups count).
    std::map<UserId, std::vector<ActivityMessage>> by_owner;
    if (only)
        by_owner[*only];
    else
        for (const UserId u : ok_or_500(c.backend.followups().deal_owners()))
            by_owner[u];
    for (const auto& m : messages)
        if (m.owner)
            by_owner[*m.owner].push_back(m);
    std::vector<ReportRow> rows;
    for (auto& [user, list] : by_owner) {
        ReportRow r;
        r.user = user;
        if (auto u = ok_or_500(c.backend.logins().user(user)))
            r.name = u->name;
        std::set<DealId> deals;
        for (const auto& m : list)
            deals.insert(m.deal);
        r.deals = static_cast<std::int64_t>(deals.size());
        r.figures = activity_figures(list, from, to, c.now, c.options.followups, {});
        // Open follow-ups: the user's own list now (their deals' periods, their snoozes).
        r.figures.open_followups = static_cast<std::int64_t>(
            ok_or_500(app::list_followups(c.backend.followups(), user, c.options.followups, c.now))
                .items.size());
        rows.push_back(std::move(r));
    }
    if (format == "csv") {
        std::string out = "user_id,name,deals,messages_in,messages_out,responses,"
                          "first_response_seconds,average_response_seconds,last_contact,"
                          "open_followups\r\n";
        auto num = [](const std::optional<std::int64_t>& v) {
            return v ? std::to_string(*v) : std::string();
        };
        for (const auto& r : rows)
            out += fmt::format("{},{},{},{},{},{},{},{},{},{}\r\n", r.user, csv_field(r.name),
                               r.deals, r.figures.in, r.figures.out, r.figures.responses,
                               num(r.figures.first_response_seconds),
                               num(r.figures.average_response_seconds),
                               r.figures.last_contact ? iso_time(*r.figures.last_contact) : "",
                               r.figures.open_followups);
        c.res.status = 200;
        c.res.set("Content-Type", "text/csv; charset=utf-8");
        c.res.set("Content-Disposition", fmt::format("attachment; filename=\"activity-{}-{}.csv\"",
                                                     utc_day(from), utc_day(to_day)));
        c.res.set("Cache-Control", "private, no-store");
        c.res.body = std::move(out);
        return;
    }
    json::array arr;
    for (const auto& r : rows) {
        auto o = figures_json(r.figures);
        o.erase("weeks");
        o["user_id"] = r.user;
        o["name"] = r.name;
        o["deals"] = r.deals;
        arr.push_back(std::move(o));
    }
    send_json(
        c, 200,
        json::object{{"from", utc_day(from)}, {"to", utc_day(to_day)}, {"rows", std::move(arr)}});
}

} // namespace

bool route_activity(Ctx& c) {
    const auto& s = c.seg;
    if (s.size() == 3 && s[0] == "deals" && s[2] == "activity" && wants(c, "GET", 3)) {
        deal_activity(c, id_segment(s[1], "deal"));
    } else if (s.size() == 2 && s[0] == "reports" && s[1] == "activity" && wants(c, "GET", 2)) {
        report(c);
    } else {
        return false;
    }
    return true;
}

} // namespace crm::http
