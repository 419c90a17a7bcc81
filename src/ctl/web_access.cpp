// crm-mailctl users password, tokens create|list|revoke: who may use the thread view and API.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/http/auth.hpp"
#include "crm/store/web_store.hpp"

namespace crm::ctl {

namespace {

std::optional<std::string> read_password(const Args& a) {
    if (auto f = a.value("--password-file")) {
        std::ifstream in(*f, std::ios::binary);
        if (!in) {
            fmt::print(stderr, "crm-mailctl: cannot read {}: {}\n", *f, std::strerror(errno));
            return std::nullopt;
        }
        std::string line;
        std::getline(in, line);
        return line;
    }
    if (a.has("--password-stdin") || !::isatty(STDIN_FILENO)) {
        std::string line;
        if (!std::getline(std::cin, line))
            return std::nullopt;
        return line;
    }
    auto first = prompt_secret("New password");
    if (!first)
        return std::nullopt;
    auto again = prompt_secret("Again");
    if (!again || *again != *first) {
        fmt::print(stderr, "crm-mailctl: the two passwords differ\n");
        return std::nullopt;
    }
    return first;
}

} // namespace

int cmd_users_password(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--password-file"}, {"--password-stdin"});
    if (a.positionals().size() != 1)
        throw UsageError{"expected one USER_ID"};
    const auto user = parse_id("USER_ID", a.positionals()[0]);
    auto pw = read_password(a);
    if (!pw)
        return kRuntime;
    if (pw->size() < 8) {
        fmt::print(stderr, "crm-mailctl: a password needs at least 8 characters\n");
        return kRuntime;
    }
    auto hash = http::hash_password(*pw);
    if (!hash)
        return print_error(hash.error());
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    std::int64_t ended = 0;
    auto done = in_transaction(db->work(), [&]() -> Result<void> {
        if (auto r = db->logins().set_password_hash(user, *hash, ctx.clock->now()); !r)
            return r;
        auto n = db->logins().delete_user_sessions(user);
        if (!n)
            return std::unexpected(n.error());
        ended = *n;
        return {};
    });
    if (!done)
        return print_error(done.error());
    fmt::print("password set for user {} (Argon2id); {} open session(s) ended\n", user, ended);
    return kOk;
}

int cmd_tokens_create(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--name"}, {});
    if (a.positionals().size() != 1)
        throw UsageError{"expected one USER_ID"};
    const auto user = parse_id("USER_ID", a.positionals()[0]);
    auto name = a.value("--name").value_or("api");
    if (name.empty() || name.size() > 64)
        throw UsageError{"--name: 1 to 64 characters"};
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    const auto token = http::new_token();
    auto id = db->logins().create_token(user, name, http::token_hash(token), ctx.clock->now());
    if (!id)
        return print_error(id.error());
    // The token itself is shown once, on stdout only; the database keeps its SHA-256.
    fmt::print("{}\n", token);
    fmt::print(stderr, "token {} ({}) for user {}: use it as 'Authorization: Bearer <token>'; it "
                       "is not stored and cannot be shown again\n",
               *id, name, user);
    return kOk;
}

int cmd_tokens_list(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {"--json"});
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    auto rows = db->logins().tokens();
    if (!rows)
        return print_error(rows.error());
    if (a.has("--json")) {
        boost::json::array arr;
        for (const auto& t : *rows)
            arr.push_back(boost::json::object{
                {"id", t.id},
                {"user_id", t.user},
                {"name", t.name},
                {"created_at", t.created_at},
                {"last_used_at", t.last_used_at ? boost::json::value(*t.last_used_at) : nullptr},
                {"revoked_at", t.revoked_at ? boost::json::value(*t.revoked_at) : nullptr}});
        fmt::print("{}\n", boost::json::serialize(arr));
        return kOk;
    }
    for (const auto& t : *rows)
        fmt::print("{}\tuser {}\t{}\t{}\n", t.id, t.user, t.name,
                   t.revoked_at ? "revoked" : "active");
    return kOk;
}

int cmd_tokens_revoke(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {}, {});
    if (a.positionals().size() != 1)
        throw UsageError{"expected one TOKEN_ID"};
    const auto id = parse_id("TOKEN_ID", a.positionals()[0]);
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    auto r = db->logins().revoke_token(id, ctx.clock->now());
    if (!r)
        return print_error(r.error());
    if (!*r) {
        fmt::print(stderr, "crm-mailctl: no active token {}\n", id);
        return kRuntime;
    }
    fmt::print("token {} revoked\n", id);
    return kOk;
}

} // namespace crm::ctl
