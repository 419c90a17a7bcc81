// crm-maild: keeps the CRM's mail current. Composition root: config, database, one io_context
// with an AccountSync per account, signals.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <fmt/format.h>

#include "crm/app/followups.hpp"
#include "crm/http/api.hpp"
#include "crm/http/auth.hpp"
#include "crm/http/server.hpp"
#include "crm/imap/crash_point.hpp"
#include "crm/imap/sync.hpp"
#include "crm/mime/parse.hpp"
#include "crm/net/oauth.hpp"
#include "crm/runtime/completeness.hpp"
#include "crm/runtime/config_files.hpp"
#include "crm/runtime/ingest_options.hpp"
#include "crm/runtime/oauth_consent.hpp"
#include "crm/runtime/secrets.hpp"
#include "crm/runtime/sender_auth.hpp"
#include "crm/runtime/server_check.hpp"
#include "crm/runtime/token_source.hpp"
#include "crm/settings/config.hpp"
#include "crm/settings/edit.hpp"
#include "database.hpp"
#include "log.hpp"
#include "metrics.hpp"
#include "notify.hpp"
#include "outbox_worker.hpp"
#include "resort_watcher.hpp"
#include "sink.hpp"

namespace {

using namespace crm;

constexpr int kExitOk = 0, kExitRuntime = 1, kExitUsage = 2;

void usage() {
    fmt::print("crm-maild {} - sync IMAP accounts into the CRM database\n\n"
               "Usage: crm-maild --config FILE [--check]\n\n"
               "  --config FILE  the TOML configuration (see crm-mail.toml.example)\n"
               "  --check        validate the configuration and exit\n"
               "  --version      print the version\n\n"
               "Runs in the foreground and logs one line per event to stderr. SIGTERM/SIGINT stop\n"
               "cleanly (the batch in flight is committed or rolled back); SIGHUP reloads the\n"
               "account list.\n",
               CRM_VERSION);
}

std::optional<settings::Config> load(const std::string& path, bool quiet_ok) {
    auto text = crm::runtime::read_text_file(path);
    if (!text) {
        fmt::print(stderr, "crm-maild: cannot read config {}: {}\n", path, std::strerror(errno));
        return std::nullopt;
    }
    auto out = settings::parse_config(*text, path);
    for (const auto& p : out.problems)
        fmt::print(stderr, "{}\n", settings::format_problem(p));
    if (!out.ok())
        return std::nullopt;
    if (!quiet_ok)
        fmt::print(stderr, "{}: ok, {} account(s)\n", path, out.config->accounts.size());
    return out.config;
}

LogLevel level_of(settings::LogLevel l) {
    switch (l) {
    case settings::LogLevel::Error: return LogLevel::Error;
    case settings::LogLevel::Warning: return LogLevel::Warning;
    case settings::LogLevel::Info: return LogLevel::Info;
    case settings::LogLevel::Debug: return LogLevel::Debug;
    }
    return LogLevel::Info;
}

net::Tls tls_of(settings::Tls t) {
    return t == settings::Tls::Implicit ? net::Tls::Implicit
           : t == settings::Tls::StartTls ? net::Tls::StartTls
                                          : net::Tls::None;
}

// The endpoint of an account's IMAP server with its secret resolved.
Result<net::Endpoint> endpoint_of(const settings::ServerConfig& s, daemon::Logger& log) {
    net::Endpoint ep;
    ep.scheme = "imap";
    ep.host = s.host;
    ep.port = s.port;
    ep.tls = tls_of(s.tls);
    ep.allow_insecure = s.allow_insecure;
    ep.ca_file = s.ca_file;
    ep.username = s.username;
    ep.auth = s.auth == settings::Auth::XOAuth2 ? net::Auth::XOAuth2 : net::Auth::Password;
    if (s.secret) {
        auto secret = runtime::resolve_secret(*s.secret);
        if (!secret)
            return std::unexpected(secret.error());
        log.add_secret(*secret);
        ep.secret = std::move(*secret);
    }
    return ep;
}

// One admin's consent for an account (start_consent), waited for on its own thread.
struct Consent {
    http::ConsentState state; // under Daemon::consent_mu_
    // The redirect flow: the request the provider's redirect must answer, what redeems its code,
    // and until when (steady clock). `answered` once a redirect carried its state (one use).
    std::optional<runtime::RedirectConsent> redirect;
    OAuthRefresh oauth;
    runtime::ConsentOptions options;
    std::chrono::steady_clock::time_point expires;
    bool answered = false;
    std::jthread worker; // last: joined first when destroyed
};

// Equal strings, in a time that does not depend on where they differ (the consent's state is
// the redirect's only credential).
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

struct Running {
    settings::AccountConfig config;
    std::unique_ptr<imap::AccountSync> sync;
    std::shared_ptr<runtime::TokenSource> tokens; // the IMAP login's, for the refresh flow
};

class Daemon final : public http::Control {
  public:
    Daemon(std::string config_path, settings::Config cfg, daemon::DaemonDatabase db)
        : path_(std::move(config_path)), cfg_(std::move(cfg)), db_(std::move(db)),
          log_(level_of(cfg_.daemon.log_level)), pool_(2), signals_(io_, SIGTERM, SIGINT),
          hup_(io_, SIGHUP), ticker_(io_), watchdog_(io_), lease_timer_(io_), release_timer_(io_) {
        if (!db_.secret.empty())
            log_.add_secret(db_.secret);
        const auto opts = runtime::ingest_options(cfg_.matching);
        sink_ = std::make_unique<daemon::DaemonSink>(*db_.loop, log_.sink(), opts,
                                                     std::move(db_.writer));
        auto sender_auth = runtime::make_sender_auth(cfg_.matching);
        if (!sender_auth)
            throw std::runtime_error(sender_auth.error().to_string());
        sender_auth_ = std::move(*sender_auth);
        sink_->set_verifier(sender_auth_.verifier.get());
        outbox_ =
            std::make_unique<daemon::OutboxWorker>(io_, pool_, *db_.loop, *sink_, log_.sink());
        outbox_->set_shared_database(db_.leases != nullptr);
        resort_ = std::make_unique<daemon::ResortWatcher>(
            db_.plain, log_.sink(), app::ResortOptions{opts.sorting, opts.addresses});
        resort_->add_chore([this](Backend& b) { send_reminders(b); });
        sink_->set_error_counter(&counters_.errors_by_class);
        outbox_->set_result_counter(&counters_.send_results);
        http::ApiOptions api;
        api.allowed_hosts = cfg_.http.allowed_hosts;
        if (const auto& u = cfg_.http.public_url; !u.empty()) // scheme://host[:port], checked
            api.allowed_hosts.push_back(u.substr(u.find("://") + 3));
        api.secure_cookie = cfg_.http.secure_cookie;
        api.metrics_token = metrics_token();
        api.trusted_proxies = cfg_.http.trusted_proxies;
        api.log = log_.sink();
        api.config_path = path_;
        api.followups = FollowupPolicy{cfg_.followups.awaiting_days, cfg_.followups.answer_hours};
        api.compose = cfg_.compose;
        api_ = std::make_unique<http::Api>(std::move(api), db_.api, *this);
        http::ServerOptions server;
        server.max_connections = cfg_.http.max_connections;
        server.max_body_bytes_in_flight = cfg_.http.max_body_bytes_in_flight;
        server.log = log_.sink();
        http_ = std::make_unique<http::Server>(*api_, std::move(server));
        if (imap::test_fast_retry())
            http_stall_limit_ = std::chrono::seconds(2);
    }

