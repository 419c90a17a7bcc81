#pragma once
// The API under fuzzing: a throwaway database with an admin (user 1, token "fuzz-token"), a
// salesperson (user 2, token "fuzz-token-2"), a deal, and a thread of two messages in user 2's
// mail; a Control that knows one account ("a") and succeeds at everything.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "crm/app/ingest.hpp"
#include "crm/core/clock.hpp"
#include "crm/http/api.hpp"
#include "crm/http/auth.hpp"
#include "crm/mime/parse.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"
#include "crm/store/web_store.hpp"

namespace crm_fuzz {

class NoControl final : public crm::http::Control {
  public:
    std::vector<crm::AccountConfig> accounts() override {
        crm::AccountConfig a;
        a.name = "a";
        a.owner_id = 2;
        a.address = "sales@team.example";
        a.imap.host = "imap.team.example";
        a.imap.username = "sales";
        a.imap.secret = crm::SecretRef{crm::SecretRef::Kind::File, "/x/a"};
        return {a};
    }
    crm::Result<void> save_account(const crm::AccountConfig&,
                                   const crm::http::AccountSecrets&) override {
        return {};
    }
    std::vector<crm::http::ServerTest> test_account(const crm::AccountConfig&) override {
        return {};
    }
    crm::Result<crm::CompletenessReport> completeness(const crm::AccountConfig&) override {
        return crm::fail("account.not_synced", "not synced");
    }
    crm::Result<void> resync(const std::string&) override { return {}; }
    void outbox_changed() override {}
    std::string metrics() override { return {}; }
};

struct ApiFixture {
    std::string path;
    NoControl control;
    crm::ManualClock clock{1'700'000'000};
    std::unique_ptr<crm::http::Api> api;
    std::string admin_token = "fuzz-token", sales_token = "fuzz-token-2";
    std::int64_t thread = 0, message = 0;

    explicit ApiFixture(const char* name) {
        path = (std::filesystem::temp_directory_path() /
                (std::string(name) + "_" + std::to_string(::getpid()) + ".db"))
                   .string();
        std::filesystem::remove(path);
        auto db = crm::store::Database::open(path);
        if (!db || !(*db)->migrate())
            std::abort();
        crm::store::Store s(**db);
        crm::store::WebStore ws(**db);
        (void)s.upsert_user({1, "Fuzz", "fuzz@example.com", "fuzz@example.com", "admin"}, 0);
        (void)s.upsert_user({2, "Sam", "sam@team.example", "sam@team.example", "salesperson"}, 0);
        (void)ws.create_token(1, "fuzz", crm::http::token_hash(admin_token), 0);
        (void)ws.create_token(2, "fuzz", crm::http::token_hash(sales_token), 0);
        crm::DealInput d;
        d.id = 7;
        d.name = "Fuzz deal";
        d.owner = 2;
        d.status = "open";
        (void)s.upsert_deal(d, 0);
        crm::app::Ingestor ing(s, s);
        for (int i = 0; i < 2; ++i) {
            const std::string raw =
                "From: Carol <carol@customer.example>\r\nTo: sam@team.example\r\n"
                "Subject: Offer\r\nMessage-ID: <fuzz-" +
                std::to_string(i) + "@customer.example>\r\n" +
                (i ? "In-Reply-To: <fuzz-0@customer.example>\r\n" : "") +
                "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nContent-Type: text/html\r\n\r\n"
                "<p>Hello <img src=\"https://t.example/x.gif\"></p>\r\n";
            crm::app::IngestSource src;
            src.raw = raw;
            src.where.source = "fuzz";
            src.where.owner = 2;
            src.owner = 2;
            auto out = ing.ingest(src, crm::mime::parse(raw), 1'700'000'000);
            if (!out)
                std::abort();
            thread = out->thread;
            message = out->message;
        }
        crm::http::ApiOptions o;
        o.port = 8025;
        o.clock = &clock;
        api = std::make_unique<crm::http::Api>(o, crm::store::backend_opener(path), control);
    }
};

} // namespace crm_fuzz
