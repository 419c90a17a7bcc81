// The SMTP reply reader (session.hpp).

#include "session.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace crm::smtp::detail {

void append_printable(std::string& out, std::string_view s) {
    for (char ch : s) {
        if (out.size() >= kMaxReplyText)
            return;
        auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n')
            continue;
        if (c >= 0x20 && c < 0x7f)
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
    }
}

Verb verb_of(std::string_view line) {
    auto end = line.find_first_of(" \r\n");
    std::string v(line.substr(0, end));
    std::ranges::transform(v, v.begin(), [](char c) {
        return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    });
    if (v == "EHLO")
        return Verb::Ehlo;
    if (v == "HELO")
        return Verb::Helo;
    if (v == "STARTTLS")
        return Verb::StartTls;
    if (v == "AUTH")
        return Verb::Auth;
    if (v == "MAIL")
        return Verb::Mail;
    if (v == "RCPT")
        return Verb::Rcpt;
    if (v == "DATA")
        return Verb::Data;
    if (v == "QUIT")
        return Verb::Quit;
    return Verb::Other;
}

void Session::on_out(std::string_view line) {
    if (expect_sasl_response) {
        expect_sasl_response = false;
        pending.push_back(Verb::SaslResponse);
        return;
    }
    Verb v = verb_of(line);
    // The end of data (".") has no debug event in libcurl 7.88; should a later version
    // report it, it must not take the reply that belongs to the end of data.
    if (v == Verb::Other && data && data->code == 354 && !end_of_data)
        return;
    pending.push_back(v);
}

void Session::on_in(std::string_view chunk) {
    in_buf.append(chunk);
    std::size_t nl = 0;
    while ((nl = in_buf.find('\n')) != std::string::npos) {
        std::string line = in_buf.substr(0, nl);
        in_buf.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        on_line(line);
    }
    if (in_buf.size() > 4096) // a server that never ends its line; libcurl fails it too
        in_buf.clear();
}

void Session::on_line(std::string_view line) {
    last_line.clear();
    append_printable(last_line, line.substr(0, 200));
    bool digits = line.size() >= 3 && std::all_of(line.begin(), line.begin() + 3, [](char c) {
                      return std::isdigit(static_cast<unsigned char>(c)) != 0;
                  });
    if (!digits)
        return; // libcurl fails the session on such a line; last_line tells why
    bool more = line.size() > 3 && line[3] == '-';
    std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view{};
    if (!reply_text.empty() && !text.empty() && reply_text.size() < kMaxReplyText)
        reply_text += ' ';
    append_printable(reply_text, text);
    if (!pending.empty() && pending.front() == Verb::Ehlo) {
        std::string up(text.substr(0, 5));
        std::ranges::transform(up, up.begin(), [](char c) {
            return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        });
        if (up == "AUTH " || up == "AUTH=")
            auth_offered = true;
    }
    if (more)
        return;
    Reply r{(line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'), std::move(reply_text)};
    reply_text.clear();
    on_reply(std::move(r));
}

void Session::on_reply(Reply r) {
    if (r.code == 421 && !closing)
        closing = r;
    if (pending.empty()) {
        if (data && data->code == 354 && !end_of_data)
            end_of_data = std::move(r);
        else if (!greeting)
            greeting = std::move(r);
        return;
    }
    Verb v = pending.front();
    pending.pop_front();
    int cls = r.code / 100;
    switch (v) {
    case Verb::Ehlo:
    case Verb::Helo:
        if (cls == 2 && (!starttls || tls_up) && need_auth && !auth_offered && v == Verb::Ehlo) {
            cut();
        }
        auth_offered = false;
        break;
    case Verb::StartTls:
        tls_up = cls == 2;
        break;
    case Verb::Auth:
    case Verb::SaslResponse:
        if (r.code == 334)
            expect_sasl_response = true;
        else {
            auth_ok = cls == 2;
            auth_reply = std::move(r);
        }
        break;
    case Verb::Mail:
        if (need_auth && !auth_ok && !no_auth_offered)
            cut(); // never send as an unauthenticated client when credentials are set
        mail = std::move(r);
        break;
    case Verb::Rcpt:
        rcpts.push_back(std::move(r));
        break;
    case Verb::Data:
        data = std::move(r);
        break;
    case Verb::Quit:
    case Verb::Other:
        break;
    }
}

// Credentials are configured but the server offers no AUTH (libcurl 7.88 would then skip
// authentication and send MAIL FROM unauthenticated): end the session before MAIL FROM.
// The socket stays libcurl's; shutdown() only makes its next write or read fail.
void Session::cut() {
    no_auth_offered = true;
    if (sock >= 0)
        ::shutdown(sock, SHUT_RDWR);
}

} // namespace crm::smtp::detail
