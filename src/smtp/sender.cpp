#include "crm/smtp/sender.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "session.hpp"

namespace crm::smtp {

namespace {

using detail::append_printable;
using detail::Reply;
using detail::Session;
using detail::Verb;

constexpr std::size_t kMaxAddress = 320; // 64 local + @ + 255 domain
// Total time: a fixed allowance for the dialogue plus the upload at >= 10 kB/s.
constexpr long kBaseTimeoutMs = 120'000;
constexpr std::size_t kBytesPerMs = 10;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
    void operator()(CURL *c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist *l) const { curl_slist_free_all(l); }
};

Error net_error(const char *code, std::string detail, Retry retry) {
    return Error{code, std::move(detail), ErrorScope::Account, retry};
}

// Refuses what could inject SMTP commands or change the meaning of the <...> path: libcurl 7.88
// passes CR/LF in CURLOPT_MAIL_FROM/MAIL_RCPT straight to the server.
std::optional<std::string> address_problem(std::string_view a) {
    if (a.empty())
        return "empty address";
    if (a.size() > kMaxAddress)
        return "address longer than 320 bytes";
    for (char ch : a) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f)
            return "control character (CR, LF, NUL ...) in address";
        if (c == ' ' || c == '<' || c == '>')
            return "space or angle bracket in address";
    }
    auto at = a.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == a.size())
        return "address is not local@domain";
    return std::nullopt;
}

std::string shown_address(std::string_view a) {
    std::string out;
    append_printable(out, a.substr(0, 80));
    return out;
}

int on_debug(CURL *, curl_infotype type, char *data, std::size_t size, void *user) {
    auto *s = static_cast<Session *>(user);
    if (s == nullptr) // detached after curl_easy_perform (QUIT at cleanup)
        return 0;
    // Only HEADER_IN (server lines) and the verb of HEADER_OUT are used. DATA_OUT (the message)
    // and TEXT are ignored; nothing is logged here.
    if (type == CURLINFO_HEADER_IN)
        s->on_in(std::string_view(data, size));
    else if (type == CURLINFO_HEADER_OUT)
        s->on_out(std::string_view(data, size));
    return 0;
}

int on_sockopt(void *user, curl_socket_t fd, curlsocktype) {
    static_cast<Session *>(user)->sock = fd;
    return CURL_SOCKOPT_OK;
}

std::size_t on_read(char *buffer, std::size_t size, std::size_t nitems, void *user) {
    auto *s = static_cast<Session *>(user);
    std::size_t n = std::min(size * nitems, s->body.size() - s->offset);
    // The last bytes: once libcurl has them it writes the end of DATA. The caller records that
    // point first (crash safety: before it, nothing can have been delivered).
    if (n > 0 && s->offset + n == s->body.size() && !s->end_announced) {
        s->end_announced = true;
        if (s->before_end && *s->before_end && !(*s->before_end)()) {
            s->end_refused = true;
            return CURL_READFUNC_ABORT;
        }
    }
    std::memcpy(buffer, s->body.data() + s->offset, n);
    s->offset += n;
    // libcurl stops reading once INFILESIZE bytes came, without asking for the EOF.
    if (s->offset == s->body.size())
        s->upload_complete = true;
    return n;
}

Error reply_error(std::string_view what, const Reply &r) {
    std::string detail = fmt::format("{}: {} {}", what, r.code, r.text);
    if (r.code / 100 == 4)
        return Error{"smtp.temporary", std::move(detail), ErrorScope::Message, Retry::Backoff};
    if (r.code / 100 == 5)
        return Error{"smtp.permanent", std::move(detail), ErrorScope::Message, Retry::Never};
    return Error{"net.protocol", std::move(detail), ErrorScope::Account, Retry::Backoff};
}

