#pragma once
// Shared by the pg tests that need a server: each test works in a schema of its own (its
// search_path), so the tests of one ctest run can go in parallel against one server.

#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "crm/pg/connection.hpp"

namespace crm::pg::test {

// Set by the ctest fixture (tests/unit/pg/CMakeLists.txt); nullptr when the binary runs by hand.
inline const char* server_url() {
    return std::getenv("CRM_TEST_PG_URL");
}

class PgTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* url = server_url();
        if (!url)
            GTEST_SKIP() << "CRM_TEST_PG_URL is not set: run through ctest, whose fixture starts "
                            "a server (tests/integration/postgres/pg.sh)";
        url_ = url;
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string(info->test_suite_name()) + "_" + info->name();
        name = name.substr(0, 40);
        schema_ = "t_";
        for (char ch : name)
            schema_ += std::isalnum(static_cast<unsigned char>(ch))
                           ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                           : '_';
        schema_ += "_" + std::to_string(::getpid());
        auto c = Connection::connect(url_);
        ASSERT_TRUE(c) << c.error().to_string();
        conn_.emplace(std::move(*c));
        ASSERT_TRUE(db().execute_script("DROP SCHEMA IF EXISTS " + schema_ +
                                        " CASCADE; CREATE SCHEMA " + schema_ +
                                        "; SET search_path TO " + schema_));
    }
    void TearDown() override {
        if (conn_ && conn_->ok())
            (void)conn_->execute_script("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE");
    }

    // Another session in this test's schema.
    Result<Connection> connect() {
        auto c = Connection::connect(url_);
        if (!c)
            return c;
        if (auto s = c->execute_script("SET search_path TO " + schema_); !s)
            return std::unexpected(s.error());
        return c;
    }
    Connection& db() { return *conn_; }

    // The single value of a one-row, one-column query, as T (the test fails otherwise).
    template <class T> T value(std::string_view sql) {
        auto r = db().exec(sql);
        EXPECT_TRUE(r) << r.error().to_string();
        if (!r)
            return T{};
        auto v = r->get<T>(0, 0);
        EXPECT_TRUE(v) << v.error().to_string();
        return v ? *v : T{};
    }

    std::string url_;
    std::string schema_;
    std::optional<Connection> conn_;
};

} // namespace crm::pg::test
