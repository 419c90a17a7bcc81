// crm-mailctl: the admin and import tool of crm-mail.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"

namespace {

void print_overview() {
    fmt::print("crm-mailctl {} - administer crm-mail\n\n"
               "Usage: crm-mailctl [--config FILE] [--db PATH] COMMAND [ARGS] [--help]\n\n"
               "Global options:\n"
               "  --config FILE  the daemon's configuration (default: $CRM_MAIL_CONFIG, else\n"
               "                 /etc/crm-mail/crm-mail.toml)\n"
               "  --db PATH   the database (default: $CRM_MAIL_DB, else the config's\n"
               "              database.path when the config is readable, else\n"
               "              /var/lib/crm-mail/crm-mail.db)\n"
               "  --help      help for crm-mailctl or for a command\n"
               "  --version   print the version\n\nCommands:\n",
               CRM_VERSION);
    for (const auto& c : crm::ctl::commands()) {
        std::string name = fmt::format("{}", fmt::join(c.words, " "));
        fmt::print("  {:<22} {}\n", name, c.help.substr(0, c.help.find('\n')));
    }
    fmt::print("\nExit codes: 0 ok, 1 runtime error, 2 usage error.\n");
}

} // namespace

int main(int argc, char** argv) {
    using namespace crm::ctl;
    std::vector<std::string> args(argv + 1, argv + argc);
    Context ctx;
    bool db_given = false;
    if (const char* env = std::getenv("CRM_MAIL_DB"); env && *env) {
        ctx.db_path = env;
        db_given = true;
    } else {
        ctx.db_path = "/var/lib/crm-mail/crm-mail.db";
    }
    if (const char* env = std::getenv("CRM_MAIL_CONFIG"); env && *env)
        ctx.config_path = env;
    else
        ctx.config_path = "/etc/crm-mail/crm-mail.toml";

    // Global options come before the command.
    std::size_t i = 0;
    for (; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a == "--db") {
            if (i + 1 >= args.size()) {
                fmt::print(stderr, "crm-mailctl: --db needs a value\n");
                return kUsage;
            }
            ctx.db_path = args[++i];
            db_given = true;
        } else if (a.starts_with("--db=")) {
            ctx.db_path = a.substr(5);
            db_given = true;
        } else if (a == "--config") {
            if (i + 1 >= args.size()) {
                fmt::print(stderr, "crm-mailctl: --config needs a value\n");
                return kUsage;
            }
            ctx.config_path = args[++i];
        } else if (a.starts_with("--config=")) {
            ctx.config_path = a.substr(9);
        } else if (a == "--help" || a == "-h") {
            print_overview();
            return kOk;
        } else if (a == "--version") {
            fmt::print("crm-mailctl {}\n", CRM_VERSION);
            return kOk;
        } else if (a.starts_with("-")) {
            fmt::print(stderr, "crm-mailctl: unknown option {} (see --help)\n", a);
            return kUsage;
        } else {
            break;
        }
    }
    // Without --db or $CRM_MAIL_DB the database is the one the daemon uses.
    if (!db_given) {
        if (auto db = config_database(ctx.config_path)) {
            ctx.db_path = db->path;
            if (db->postgresql())
                ctx.pg = std::move(*db);
        }
    } else if (ctx.db_path.starts_with("postgresql://") || ctx.db_path.starts_with("postgres://")) {
        // The password comes from libpq's own sources ($PGPASSWORD, ~/.pgpass, a service file)
        // or, for the config's own database, from its password source.
        crm::settings::DatabaseConfig given;
        given.url = ctx.db_path;
        if (auto db = config_database(ctx.config_path); db && db->url == given.url)
            given.password = db->password;
        ctx.pg = std::move(given);
    }
    std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    if (rest.empty()) {
        print_overview();
        return kUsage;
    }
    // The longest command whose words prefix the arguments.
    const Command* best = nullptr;
    for (const auto& c : commands()) {
        if (c.words.size() > rest.size())
            continue;
        bool match = true;
        for (std::size_t w = 0; w < c.words.size(); ++w)
            match = match && rest[w] == c.words[w];
        if (match && (!best || c.words.size() > best->words.size()))
            best = &c;
    }
    if (!best) {
        std::vector<std::string> subs;
        for (const auto& c : commands())
            if (c.words.front() == rest.front())
                subs.push_back(fmt::format("{}", fmt::join(c.words, " ")));
        if (!subs.empty())
            fmt::print(stderr, "crm-mailctl: '{}' needs one of: {}\n", fmt::join(rest, " "),
                       fmt::join(subs, ", "));
        else
            fmt::print(stderr, "crm-mailctl: unknown command '{}' (see --help)\n", rest.front());
        return kUsage;
    }
    std::vector<std::string> cargs(rest.begin() + static_cast<std::ptrdiff_t>(best->words.size()),
                                   rest.end());
    for (const auto& a : cargs)
        if (a == "--help" || a == "-h") {
            fmt::print("Usage: crm-mailctl [--config FILE] [--db PATH] {} {}\n\n{}\n",
                       fmt::join(best->words, " "), best->usage, best->help);
            return kOk;
        }
    try {
        return best->run(ctx, cargs);
    } catch (const UsageError& e) {
        fmt::print(stderr, "crm-mailctl {}: {}\nUsage: crm-mailctl {} {}\n",
                   fmt::join(best->words, " "), e.message, fmt::join(best->words, " "),
                   best->usage);
        return kUsage;
    } catch (const std::exception& e) {
        fmt::print(stderr, "crm-mailctl: internal error: {}\n", e.what());
        return kRuntime;
    }
}