Error classify(CURLcode rc, const char *errbuf, const net::Endpoint &ep, const Session &s,
               const std::vector<std::string> &recipients) {
    std::string where = fmt::format("smtp://{}:{}", ep.host, ep.port);
    std::string text = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    // The server's answers first: they say more than libcurl's error code.
    if (s.no_auth_offered)
        return net_error("net.auth",
                         where + ": the server offered no AUTH after EHLO" +
                             (ep.tls == net::Tls::StartTls ? " (after STARTTLS)" : "") +
                             "; not sending unauthenticated",
                         Retry::NeedsConfig);
    if (s.mail && s.mail->code / 100 != 2) {
        if (s.mail->code == 530)
            return net_error("net.auth",
                             fmt::format("{}: MAIL FROM: {} {}", where, s.mail->code, s.mail->text),
                             Retry::NeedsConfig);
        return reply_error("MAIL FROM rejected", *s.mail);
    }
    if (s.mail && !s.rcpts.empty() && s.rcpts.size() == recipients.size() &&
        std::ranges::none_of(s.rcpts, [](const Reply &r) { return r.code / 100 == 2; })) {
        bool temporary =
            std::ranges::any_of(s.rcpts, [](const Reply &r) { return r.code / 100 == 4; });
        std::string detail = "all recipients rejected:";
        for (std::size_t i = 0; i < s.rcpts.size(); ++i)
            detail += fmt::format(" {} {} {};", shown_address(recipients[i]), s.rcpts[i].code,
                                  s.rcpts[i].text);
        detail.pop_back();
        if (temporary)
            return Error{"smtp.temporary", std::move(detail), ErrorScope::Message, Retry::Backoff};
        return Error{"smtp.permanent", std::move(detail), ErrorScope::Message, Retry::Never};
    }
    if (s.data && s.data->code != 354)
        return reply_error("DATA rejected", *s.data);
    // The whole message was handed to libcurl (which then writes the final "."): if no reply to
    // the end of data came, the server may have received it all and queued the message.
    if (s.data && s.upload_complete && !s.end_of_data)
        return Error{"smtp.unknown",
                     where +
                         ": connection lost after the message was sent, before the server "
                         "confirmed it (it may have been delivered): " +
                         text,
                     ErrorScope::Message, Retry::Never};
    // The server is closing the session (overloaded, shutting down): not the message's fault.
    if (s.closing)
        return reply_error("server closing the session", *s.closing);
    if (s.auth_reply && s.auth_reply->code / 100 == 5 && rc == CURLE_LOGIN_DENIED)
        return net_error("net.auth",
                         fmt::format("{}: login rejected for {}: {} {}", where, ep.username,
                                     s.auth_reply->code, s.auth_reply->text),
                         Retry::NeedsConfig);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return net_error("net.dns", where + ": cannot resolve host: " + text, Retry::Backoff);
    case CURLE_COULDNT_CONNECT:
        return net_error("net.tcp", where + ": cannot connect: " + text, Retry::Backoff);
    case CURLE_OPERATION_TIMEDOUT:
        return net_error("net.timeout", where + ": timed out (message not sent): " + text,
                         Retry::Backoff);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return net_error("net.tls", where + ": TLS failed: " + text, Retry::NeedsConfig);
    case CURLE_USE_SSL_FAILED:
        return net_error("net.starttls", where + ": server refused STARTTLS: " + text,
                         Retry::NeedsConfig);
    case CURLE_LOGIN_DENIED:
        return net_error("net.auth",
                         where + ": login failed for " + ep.username + " (AUTH " +
                             (ep.auth == net::Auth::XOAuth2 ? "XOAUTH2" : "PLAIN") +
                             " rejected or not offered): " + text,
                         Retry::NeedsConfig);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return net_error("net.tcp", where + ": connection lost (message not sent): " + text,
                         Retry::Backoff);
    default:
        return net_error("net.protocol",
                         where + ": " + text +
                             (s.last_line.empty() ? "" : " (server said \"" + s.last_line + "\")"),
                         Retry::Backoff);
    }
}

std::optional<Error> check_endpoint(const net::Endpoint &ep) {
    if (ep.host.empty())
        return net_error("net.config", "no SMTP host configured", Retry::NeedsConfig);
    if (ep.tls == net::Tls::None) {
        if (!ep.allow_insecure)
            return net_error("net.config",
                             ep.host +
                                 ": tls = none needs allow_insecure = true (and a loopback host)",
                             Retry::NeedsConfig);
        if (!net::is_loopback_host(ep.host))
            return net_error("net.config",
                             ep.host + ": a plaintext connection is only allowed to loopback",
                             Retry::NeedsConfig);
    }
    for (char c : ep.username + ep.secret + ep.host)
        if (c == '\r' || c == '\n' || c == '\0')
            return net_error("net.config", "host, username or secret contains CR, LF or NUL",
                             Retry::NeedsConfig);
    return std::nullopt;
}

} // namespace

bool SendReport::accepted() const {
    return final_code / 100 == 2 && std::ranges::any_of(recipients, [](const RecipientResult &r) {
               return r.code / 100 == 2;
           });
}

std::string normalise_line_endings(std::string_view message) {
    std::string out;
    out.reserve(message.size() + message.size() / 32 + 2);
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < message.size() && message[i + 1] == '\n')
                ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (!out.ends_with("\r\n"))
        out += "\r\n";
    return out;
}

