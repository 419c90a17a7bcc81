// Fuzzes the API's JSON request bodies and query parameters, endpoint by endpoint, as an admin
// or a salesperson: whatever the body, the answer is a well-formed client error or success,
// never a 500 (bad input is the client's fault and must be named, not crash a handler), and every
// JSON answer parses; an error names its code.
//
// Input: byte 0 picks the endpoint (low 4 bits) and the caller (bit 4: the salesperson); the rest
// is the request body, or for GET endpoints the query string.
#include <boost/json.hpp>

#include "api_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static crm_fuzz::ApiFixture f("crm_api_body_fuzz");
    if (size == 0)
        return 0;
    const auto pick = data[0];
    const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto t = std::to_string(f.thread), m = std::to_string(f.message);
    struct Endpoint {
        const char* method;
        std::string path;
        bool query;
    };
    const Endpoint endpoints[] = {
        {"POST", "/api/v1/threads/" + t + "/reply", false},
        {"POST", "/api/v1/threads/" + t + "/link", false},
        {"POST", "/api/v1/threads/" + t + "/read", false},
        {"POST", "/api/v1/messages/" + m + "/split", false},
        {"POST", "/api/v1/accounts", false},
        {"PATCH", "/api/v1/accounts/a", false},
        {"DELETE", "/api/v1/threads/" + t + "/link", false},
        {"GET", "/api/v1/threads/" + t, true},
        {"GET", "/api/v1/deals", true},
        {"GET", "/api/v1/unsorted", true},
        {"GET", "/api/v1/messages/" + m + "/html", true},
        {"GET", "/api/v1/deals/7/threads", true},
    };
    const auto& e = endpoints[(pick & 0x0f) % std::size(endpoints)];
    crm::http::Request r;
    r.method = e.method;
    r.target = e.query ? e.path + "?" + rest : e.path;
    r.peer = "127.0.0.1";
    r.headers = {{"host", "127.0.0.1:8025"},
                 {"authorization", "Bearer " + ((pick & 0x10) ? f.sales_token : f.admin_token)}};
    if (!e.query) {
        r.headers.emplace_back("content-type", "application/json");
        r.body = rest;
    }
    auto res = f.api->handle(r);
    if (res.status < 200 || res.status > 599 || res.status == 500)
        std::abort();
    const auto type = res.header("Content-Type").value_or("");
    if (std::string_view(type).starts_with("application/json")) {
        boost::system::error_code ec;
        auto v = boost::json::parse(res.body, ec);
        if (ec || !v.is_object())
            std::abort();
        if (res.status >= 400) {
            const auto* err = v.as_object().if_contains("error");
            if (!err || !err->is_object() || !err->as_object().if_contains("code") ||
                !err->as_object().at("code").is_string())
                std::abort();
        }
    } else if (res.status >= 400) {
        std::abort(); // API errors are JSON
    }
    return 0;
}