    ~Daemon() override { stop_renewer(); }

    // --- http::Control (called on the HTTP worker threads)

    std::vector<settings::AccountConfig> accounts() override {
        std::lock_guard lock(cfg_mu_);
        return cfg_.accounts;
    }

    Result<void> save_account(const settings::AccountConfig& in,
                              const http::AccountSecrets& secrets) override {
        std::lock_guard file_lock(file_mu_);
        auto text = crm::runtime::read_text_file(path_);
        if (!text)
            return fail("config.write", fmt::format("cannot read {}: {}", path_,
                                                    std::strerror(errno)));
        settings::AccountConfig a = in;
        if (secrets.imap_password) {
            a.imap.secret = settings::SecretRef{settings::SecretRef::Kind::File,
                                                runtime::secret_path(path_, a.name)};
            a.imap.oauth.reset();
        }
        if (secrets.smtp_password && a.smtp) {
            a.smtp->secret =
                settings::SecretRef{settings::SecretRef::Kind::File,
                                    runtime::secret_path(path_, runtime::smtp_secret_name(a.name))};
            a.smtp->oauth.reset();
        }
        auto next = settings::with_account(*text, path_, a);
        if (!next)
            return std::unexpected(next.error());
        if (secrets.imap_password)
            if (auto r = runtime::store_secret(path_, a.name, *secrets.imap_password); !r)
                return r;
        if (secrets.smtp_password && a.smtp)
            if (auto r = runtime::store_secret(path_, runtime::smtp_secret_name(a.name),
                                               *secrets.smtp_password);
                !r)
                return r;
        if (auto r = runtime::write_atomic(path_, *next, 0640, runtime::service_owner()); !r)
            return r;
        log_.write(LogLevel::Info, {a.name, ""}, "config",
                   fmt::format("account saved over the admin API in {}", path_));
        if (auto parsed = settings::parse_config(*next, path_); parsed.ok()) {
            std::lock_guard lock(cfg_mu_);
            cfg_.accounts = parsed.config->accounts;
        }
        boost::asio::post(io_, [this] { reload("account changed over the admin API"); });
        return {};
    }

    std::vector<http::ServerTest> test_account(const settings::AccountConfig& a) override {
        std::vector<http::ServerTest> out;
        auto one = [&](const char* proto, const settings::ServerConfig& s) {
            auto r = runtime::check_server(proto, s, std::chrono::seconds(20));
            out.push_back({r.ok, r.step, r.message()});
        };
        one("imap", a.imap);
        if (a.smtp)
            one("smtp", *a.smtp);
        return out;
    }

    Result<CompletenessReport> completeness(const settings::AccountConfig& a) override {
        auto db = db_.plain();
        if (!db)
            return std::unexpected(db.error());
        return runtime::check_completeness(a, **db);
    }

    Result<void> resync(const std::string& name) override {
        auto db = db_.plain();
        if (!db)
            return std::unexpected(db.error());
        // One transaction of its own (SyncState::resync_account).
        auto cleared = (*db)->sync().resync_account(name);
        if (!cleared)
            return std::unexpected(cleared.error());
        if (!*cleared)
            return fail("account.not_found",
                        fmt::format("account {} has not been registered by the daemon yet", name));
        boost::asio::post(io_, [this, name] { restart_account(name, "resync requested"); });
        return {};
    }

    // ---- OAuth2 consent from the admin page --------------------------------------------------
    // The device flow (Microsoft 365) waits on a thread of its own; the redirect flow (Google)
    // waits for the provider's redirect to /oauth/callback (complete_consent).

