#include "crm/smtp/sender.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "crm/net/smtp_transfer.hpp"
#include "session.hpp"

namespace crm::smtp {

namespace {

using detail::append_printable;
using detail::Reply;
using detail::Session;
using detail::Verb;

constexpr std::size_t kMaxAddress = 320; // 64 local + @ + 255 domain
// Total time: a fixed allowance for the dialogue plus the upload at >= 10 kB/s.
constexpr std::chrono::milliseconds kBaseTimeout{120'000};
constexpr std::size_t kBytesPerMs = 10;

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

// net::smtp_transfer's read hook. The last bytes: once libcurl has them it writes the end of
// DATA. The caller records that point first (crash safety: before it, nothing can have been
// delivered).
std::optional<std::size_t> read_body(Session& s, std::span<char> buffer) {
    std::size_t n = std::min(buffer.size(), s.body.size() - s.offset);
    if (n > 0 && s.offset + n == s.body.size() && !s.end_announced) {
        s.end_announced = true;
        if (s.before_end && *s.before_end && !(*s.before_end)()) {
            s.end_refused = true;
            return std::nullopt;
        }
    }
    std::memcpy(buffer.data(), s.body.data() + s.offset, n);
    s.offset += n;
    // libcurl stops reading once the announced size came, without asking for the EOF.
    if (s.offset == s.body.size())
        s.upload_complete = true;
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

// The outcome of a failed transfer: the server's answers first (they say more than libcurl's
// error), then libcurl's failure as net maps it, worded for a message not sent.
Error classify(const net::Failure& failure, const net::Endpoint& ep, const Session& s,
               const std::vector<std::string>& recipients) {
    std::string where = fmt::format("smtp://{}:{}", ep.host, ep.port);
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
                         failure.text,
                     ErrorScope::Message, Retry::Never};
    // The server is closing the session (overloaded, shutting down): not the message's fault.
    if (s.closing)
        return reply_error("server closing the session", *s.closing);
    if (s.auth_reply && s.auth_reply->code / 100 == 5 &&
        failure.kind == net::FailureKind::LoginDenied)
        return net_error("net.auth",
                         fmt::format("{}: login rejected for {}: {} {}", where, ep.username,
                                     s.auth_reply->code, s.auth_reply->text),
                         Retry::NeedsConfig);
    net::FailureWording wording;
    wording.timed_out = "timed out (message not sent)";
    wording.connection_lost = "connection lost (message not sent)";
    wording.login_denied = "login failed for " + ep.username + " (AUTH " +
                           (ep.auth == net::Auth::XOAuth2 ? "XOAUTH2" : "PLAIN") +
                           " rejected or not offered)";
    wording.server_said = s.last_line;
    return net::failure_error(failure, where, wording);
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

    std::string body = normalise_line_endings(message);
    Session s;
    s.need_auth = !ep.username.empty();
    s.starttls = ep.tls == net::Tls::StartTls;
    s.body = body;
    s.before_end = &before_end_of_data;

    net::SmtpEnvelope envelope;
    envelope.from = std::string(envelope_from);
    envelope.recipients = recipients;
    envelope.message_size = body.size();
    envelope.total_timeout =
        kBaseTimeout + std::chrono::milliseconds(body.size() / kBytesPerMs) + ep.connect_timeout;
    net::SmtpHooks hooks;
    hooks.server_bytes = [&s](std::string_view chunk) { s.on_in(chunk); };
    hooks.command = [&s](std::string_view line) { s.on_out(line); };
    hooks.socket = [&s](int fd) { s.sock = fd; };
    hooks.read = [&s](std::span<char> buffer) { return read_body(s, buffer); };
    const std::string url = net::smtp_url(ep);

    auto failure = net::smtp_transfer(ep, envelope, hooks);
    if (!failure)
        return std::unexpected(std::move(failure.error()));

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
    if (!*failure)
        // libcurl finished without a reply to the end of data that we could see: treat as
        // unknown rather than as sent or not sent.
        return fail("smtp.unknown", url + ": no reply to the end of DATA was seen",
                    ErrorScope::Message, Retry::Never);
    if (s.end_refused)
        return fail("smtp.aborted",
                    url + ": stopped before the end of the message (it could not be recorded): "
                          "nothing was delivered",
                    ErrorScope::Message, Retry::Backoff);
    return std::unexpected(classify(**failure, ep, s, recipients));
}

} // namespace crm::smtp
