#pragma once
// Private to the http module: the request context the handlers share, errors, JSON helpers.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "crm/core/backend.hpp"
#include "crm/http/api.hpp"
#include "html_cache.hpp"

namespace crm::http {

namespace json = boost::json;

// Thrown by handlers, caught once in Api::handle and turned into the JSON error body. Confined
// to this module: nothing throws across its interface.
struct HttpError {
    int status = 400;
    std::string code, message, field;
    std::size_t position = 0; // a malformed search query: the character (from 1), else 0
};

[[noreturn]] inline void throw_error(int status, std::string code, std::string message,
                                     std::string field = {}) {
    throw HttpError{status, std::move(code), std::move(message), std::move(field)};
}
[[noreturn]] inline void not_found(const std::string& what) {
    throw_error(404, "not_found", what + " not found");
}
[[noreturn]] inline void invalid(const std::string& field, const std::string& why) {
    throw_error(422, "invalid", field + ": " + why, field);
}

// A store failure is a 500 naming what failed (the detail is logged by the server, too).
template <class T> T ok_or_500(Result<T> r) {
    if (!r)
        throw_error(500, "internal", r.error().detail);
    if constexpr (!std::is_void_v<T>)
        return std::move(*r);
}

// An error of a use case (app) as the API answers it: its code says what kind of refusal it is
// (app/thread_actions.hpp, app/reply.hpp); anything else is a 500.
[[noreturn]] void raise_error(const Error& e);
template <class T> T ok_or_raise(Result<T> r) {
    if (!r)
        raise_error(r.error());
    if constexpr (!std::is_void_v<T>)
        return std::move(*r);
}

struct Ctx {
    const Request& req;
    Response& res;
    Backend& backend;
    std::string path;                          // without the query
    std::vector<std::string> seg;              // path segments after /api/v1
    std::map<std::string, std::string> query;  // decoded
    std::optional<WebUser> user;               // authenticated
    bool by_cookie = false;
    std::int64_t now = 0;
    Control& control;
    const ApiOptions& options;
    std::string client; // the peer, or the client behind a trusted proxy (X-Forwarded-For)
    HtmlCache* html_cache = nullptr;

    [[nodiscard]] Viewer viewer() const {
        return Viewer{user ? user->id : 0, user && user->role == Role::Admin};
    }
    [[nodiscard]] bool admin() const { return user && user->role == Role::Admin; }
};

// Responses.
void send_json(Ctx& c, int status, const json::value& v);

// Request bodies: a JSON object (415 unless application/json, 400 for bad JSON).
json::object body_object(const Ctx& c);
// 422 naming the first member of `o` that is not in `allowed` (prefix "imap." for nested ones).
void only_fields(const json::object& o, std::initializer_list<std::string_view> allowed,
                 const std::string& prefix = {});
std::optional<std::string> opt_string(const json::object& o, const char* field,
                                      std::size_t max_len);
std::string req_string(const json::object& o, const char* field, std::size_t max_len);
std::optional<std::int64_t> opt_int(const json::object& o, const char* field);
std::optional<bool> opt_bool(const json::object& o, const char* field);
std::vector<std::string> opt_string_list(const json::object& o, const char* field,
                                         std::size_t max_items, std::size_t max_len);
std::int64_t id_segment(const std::string& s, const char* what);
// The query parameter `name` as a number in [min, max] (422 naming it otherwise); absent: fallback.
std::int64_t query_int(const Ctx& c, const char* name, std::int64_t min, std::int64_t max,
                       std::int64_t fallback);

// JSON shapes (docs/openapi.yaml components).
json::value opt_json(const std::optional<std::int64_t>& v);
json::object user_json(const WebUser& u);
json::object thread_json(ReadModel& ws, const Viewer& v, const ThreadSummary& t);
json::object deal_json(const WebDeal& d);
json::object preferences_json(const PagePreferences& p); // {locale, time_zone}
json::object search_result_object(const app::SearchResult& r);

// True when the path has `n` segments; then a method other than `method` (HEAD counts as GET)
// is a 405.
inline bool wants(const Ctx& c, const char* method, std::size_t n) {
    if (c.seg.size() != n)
        return false;
    if (c.req.method != method && !(std::string_view(method) == "GET" && c.req.method == "HEAD"))
        throw_error(405, "method_not_allowed", fmt::format("use {} on {}", method, c.path));
    return true;
}

// Route groups; each returns false when the path is not theirs.
bool route_views(Ctx& c);
bool route_followups(Ctx& c);
bool route_compose(Ctx& c);
bool route_activity(Ctx& c);
bool route_html(Ctx& c);
bool route_admin(Ctx& c);

// Plain text helpers.
// Where the quoted tail of a plain-text body starts, in Unicode code points; nullopt: none.
std::optional<std::size_t> quoted_tail_offset(std::string_view text);

// Remote images in a message's HTML (what the page announces as blocked).
// A message's HTML body as shown (sanitised, cid: images resolved to its attachments, remote
// images blocked unless `images`), from the cache after the first time.
std::shared_ptr<const SafeHtml> safe_html(Ctx& c, MessageRowId id, const std::string& content_hash,
                                          const std::string& html, bool images);

} // namespace crm::http
