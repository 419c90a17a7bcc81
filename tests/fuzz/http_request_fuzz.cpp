// Fuzzes the API's request handling (Host/Origin checks, path and query decoding, routing, JSON
// bodies, validation) against a small database: every request gets a well-formed answer with a
// status in 200..599 and a JSON body for API errors (the OAuth redirect's error is an HTML page
// without markup from the request); nothing crashes.
//
// Input: "METHOD TARGET\n" then header lines "name: value\n" until an empty line, then the body.
#include <string>
#include <string_view>

#include "api_fixture.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static crm_fuzz::ApiFixture f("crm_http_fuzz");
    std::string_view in(reinterpret_cast<const char*>(data), size);
    crm::http::Request r;
    auto line_end = in.find('\n');
    auto first = in.substr(0, line_end);
    auto sp = first.find(' ');
    r.method = std::string(first.substr(0, sp));
    r.target = sp == std::string_view::npos ? "/" : std::string(first.substr(sp + 1));
    in.remove_prefix(line_end == std::string_view::npos ? in.size() : line_end + 1);
    bool host = false;
    while (!in.empty()) {
        auto e = in.find('\n');
        auto l = in.substr(0, e);
        in.remove_prefix(e == std::string_view::npos ? in.size() : e + 1);
        if (l.empty())
            break;
        auto colon = l.find(':');
        std::string name(l.substr(0, colon));
        for (auto& ch : name)
            if (ch >= 'A' && ch <= 'Z')
                ch = static_cast<char>(ch - 'A' + 'a');
        std::string value(colon == std::string_view::npos ? "" : l.substr(colon + 1));
        while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        if (name == "x-token")
            r.headers.emplace_back("authorization", "Bearer " + f.admin_token);
        else
            r.headers.emplace_back(name, value);
        host = host || name == "host";
    }
    if (!host)
        r.headers.emplace_back("host", "127.0.0.1:8025");
    r.body = std::string(in);
    r.peer = "127.0.0.1";
    auto res = f.api->handle(r);
    if (res.status < 200 || res.status > 599)
        std::abort();
    // API errors are JSON. The OAuth redirect's answer is a page for the admin's browser (a
    // refused redirect is a 400 page): it is HTML, with the text escaped.
    const bool page = res.header("Content-Type").value_or("").starts_with("text/html");
    if (res.status >= 400 && !page && res.body.find("\"error\"") == std::string::npos)
        std::abort();
    if (page && res.status >= 400 && res.body.find("<script") != std::string::npos)
        std::abort();
    return 0;
}
