// Fuzzes the API's request handling (Host/Origin checks, path and query decoding, routing, JSON
// bodies, validation) against a small database: every request gets a well-formed answer with a
// status in 200..599 and a JSON body for API errors; nothing crashes.
//
// Input: "METHOD TARGET\n" then header lines "name: value\n" until an empty line, then the body.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "crm/http/api.hpp"
#include "crm/http/auth.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"
#include "crm/store/web_store.hpp"

namespace {

class NoControl final : public crm::http::Control {
  public:
    std::vector<crm::settings::AccountConfig> accounts() override { return {}; }
    crm::Result<void> save_account(const crm::settings::AccountConfig&,
                                   const crm::http::AccountSecrets&) override {
        return {};
    }
    std::vector<crm::http::ServerTest> test_account(const crm::settings::AccountConfig&) override {
        return {};
    }
    crm::Result<void> resync(const std::string&) override { return {}; }
    void outbox_changed() override {}
    std::string metrics() override { return {}; }
};

struct Fixture {
    std::string path;
    NoControl control;
    std::unique_ptr<crm::http::Api> api;
    std::string token;
    Fixture() {
        path = (std::filesystem::temp_directory_path() /
                ("crm_http_fuzz_" + std::to_string(::getpid()) + ".db"))
                   .string();
        std::filesystem::remove(path);
        auto db = crm::store::Database::open(path);
        if (!db || !(*db)->migrate())
            std::abort();
        crm::store::WebStore ws(**db);
        token = "fuzz-token";
        // A user with a token, so routes past authentication are reached too.
        crm::store::Store s(**db);
        (void)s.upsert_user({1, "Fuzz", "fuzz@example.com", "fuzz@example.com", "admin"}, 0);
        (void)ws.create_token(1, "fuzz", crm::http::token_hash(token), 0);
        crm::http::ApiOptions o;
        o.port = 8025;
        o.now = [] { return std::int64_t{1'700'000'000}; };
        api = std::make_unique<crm::http::Api>(
            o, [p = path] { return crm::store::Database::open(p); }, control);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture f;
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
            r.headers.emplace_back("authorization", "Bearer " + f.token);
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
    if (res.status >= 400 && res.body.find("\"error\"") == std::string::npos)
        std::abort();
    return 0;
}