Result<SendReport> send(const net::Endpoint& ep, std::string_view envelope_from,
                        const std::vector<std::string>& recipients, std::string_view message,
                        const std::function<bool()>& before_end_of_data) {
    if (auto p = address_problem(envelope_from))
        return fail("smtp.invalid",
                    "envelope sender \"" + shown_address(envelope_from) + "\": " + *p);
    if (recipients.empty())
        return fail("smtp.invalid", "no recipients");
    for (const auto &r : recipients)
        if (auto p = address_problem(r))
            return fail("smtp.invalid", "recipient \"" + shown_address(r) + "\": " + *p);
    if (message.empty())
        return fail("smtp.invalid", "empty message");
    if (auto e = check_endpoint(ep))
        return std::unexpected(std::move(*e));

    global_init();
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    if (!easy)
        return std::unexpected(net_error("net.protocol", "curl_easy_init failed", Retry::Backoff));
    CURL *c = easy.get();

    std::string body = normalise_line_endings(message);
    std::string from = "<" + std::string(envelope_from) + ">";
    std::unique_ptr<curl_slist, SlistDeleter> rcpt_list;
    for (const auto &r : recipients) {
        std::string a = "<" + r + ">";
        curl_slist *next = curl_slist_append(rcpt_list.get(), a.c_str());
        if (!next)
            return std::unexpected(net_error("net.protocol", "out of memory", Retry::Backoff));
        rcpt_list.release();
        rcpt_list.reset(next);
    }

    Session s;
    s.need_auth = !ep.username.empty();
    s.starttls = ep.tls == net::Tls::StartTls;
    s.body = body;
    s.before_end = &before_end_of_data;

    std::string host = ep.host.find(':') != std::string::npos && ep.host.front() != '['
                           ? "[" + ep.host + "]"
                           : ep.host;
    std::string url =
        fmt::format("{}://{}:{}/", ep.tls == net::Tls::Implicit ? "smtps" : "smtp", host, ep.port);
    std::string login_options = ep.auth == net::Auth::XOAuth2 ? "AUTH=XOAUTH2" : "AUTH=PLAIN";
    long total_ms = kBaseTimeoutMs + static_cast<long>(body.size() / kBytesPerMs) +
                    static_cast<long>(ep.connect_timeout.count());
    char errbuf[CURL_ERROR_SIZE] = {0};

    bool ok = true;
    auto set = [&](CURLoption o, auto v) { ok = ok && curl_easy_setopt(c, o, v) == CURLE_OK; };
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    set(CURLOPT_ERRORBUFFER, errbuf);
    set(CURLOPT_NOSIGNAL, 1L);
    // Verbose only feeds on_debug, which reads server lines and the verbs of commands.
    set(CURLOPT_DEBUGFUNCTION, on_debug);
    set(CURLOPT_DEBUGDATA, &s);
    set(CURLOPT_VERBOSE, 1L);
    set(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    set(CURLOPT_SOCKOPTDATA, &s);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(ep.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, total_ms);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ep.ca_file.empty())
        set(CURLOPT_CAINFO, ep.ca_file.c_str());
    if (ep.tls == net::Tls::StartTls)
        set(CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!ep.username.empty()) {
        set(CURLOPT_USERNAME, ep.username.c_str());
        // Pin the SASL mechanism: libcurl otherwise prefers CRAM-MD5/DIGEST-MD5 when offered.
        set(CURLOPT_LOGIN_OPTIONS, login_options.c_str());
        if (ep.auth == net::Auth::XOAuth2)
            set(CURLOPT_XOAUTH2_BEARER, ep.secret.c_str());
        else
            set(CURLOPT_PASSWORD, ep.secret.c_str());
    }
    set(CURLOPT_MAIL_FROM, from.c_str());
    set(CURLOPT_MAIL_RCPT, rcpt_list.get());
    set(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L); // one bad recipient does not abort the others
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_READFUNCTION, on_read);
    set(CURLOPT_READDATA, &s);
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.size()));
    if (!ok)
        return std::unexpected(
            net_error("net.protocol", "libcurl rejected an option", Retry::Never));

    CURLcode rc = curl_easy_perform(c);
    // QUIT happens at cleanup; nothing it says changes the outcome.
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, nullptr);

    if (s.end_of_data) {
        // The server's word on the message decides, whatever libcurl made of it (libcurl 7.88
        // treats anything but 250 as an error).
        if (s.end_of_data->code / 100 != 2)
            return std::unexpected(reply_error("message rejected at end of DATA", *s.end_of_data));
        SendReport report;
        report.final_code = s.end_of_data->code;
        report.final_text = s.end_of_data->text;
        for (std::size_t i = 0; i < recipients.size(); ++i) {
            RecipientResult rr{recipients[i], 0, {}};
            if (i < s.rcpts.size()) {
                rr.code = s.rcpts[i].code;
                rr.text = s.rcpts[i].text;
            }
            report.recipients.push_back(std::move(rr));
        }
        return report;
    }
    if (rc == CURLE_OK)
        // libcurl finished without a reply to the end of data that we could see: treat as
        // unknown rather than as sent or not sent.
        return fail("smtp.unknown", url + ": no reply to the end of DATA was seen",
                    ErrorScope::Message, Retry::Never);
    if (s.end_refused)
        return fail("smtp.aborted",
                    url + ": stopped before the end of the message (it could not be recorded): "
                          "nothing was delivered",
                    ErrorScope::Message, Retry::Backoff);
    return std::unexpected(classify(rc, errbuf, ep, s, recipients));
}

} // namespace crm::smtp