    Result<http::ConsentState> start_consent(const std::string& name) override {
        std::optional<settings::AccountConfig> acc;
        std::string redirect_uri;
        {
            std::lock_guard lock(cfg_mu_);
            for (const auto& a : cfg_.accounts)
                if (a.name == name)
                    acc = a;
            redirect_uri =
                (cfg_.http.public_url.empty() ? fmt::format("http://127.0.0.1:{}", cfg_.http.port)
                                              : cfg_.http.public_url) +
                "/oauth/callback";
        }
        if (!acc)
            return fail("account.not_found", "no account named " + name);
        runtime::ConsentOptions opt;
        auto target = runtime::consent_target(*acc, opt);
        if (!target)
            return std::unexpected(target.error());
        if (!opt.client_secret.empty())
            log_.add_secret(opt.client_secret);
        const OAuthRefresh oauth = std::move(*target);
        if (oauth.device_endpoint.empty() && oauth.authorize_endpoint.empty())
            return fail("oauth.consent",
                        "account " + name +
                            " has neither a device endpoint (oauth_device_endpoint) nor an "
                            "authorization endpoint (oauth_authorize_endpoint): set provider = "
                            "\"gmail\" | \"microsoft365\", or the endpoint");
        std::lock_guard lock(consent_mu_);
        if (auto it = consents_.find(name);
            it != consents_.end() && it->second->state.state == "pending") {
            if (!it->second->redirect || std::chrono::steady_clock::now() < it->second->expires)
                return it->second->state; // the admin opened the dialog again
        }
        if (oauth.device_endpoint.empty())
            return start_redirect_consent(name, oauth, opt, redirect_uri);
        auto d = runtime::begin_device_consent(oauth, opt);
        if (!d)
            return std::unexpected(d.error());
        auto c = std::make_shared<Consent>();
        c->state.state = "pending";
        c->state.user_code = d->user_code;
        c->state.verification_uri = d->verification_uri;
        c->state.message = d->message;
        c->state.expires_in = std::min(d->expires_in, opt.timeout).count();
        log_.write(LogLevel::Info, {name, ""}, "oauth",
                   fmt::format("access requested from the admin page: waiting for the code to be "
                               "entered at {}",
                               d->verification_uri));
        // The wait runs on a thread of its own; stopping the daemon ends it (stop_token).
        // The thread borrows its Consent, which joins it when destroyed (not a shared_ptr: that
        // would keep the Consent, and the thread, alive past the daemon).
        c->worker = std::jthread([this, c = c.get(), name, oauth, opt,
                                  dev = std::move(*d)](std::stop_token stop) {
            auto tokens = runtime::finish_device_consent(oauth, opt, dev,
                                                         [&stop] { return stop.stop_requested(); });
            (void)consent_granted(name, *c, oauth, std::move(tokens), !stop.stop_requested());
        });
        consents_[name] = c;
        return c->state;
    }

    // Under consent_mu_.
    Result<http::ConsentState> start_redirect_consent(const std::string& name,
                                                      const OAuthRefresh& oauth,
                                                      const runtime::ConsentOptions& opt,
                                                      const std::string& redirect_uri) {
        auto r = runtime::begin_redirect_consent(oauth, opt, redirect_uri);
        if (!r)
            return std::unexpected(r.error());
        auto c = std::make_shared<Consent>();
        c->state.state = "pending";
        c->state.authorize_url = r->authorize_url;
        c->state.expires_in = opt.timeout.count();
        c->redirect = std::move(*r);
        c->oauth = oauth;
        c->options = opt;
        c->expires = std::chrono::steady_clock::now() + opt.timeout;
        log_.write(LogLevel::Info, {name, ""}, "oauth",
                   fmt::format("access requested from the admin page: waiting for the provider's "
                               "redirect to {}",
                               redirect_uri));
        consents_[name] = c;
        return c->state;
    }

    Result<std::string> complete_consent(const std::string& state,
                                         std::string_view query) override {
        std::shared_ptr<Consent> c;
        std::string name;
        {
            std::lock_guard lock(consent_mu_);
            for (const auto& [n, k] : consents_)
                if (k->redirect && !k->answered && k->state.state == "pending" &&
                    same_secret(k->redirect->state, state)) {
                    c = k;
                    name = n;
                }
            if (!c)
                return fail("oauth.consent",
                            "no request for access waits for this answer (it was answered "
                            "already, or it was not made by this crm-maild): press Grant access "
                            "on the admin page again");
            c->answered = true; // one use, even when it fails below
            if (std::chrono::steady_clock::now() >= c->expires) {
                c->state.state = "failed";
                c->state.error = "the request for access expired before the provider's answer";
                return fail("oauth.consent", c->state.error + ": press Grant access again");
            }
        }
        auto tokens = runtime::finish_redirect_consent(c->oauth, c->options, *c->redirect, query);
        if (auto r = consent_granted(name, *c, c->oauth, std::move(tokens), true); !r)
            return std::unexpected(r.error());
        return name;
    }

    // The end of a consent from the admin page: the refresh token stored (or why not), the state
    // the page polls, the log, and the account logged in again with it.
    Result<void> consent_granted(const std::string& name, Consent& c, const OAuthRefresh& oauth,
                                 Result<net::OAuthTokens> tokens, bool restart) {
        Result<void> stored;
        if (!tokens) {
            stored = std::unexpected(tokens.error());
        } else {
            log_.add_secret(tokens->refresh_token);
            log_.add_secret(tokens->access_token);
            stored = runtime::store_refresh_token(oauth.refresh_token, tokens->refresh_token);
        }
        {
            std::lock_guard state_lock(consent_mu_);
            c.state.state = stored ? "granted" : "failed";
            c.state.error = stored ? "" : stored.error().detail;
        }
        if (!stored) {
            log_.write(LogLevel::Warning, {name, ""}, "oauth",
                       "access not granted: " + stored.error().to_string());
            return stored;
        }
        log_.write(LogLevel::Info, {name, ""}, "oauth",
                   "access granted from the admin page; the refresh token is stored in " +
                       oauth.refresh_token.value);
        if (restart)
            boost::asio::post(io_, [this, name] {
                restart_account(name, "access granted: logging in with the new refresh token");
            });
        return stored;
    }

