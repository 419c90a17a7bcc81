#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crm/core/backend.hpp"
#include "crm/core/clock.hpp"
#include "crm/core/read_model.hpp"
#include "crm/settings/config.hpp"
#include "crm/store/database.hpp"
#include "crm/store/store.hpp"

namespace crm::ctl {

// Exit codes: 0 ok, 1 runtime error, 2 usage error.
inline constexpr int kOk = 0;
inline constexpr int kRuntime = 1;
inline constexpr int kUsage = 2;

// crm-mailctl acts as the operator of the host: an admin without a CRM user (app use cases).
inline constexpr Viewer kOperator{0, true};

struct Context {
    std::string db_path;
    // [database] url of the config, or --db postgresql://...: the shared PostgreSQL database
    // (`db migrate`, `db status` and `workers` work on it; the other commands on SQLite only).
    std::optional<settings::DatabaseConfig> pg;
    std::string config_path; // --config, $CRM_MAIL_CONFIG or /etc/crm-mail/crm-mail.toml
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::Store> store;
    const Clock* clock = &system_clock(); // every wall-clock read of a command
    // Opens the database and applies pending migrations; prints the error and returns false.
    // SQLite only (the commands that are not on the ports yet).
    bool open(bool migrate = true);
    // The database behind core's ports, SQLite or PostgreSQL (its schema must be current);
    // prints the error and returns null.
    Backend* backend();
    std::unique_ptr<Backend> backend_;
};

int print_error(const Error& e);
// The CRM user named by --user VALUE; nullopt (the error printed, naming `command`) when there is
// no such user or it could not be read. A VALUE that is not an id is a UsageError.
std::optional<WebUser> crm_user(Backend& backend, const std::string& value, const char* command);
// Reads a secret from the terminal without echo (the prompt goes to stderr).
std::optional<std::string> prompt_secret(const std::string& what);

using Handler = int (*)(Context&, const std::vector<std::string>&);

struct Command {
    std::vector<std::string> words; // e.g. {"thread", "show"}
    std::string usage;              // arguments after the words
    std::string help;
    Handler run;
};

const std::vector<Command>& commands();

int cmd_import(Context& ctx, const std::vector<std::string>& args);
int cmd_search(Context& ctx, const std::vector<std::string>& args);
int cmd_followups(Context& ctx, const std::vector<std::string>& args);
int cmd_db_reindex(Context& ctx, const std::vector<std::string>& args);
int cmd_resort(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_check(Context& ctx, const std::vector<std::string>& args);
int cmd_quarantine_list(Context& ctx, const std::vector<std::string>& args);
int cmd_quarantine_show(Context& ctx, const std::vector<std::string>& args);
int cmd_quarantine_retry(Context& ctx, const std::vector<std::string>& args);
int cmd_quarantine_drop(Context& ctx, const std::vector<std::string>& args);
int cmd_config_check(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_status(Context& ctx, const std::vector<std::string>& args);
int cmd_reply(Context& ctx, const std::vector<std::string>& args);
int cmd_send(Context& ctx, const std::vector<std::string>& args);
int cmd_outbox_list(Context& ctx, const std::vector<std::string>& args);
int cmd_outbox_retry(Context& ctx, const std::vector<std::string>& args);
int cmd_outbox_cancel(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_list(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_add(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_edit(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_remove(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_test(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_oauth(Context& ctx, const std::vector<std::string>& args);
int cmd_accounts_resync(Context& ctx, const std::vector<std::string>& args);
int cmd_users_password(Context& ctx, const std::vector<std::string>& args);
int cmd_tokens_create(Context& ctx, const std::vector<std::string>& args);
int cmd_tokens_list(Context& ctx, const std::vector<std::string>& args);
int cmd_tokens_revoke(Context& ctx, const std::vector<std::string>& args);

// database.path of the config at `path` when it is readable and valid, else nullopt (silently:
// `config check` reports the problems).
std::optional<std::string> config_database_path(const std::string& path);
// [database] of the config at `path` when it is readable and valid, else nullopt.
std::optional<settings::DatabaseConfig> config_database(const std::string& path);
// [matching] of that config, the same way.
std::optional<settings::MatchingConfig> config_matching(const std::string& path);
// Its [followups] settings, likewise.
std::optional<settings::FollowupsConfig> config_followups(const std::string& path);
// [compose] of that config, the same way.
std::optional<ComposeLimits> config_compose(const std::string& path);

} // namespace crm::ctl