    http::ConsentState consent_state(const std::string& name) override {
        std::lock_guard lock(consent_mu_);
        auto it = consents_.find(name);
        if (it == consents_.end())
            return {};
        Consent& c = *it->second;
        // A redirect the provider never sent: the request ends when its time is up, so the page
        // stops waiting and offers the button again.
        if (c.redirect && !c.answered && c.state.state == "pending" &&
            std::chrono::steady_clock::now() >= c.expires) {
            c.answered = true;
            c.state.state = "failed";
            c.state.error = "the request for access expired before the provider's answer: press "
                            "Grant access again";
        }
        return c.state;
    }

    http::Health health() override {
        http::Health h;
        if (!db_.leases)
            return h;
        h.worker = health_worker_.load();
        h.database_reachable = health_reachable_.load();
        h.leases = static_cast<std::int64_t>(db_.leases->fence().held().size());
        return h;
    }

    // The daily follow-up reminder ([followups] daily_reminder_hour), on the re-sorting thread:
    // once its hour has come on one of its days, each salesperson's list through their own
    // account (the first with [accounts.smtp] they own). The claims in the database make it once a
    // day whichever worker asks; this worker stops asking once a day's pass succeeded.
    void send_reminders(Backend& b) {
        settings::FollowupsConfig f;
        std::map<UserId, std::string> senders;
        std::string page_url;
        {
            std::lock_guard lock(cfg_mu_);
            f = cfg_.followups;
            page_url = cfg_.http.public_url;
            for (const auto& a : cfg_.accounts)
                if (a.owner_id > 0 && a.smtp && a.enabled)
                    senders.emplace(a.owner_id, a.name);
        }
        const auto now = system_clock().now();
        if (!f.daily_reminder_hour || senders.empty() ||
            !app::reminder_due(now, *f.daily_reminder_hour, f.daily_reminder_days))
            return;
        const auto day = utc_day(now);
        if (day == reminders_done_ || now < reminders_retry_at_)
            return;
        auto n = app::queue_followup_reminders(b, senders,
                                               FollowupPolicy{f.awaiting_days, f.answer_hours},
                                               page_url, now, [] { return http::random_hex(12); });
        if (!n) {
            log_.write(LogLevel::Error, {}, "followups",
                       "the daily reminders failed (again in a minute): " + n.error().to_string());
            reminders_retry_at_ = now + 60;
            return;
        }
        reminders_done_ = day;
        log_.write(LogLevel::Info, {}, "followups",
                   fmt::format("daily reminders for {}: {} queued", day, *n));
        if (*n > 0)
            outbox_changed();
    }

    void outbox_changed() override {
        boost::asio::post(io_, [this] {
            if (!stopping_)
                outbox_->kick();
        });
    }

    std::string metrics() override {
        // Counters live on the event loop: copy them there.
        auto copy = std::make_shared<std::promise<daemon::Counters>>();
        auto fut = copy->get_future();
        boost::asio::post(io_, [this, copy] { copy->set_value(counters_); });
        daemon::Counters counters;
        if (fut.wait_for(std::chrono::seconds(2)) == std::future_status::ready)
            counters = fut.get();
        std::lock_guard lock(metrics_mu_);
        if (!metrics_db_) {
            auto db = db_.plain();
            if (!db)
                return "# database unavailable: " + db.error().detail + "\n";
            metrics_db_ = std::move(*db);
        }
        metrics_db_->refresh();
        return daemon::render_metrics(metrics_db_->metrics(), counters, system_clock().now());
    }

    int run() {
        log_.write(LogLevel::Info, {}, "start",
                   fmt::format("crm-maild {} database={} accounts={}", CRM_VERSION, db_.display,
                               cfg_.accounts.size()));
        apply_accounts();
        outbox_->start();
        resort_->start();
        // The thread view, its API, /healthz and /metrics. A port already taken (another
        // instance, a test running in parallel) degrades to no HTTP rather than stopping mail
        // sync; the error says so.
        if (auto h = http_->start(cfg_.http.bind, cfg_.http.port); !h)
            log_.write(LogLevel::Error, {}, "http",
                       h.error().detail + ": the web page, API and /metrics are disabled");
        else
            log_.write(LogLevel::Info, {}, "http",
                       fmt::format("serving the web page, /api/v1, /healthz and /metrics on "
                                   "http://{}:{}/", cfg_.http.bind, http_->port()));
        check_fd_limit();
        wait_signals();
        wait_hup();
        // Config validated, migrations applied, accounts started: tell systemd (Type=notify).
        daemon::notify(fmt::format("READY=1\nSTATUS=syncing {} account(s)", running_.size()));
        ping_watchdog();
        io_.run();
        http_->stop();
        pool_.join();
        log_.write(LogLevel::Info, {}, "stop", "stopped cleanly");
        return kExitOk;
    }

  private:
    // WATCHDOG=1 from the event loop itself: a stuck loop stops the pings and systemd restarts us.
    // So does an HTTP server that has not been able to accept a connection for
    // http_stall_limit_ (out of file descriptors for good): the web page would stay dead.
    void ping_watchdog() {
        auto every = daemon::watchdog_ping_interval();
        if (!every)
            return;
        const auto stalled = http_->accept_failing_for();
        if (stalled < http_stall_limit_) {
            daemon::notify("WATCHDOG=1");
            watchdog_withheld_ = false;
        } else if (!watchdog_withheld_) {
            watchdog_withheld_ = true;
            log_.write(
                LogLevel::Error, {}, "watchdog",
                fmt::format("HTTP has not accepted a connection for {} s: WATCHDOG=1 "
                            "withheld, so that systemd restarts crm-maild",
                            std::chrono::duration_cast<std::chrono::seconds>(stalled).count()));
            daemon::notify("STATUS=HTTP cannot accept connections: waiting for the watchdog");
        }
        watchdog_.expires_after(*every);
        watchdog_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec)
                ping_watchdog();
        });
    }

    // The token non-local /metrics clients must send. Unreadable: none, so they are refused.
    std::string metrics_token() {
        if (cfg_.http.metrics_token_file.empty())
            return {};
        auto token = runtime::resolve_secret(
            {settings::SecretRef::Kind::File, cfg_.http.metrics_token_file});
        if (!token) {
            log_.write(LogLevel::Error, {}, "config",
                       token.error().detail + ": /metrics is served to local clients only");
            return {};
        }
        log_.add_secret(*token);
        return std::move(*token);
    }

    // Each HTTP connection holds a file descriptor, and so do the database files, the event
    // loops and each account's IMAP and SMTP connections (128 and 4 per account, with room to
    // spare): warn when RLIMIT_NOFILE cannot cover them.
    void check_fd_limit() {
        rlimit limit{};
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
            return;
        const auto need =
            static_cast<rlim_t>(cfg_.http.max_connections + http::kMaxRefusing + 128) +
            4 * cfg_.accounts.size();
        if (limit.rlim_cur < need)
            log_.write(LogLevel::Warning, {}, "http",
                       fmt::format("the file descriptor limit is {}, but http.max_connections = "
                                   "{} and {} account(s) may need {}: raise LimitNOFILE= or "
                                   "lower max_connections",
                                   limit.rlim_cur, cfg_.http.max_connections, cfg_.accounts.size(),
                                   need));
    }

    void start_account(const settings::AccountConfig& a) {
        const auto now = system_clock().now();
        db_.loop->refresh(); // a connection the server dropped (a restart) is opened again
        auto id = sink_->sync_store().ensure_account(a.name, a.owner_id, a.address, a.imap.host,
                                                     a.enabled, now);
        if (!id) {
            log_.write(LogLevel::Error, {a.name, ""}, "account", id.error().to_string());
            return;
        }
        if (!a.enabled) {
            log_.write(LogLevel::Info, {a.name, ""}, "account", "disabled in the config");
            return;
        }
        registered_[a.name] = *id;
        // Shared database: this worker syncs only the accounts whose lease it holds (lease_tick
        // claims them and starts them here).
        if (db_.leases && !db_.leases->fence().holds(*id))
            return;
        auto known = sink_->sync_store().user_exists(a.owner_id);
        if (known && *known) {
            sink_->set_owner(*id, a.owner_id);
        } else {
            sink_->set_owner(*id, std::nullopt);
            log_.write(LogLevel::Warning, {a.name, ""}, "config",
                       fmt::format("owner_id {} is not a CRM user (yet): mail is stored without "
                                   "an owner until it exists and the daemon reloads",
                                   a.owner_id));
        }
        sink_->set_account_name(*id, a.name);
        sink_->set_rules(*id, a.rules);
        sink_->set_fallback_charset(*id, a.fallback_charset);
        imap::AccountSpec spec;
        spec.id = *id;
        spec.name = a.name;
        auto ep = endpoint_of(a.imap, log_);
        if (!ep) {
            log_.write(LogLevel::Error, {a.name, ""}, "config", ep.error().to_string());
            AccountHealth h;
            h.state = HealthState::Error;
            h.error_class = ep.error().code;
            h.error_text = ep.error().detail;
            (void)sink_->set_health(*id, h);
            return;
        }
        spec.imap = std::move(*ep);
        // Refresh-token flow: one token source per OAuth configuration, shared by the sync and
        // the outbox (an [accounts.smtp] that inherits the IMAP settings shares its tokens).
        auto token_fn = [](std::shared_ptr<runtime::TokenSource> ts) {
            return [ts](bool refused) -> Result<std::string> {
                if (refused)
                    ts->invalidate();
                return ts->access_token();
            };
        };
        std::shared_ptr<runtime::TokenSource> imap_tokens;
        auto make_tokens = [&](const settings::ServerConfig& server)
            -> Result<std::shared_ptr<runtime::TokenSource>> {
            runtime::TokenSource::Hooks hooks;
            hooks.secret = [this](const std::string& s) { log_.add_secret(s); };
            hooks.warn = [this, name = a.name](const std::string& text) {
                log_.write(LogLevel::Warning, {name, ""}, "oauth", text);
            };
            return runtime::TokenSource::make(*server.oauth, server.ca_file, std::move(hooks));
        };
        auto config_error = [&](const Error& e) {
            log_.write(LogLevel::Error, {a.name, ""}, "config", e.to_string());
            AccountHealth h;
            h.state = HealthState::Error;
            h.error_class = e.code;
            h.error_text = e.detail;
            (void)sink_->set_health(*id, h);
        };
        if (a.imap.auth == settings::Auth::XOAuth2 && a.imap.oauth) {
            auto ts = make_tokens(a.imap);
            if (!ts) {
                config_error(ts.error());
                return;
            }
            imap_tokens = *ts;
            spec.access_token = token_fn(imap_tokens);
        }
        {
            daemon::SendingEndpoints se;
            se.account_name = a.name;
            se.from_address = a.address;
            se.imap = spec.imap;
            // Gmail and Microsoft 365 file what their SMTP server sends in Sent themselves.
            se.server_files_sent = a.provider == settings::AccountConfig::Provider::Microsoft365
                                       ? std::optional(true)
                                       : a.gmail;
            if (auto known_owner = sink_->sync_store().user_name(a.owner_id); known_owner)
                se.from_name = *known_owner;
            if (imap_tokens)
                se.imap_token = token_fn(imap_tokens);
            if (a.smtp) {
                auto smtp = endpoint_of(*a.smtp, log_);
                if (smtp && a.smtp->auth == settings::Auth::XOAuth2 && a.smtp->oauth) {
                    if (imap_tokens && a.imap.oauth && *a.imap.oauth == *a.smtp->oauth) {
                        se.smtp_token = token_fn(imap_tokens);
                    } else if (auto ts = make_tokens(*a.smtp); ts) {
                        se.smtp_token = token_fn(*ts);
                    } else {
                        smtp = std::unexpected(ts.error());
                    }
                }
                if (smtp) {
                    smtp->scheme = "smtp";
                    se.smtp = std::move(*smtp);
                } else {
                    log_.write(LogLevel::Error, {a.name, ""}, "config",
                               "smtp: " + smtp.error().to_string());
                }
            }
            outbox_->set_account(*id, std::move(se));
        }
        spec.gmail = a.gmail;
        spec.folders = a.folders;
        spec.idle = a.idle;
        spec.poll_interval = a.poll_interval;
        spec.initial_sync_days = a.initial_sync_days;
        spec.backfill = a.backfill;
        spec.batch_messages = a.batch_messages;
        spec.batch_bytes = a.batch_bytes;
        if (imap::test_fast_retry()) {
            spec.backoff_min = std::chrono::seconds(1);
            spec.backoff_max = std::chrono::seconds(2);
            spec.reconcile_interval = std::chrono::seconds(0);
            spec.flag_sweep_interval = std::chrono::seconds(0);
            spec.command_timeout = std::chrono::seconds(5);
            spec.command_deadline = std::chrono::seconds(15);
        }
        Running r{
            a,
            std::make_unique<imap::AccountSync>(io_, pool_, std::move(spec), *sink_, log_.sink()),
            imap_tokens};
        r.sync->start();
        running_[a.name] = std::move(r);
    }

    void apply_accounts() {
        for (const auto& a : cfg_.accounts)
            start_account(a);
        if (db_.leases)
            lease_tick();
    }

    // Stops one running account here (the sync finishes its batch in flight).
    void stop_account(const std::string& name, const std::string& why) {
        auto it = running_.find(name);
        if (it == running_.end())
            return;
        log_.write(LogLevel::Info, {name, ""}, "account", why);
        outbox_->remove_account(it->second.sync->spec().id);
        it->second.sync->stop();
        retired_.push_back(std::move(it->second.sync));
        running_.erase(it);
    }

    // Hands an account over: its sync stops here, and its lease is given back only once the
    // sync has ended (its batch in flight committed, its IMAP session closed), so that the next
    // holder never overlaps with it.
    void hand_over(AccountId id, const std::string& why) {
        const imap::AccountSync* sync = nullptr;
        for (const auto& [name, rid] : registered_)
            if (rid == id)
                if (auto it = running_.find(name); it != running_.end()) {
                    sync = it->second.sync.get();
                    stop_account(name, why);
                }
        releasing_.emplace_back(id, sync);
        release_stopped();
    }

    void release_stopped() {
        std::vector<AccountId> done;
        std::erase_if(releasing_, [&](const auto& r) {
            if (r.second && !r.second->done())
                return false;
            done.push_back(r.first);
            return true;
        });
        if (!done.empty()) {
            std::lock_guard lock(lease_mu_);
            if (auto r = db_.leases->release(done); !r)
                log_.write(LogLevel::Error, {}, "lease", r.error().to_string());
        }
        if (releasing_.empty())
            return;
        release_timer_.expires_after(std::chrono::milliseconds(100));
        release_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec)
                release_stopped();
        });
    }

    bool releasing(AccountId id) const {
        return std::any_of(releasing_.begin(), releasing_.end(),
                           [id](const auto& r) { return r.first == id; });
    }

    bool running(AccountId id) const {
        return std::any_of(running_.begin(), running_.end(),
                           [id](const auto& r) { return r.second.sync->spec().id == id; });
    }

    // Renews the leases every quarter of the lease time on a thread of its own: a batch being
    // committed or parsed holds up the event loop for seconds, and the renewal must not wait for
    // it. A lease lost is dropped from the fence at once (renew()); its account stops on the
    // event loop.
    void renew_leases() {
        const auto every = std::max<std::chrono::milliseconds>(db_.leases->lease() / 4,
                                                               std::chrono::milliseconds(500));
        std::unique_lock wait_lock(renewer_mu_);
        while (!renewer_stop_) {
            Result<std::vector<AccountId>> lost = std::vector<AccountId>{};
            {
                std::lock_guard lock(lease_mu_);
                lost = db_.leases->renew();
                health_worker_ = db_.leases->worker_id();
                health_reachable_ = db_.leases->reachable();
            }
            if (!lost)
                log_.write(LogLevel::Error, {}, "lease",
                           "cannot renew the account leases: " + lost.error().to_string());
            else if (!lost->empty())
                boost::asio::post(io_, [this, ids = std::move(*lost)] {
                    for (AccountId id : ids)
                        for (const auto& [name, rid] : registered_)
                            if (rid == id)
                                stop_account(name,
                                             "lease lost (paused or cut off past its expiry, or "
                                             "another worker took the account): stopped here");
                });
            renewer_cv_.wait_for(wait_lock, every, [this] { return renewer_stop_; });
        }
    }

    void stop_renewer() {
        {
            std::lock_guard lock(renewer_mu_);
            renewer_stop_ = true;
        }
        renewer_cv_.notify_all();
        if (renewer_.joinable())
            renewer_.join();
    }

    // The enabled configured account registered under `id`, from `accounts`.
    const settings::AccountConfig* configured(const std::vector<settings::AccountConfig>& accounts,
                                              AccountId id) const {
        for (const auto& a : accounts)
            if (auto it = registered_.find(a.name);
                a.enabled && it != registered_.end() && it->second == id)
                return &a;
        return nullptr;
    }

    // Shared database (PostgreSQL): renews this worker's leases, stops the accounts it lost,
    // gives back what is over its fair share or no longer configured here, and claims free or
    // expired accounts up to its share. Every lease/4 (20 s for the default 75 s lease).
    void lease_tick() {
        if (stopping_ || !db_.leases)
            return;
        if (!renewer_.joinable())
            renewer_ = std::thread([this] { renew_leases(); });
        auto& leases = *db_.leases;
        std::unique_lock lock(lease_mu_);
        if (auto reaped = leases.reap_dead(); reaped && *reaped > 0)
            log_.write(LogLevel::Info, {}, "lease",
                       fmt::format("removed {} worker(s) silent for three lease times", *reaped));
        const auto accounts = this->accounts(); // a copy: the HTTP threads may save one
        std::vector<AccountId> wanted;
        for (const auto& a : accounts)
            if (auto it = registered_.find(a.name); a.enabled && it != registered_.end())
                wanted.push_back(it->second);
        std::vector<AccountId> held, extra;
        for (const auto& [id, epoch] : leases.fence().held()) {
            if (releasing(id))
                continue;
            if (std::find(wanted.begin(), wanted.end(), id) == wanted.end())
                extra.push_back(id); // no longer configured here
            else
                held.push_back(id);
        }
        auto workers = leases.live_workers();
        std::vector<AccountId> claimed_ids;
        if (workers) {
            const auto share =
                pg::Leases::fair_share(wanted.size(), *workers, cfg_.daemon.max_accounts);
            // Over the share (another worker joined): give back the highest ids.
            while (held.size() > share) {
                extra.push_back(held.back());
                held.pop_back();
            }
            if (held.size() < share) {
                std::vector<AccountId> free;
                for (AccountId id : wanted)
                    if (std::find(held.begin(), held.end(), id) == held.end() && !releasing(id))
                        free.push_back(id);
                auto claimed = leases.claim(free, share - held.size());
                if (!claimed)
                    log_.write(LogLevel::Error, {}, "lease", claimed.error().to_string());
                else
                    for (const auto& [id, epoch] : *claimed) {
                        claimed_ids.push_back(id);
                        if (const auto* a = configured(accounts, id))
                            log_.write(LogLevel::Info, {a->name, ""}, "lease",
                                       fmt::format("claimed (epoch {})", epoch));
                    }
            }
        } else {
            log_.write(LogLevel::Error, {}, "lease", workers.error().to_string());
        }
        lock.unlock();
        for (AccountId id : extra)
            hand_over(id, "handed over: over this worker's share of the accounts, or no longer "
                          "configured here");
        // Start what was claimed, and what is held but not running (its start failed, e.g. the
        // database was restarting): a lease held by a worker that does not sync the account
        // would keep it from the others.
        for (AccountId id : held)
            if (!running(id))
                claimed_ids.push_back(id);
        for (AccountId id : claimed_ids) {
            if (const auto* a = configured(accounts, id))
                start_account(*a);
            if (!running(id))
                hand_over(id, "could not be started here: given back for another try");
        }
        daemon::notify(fmt::format("STATUS=worker {}: syncing {} account(s)", leases.worker_id(),
                                   running_.size()));
        lease_timer_.expires_after(std::max(leases.lease() / 4, std::chrono::seconds(1)));
        lease_timer_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec)
                lease_tick();
        });
    }

    void wait_signals() {
        signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
            if (ec)
                return;
            log_.write(LogLevel::Info, {}, "signal",
                       fmt::format("{} received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
            stopping_ = true;
            outbox_->stop();
            resort_->stop();
            daemon::notify("STOPPING=1\nSTATUS=stopping: finishing the batches in flight");
            for (auto& [name, r] : running_)
                r.sync->stop();
            hup_.cancel();
            poll_stopped();
        });
    }

    void poll_stopped() {
        bool all = true;
        for (auto& [name, r] : running_)
            all = all && r.sync->done();
        if (all) {
            signals_.cancel();
            ticker_.cancel();
            watchdog_.cancel();
            lease_timer_.cancel();
            // Every batch is committed: give the accounts back so that the other workers take
            // them at once rather than after the lease expires.
            release_timer_.cancel();
            if (db_.leases) {
                stop_renewer();
                std::lock_guard lock(lease_mu_);
                if (auto r = db_.leases->leave(); !r)
                    log_.write(LogLevel::Error, {}, "lease",
                               "could not release the leases (they expire by themselves): " +
                                   r.error().to_string());
                else
                    log_.write(LogLevel::Info, {}, "lease", "leases released");
            }
            return; // io_context runs out of work
        }
        ticker_.expires_after(std::chrono::milliseconds(50));
        ticker_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec)
                poll_stopped();
        });
    }

    // Restarts one running account (after a resync cleared its checkpoints).
    void restart_account(const std::string& name, const char* why) {
        auto it = running_.find(name);
        if (it == running_.end() || stopping_)
            return;
        log_.write(LogLevel::Info, {name, ""}, "account", why);
        auto cfg = it->second.config;
        it->second.sync->stop();
        retired_.push_back(std::move(it->second.sync));
        running_.erase(it);
        start_account(cfg);
    }

    // Re-reads the config; restarts changed accounts, starts new ones, stops removed ones;
    // unchanged accounts keep their connections. On SIGHUP and after the admin API saved.
    void reload(const char* why) {
        if (stopping_)
            return;
        log_.write(LogLevel::Info, {}, "reload", fmt::format("{}: reloading the account list", why));
        daemon::notify("RELOADING=1");
        if (auto cfg = load(path_, true)) {
            std::map<std::string, const settings::AccountConfig*> wanted;
            for (const auto& a : cfg->accounts)
                wanted[a.name] = &a;
            for (auto it = running_.begin(); it != running_.end();) {
                auto w = wanted.find(it->first);
                const char* change = w == wanted.end()                  ? "removed"
                                     : !(*w->second == it->second.config) ? "changed: restarting"
                                                                          : nullptr;
                // Same config, but the secret it names (password file, variable, credential)
                // may have been replaced, e.g. after needs_reauth: compare with the one in use.
                if (!change) {
                    auto ep = endpoint_of(w->second->imap, log_);
                    if (ep && ep->secret != it->second.sync->spec().imap.secret)
                        change = "secret changed: restarting";
                    else if (it->second.tokens && it->second.tokens->replaced_on_disk())
                        change = "refresh token replaced (access granted again): restarting";
                }
                if (change) {
                    log_.write(LogLevel::Info, {it->first, ""}, "reload", change);
                    outbox_->remove_account(it->second.sync->spec().id);
                    it->second.sync->stop();
                    retired_.push_back(std::move(it->second.sync));
                    it = running_.erase(it);
                } else {
                    ++it;
                }
            }
            {
                std::lock_guard lock(cfg_mu_);
                cfg_.accounts = cfg->accounts;
            }
            for (const auto& a : cfg->accounts)
                if (!running_.contains(a.name))
                    start_account(a);
            // Shared database: accounts no longer configured here are given back by the next
            // lease tick; run it now.
            if (db_.leases) {
                lease_timer_.cancel();
                boost::asio::post(io_, [this] { lease_tick(); });
            }
        } else {
            log_.write(LogLevel::Error, {}, "reload",
                       "the new config has errors: keeping the running accounts");
        }
        daemon::notify(fmt::format("READY=1\nSTATUS=syncing {} account(s)", running_.size()));
    }

    void wait_hup() {
        hup_.async_wait([this](const boost::system::error_code& ec, int) {
            if (ec || stopping_)
                return;
            reload("SIGHUP");
            wait_hup();
        });
    }

    std::string path_;
    settings::Config cfg_;
    daemon::DaemonDatabase db_;
    daemon::Logger log_;
    boost::asio::io_context io_;
    boost::asio::thread_pool pool_;
    boost::asio::signal_set signals_, hup_;
    boost::asio::steady_timer ticker_, watchdog_, lease_timer_, release_timer_;
    // Shared database: db_.leases is used by the event loop (claims, releases) and by the
    // renewer thread (renewals), one at a time.
    std::mutex lease_mu_;
    std::thread renewer_;
    std::mutex renewer_mu_;
    std::condition_variable renewer_cv_;
    bool renewer_stop_ = false;
    // Accounts being handed over: released once their sync has ended.
    std::vector<std::pair<AccountId, const imap::AccountSync*>> releasing_;
    std::map<std::string, AccountId> registered_; // configured accounts' ids, by name
    // What /healthz reports of the leases, written by lease_tick, read by the HTTP threads.
    std::atomic<std::int64_t> health_worker_{0};
    std::atomic<bool> health_reachable_{true};
    runtime::SenderAuth sender_auth_; // before sink_: the sink's parser threads borrow it
    std::unique_ptr<daemon::DaemonSink> sink_;
    std::unique_ptr<daemon::OutboxWorker> outbox_;
    std::unique_ptr<daemon::ResortWatcher> resort_;
    // The daily reminders (send_reminders, on the re-sorting thread only).
    std::string reminders_done_;
    std::int64_t reminders_retry_at_ = 0;
    daemon::Counters counters_;
    std::mutex cfg_mu_, file_mu_, metrics_mu_;
    std::unique_ptr<Backend> metrics_db_;
    std::unique_ptr<http::Api> api_;
    std::unique_ptr<http::Server> http_;
    std::map<std::string, Running> running_;
    std::vector<std::unique_ptr<imap::AccountSync>> retired_;
    bool stopping_ = false;
    std::chrono::steady_clock::duration http_stall_limit_ = std::chrono::seconds(30);
    bool watchdog_withheld_ = false;
    // Last: their threads stop and are joined before anything they use is destroyed.
    std::mutex consent_mu_;
    std::map<std::string, std::shared_ptr<Consent>> consents_;
};

} // namespace

int main(int argc, char** argv) {
    std::string config_path;
    bool check = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            usage();
            return kExitOk;
        }
        if (a == "--version") {
            fmt::print("crm-maild {}\n", CRM_VERSION);
            return kExitOk;
        }
        if (a == "--check") {
            check = true;
        } else if (a == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (a.starts_with("--config=")) {
            config_path = a.substr(9);
        } else {
            fmt::print(stderr, "crm-maild: unknown argument {} (see --help)\n", a);
            return kExitUsage;
        }
    }
    if (config_path.empty()) {
        fmt::print(stderr, "crm-maild: --config FILE is required (see --help)\n");
        return kExitUsage;
    }
    auto cfg = load(config_path, !check);
    if (!cfg)
        return kExitUsage;
    if (check)
        return kExitOk;
    std::signal(SIGPIPE, SIG_IGN);
    mime::init();
    auto db = daemon::open_daemon_database(cfg->database, cfg->daemon.max_accounts);
    if (!db) {
        fmt::print(stderr, "crm-maild: {}\n", db.error().to_string());
        return kExitRuntime;
    }
    Daemon d(config_path, std::move(*cfg), std::move(*db));
    return d.run();
}
