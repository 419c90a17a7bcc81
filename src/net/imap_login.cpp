#include "imap_login.hpp"

#include <vector>

#include <fmt/format.h>

#include "crm/core/base64.hpp"

namespace crm::net {

namespace {

Error login_error(const char* code, std::string detail, Retry retry) {
    return Error{code, std::move(detail), ErrorScope::Account, retry};
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return out;
}

// The atoms of "* CAPABILITY a b c" (RFC 3501 §7.2.1), upper-cased.
void add_capabilities(std::string_view line, std::set<std::string>& caps) {
    constexpr std::string_view kHead = "* CAPABILITY ";
    if (line.size() < kHead.size() || upper(line.substr(0, kHead.size())) != kHead)
        return;
    line.remove_prefix(kHead.size());
    while (!line.empty()) {
        auto sp = line.find(' ');
        auto atom = line.substr(0, sp);
        if (!atom.empty())
            caps.insert(upper(atom));
        if (sp == std::string_view::npos)
            break;
        line.remove_prefix(sp + 1);
    }
}

// An astring for LOGIN (RFC 3501 §9): a quoted string when every byte may be quoted, else a
// synchronising literal (the caller waits for "+" before sending its bytes).
bool quotable(std::string_view s) {
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + '"';
}

// RFC 7628 §3.1: ',' and '=' in the authzid are escaped.
std::string gs2_name(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == ',')
            out += "=2C";
        else if (c == '=')
            out += "=3D";
        else
            out += c;
    }
    return out;
}

std::string offered(const std::set<std::string>& caps) {
    std::string out;
    for (const auto& c : caps)
        if (c.starts_with("AUTH=") || c == "LOGINDISABLED" || c == "STARTTLS")
            out += (out.empty() ? "" : " ") + c;
    return out.empty() ? "no AUTH= mechanism" : out;
}

} // namespace

ImapMechanism choose_imap_mechanism(const std::set<std::string>& caps, Auth auth) {
    if (auth == Auth::XOAuth2) {
        if (caps.contains("AUTH=XOAUTH2"))
            return ImapMechanism::XOAuth2;
        if (caps.contains("AUTH=OAUTHBEARER"))
            return ImapMechanism::OAuthBearer;
        return ImapMechanism::None;
    }
    if (caps.contains("AUTH=PLAIN"))
        return ImapMechanism::Plain;
    // RFC 3501 §6.2.3: LOGINDISABLED forbids the LOGIN command (it is offered before TLS).
    if (!caps.contains("LOGINDISABLED"))
        return ImapMechanism::LoginCommand;
    return ImapMechanism::None;
}

static bool busy_refusal(std::string_view utext) {
    // RFC 5530 INUSE and LIMIT; Gmail's [THROTTLED] and "Too many simultaneous connections"
    // (https://support.google.com/mail/answer/7126229: at most 15 per account); Microsoft 365's
    // "User is authenticated but not connected" (the mailbox is not reachable yet, or the
    // token's tenant is being provisioned: it passes with time). The credentials are fine: retry
    // later, the admin has nothing to do.
    for (std::string_view t : {"[INUSE]", "[LIMIT]", "[THROTTLED]"})
        if (utext.starts_with(t))
            return true;
    for (std::string_view t :
         {"TOO MANY SIMULTANEOUS CONNECTIONS", "AUTHENTICATED BUT NOT CONNECTED"})
        if (utext.find(t) != std::string_view::npos)
            return true;
    return false;
}

Result<void> imap_login(const Endpoint& ep, const LoginIo& io) {
    const std::string where = fmt::format("imap://{}:{}", ep.host, ep.port);
    // What the server says to a person during login ("* NO [ALERT] ...", Gmail's
    // "* NO [WEBALERT url] Web login required"): shown with a refused login.
    std::string alerts;
    // Reads until the tagged answer to `tag`; `on_continuation` answers "+" requests.
    auto await_tagged = [&](std::string_view tag,
                            const std::function<Result<void>()>& on_continuation,
                            std::set<std::string>* caps) -> Result<std::string> {
        for (;;) {
            auto line = io.read_line();
            if (!line)
                return std::unexpected(line.error());
            if (line->starts_with("+")) {
                if (!on_continuation)
                    return std::unexpected(login_error(
                        "net.protocol", where + ": unexpected continuation during login",
                        Retry::Backoff));
                if (auto r = on_continuation(); !r)
                    return std::unexpected(r.error());
                continue;
            }
            if (line->starts_with("* ")) {
                if (upper(line->substr(0, 6)) == "* BYE ")
                    return std::unexpected(
                        login_error("net.protocol",
                                    where + ": server said BYE during login: " + line->substr(6),
                                    Retry::Backoff));
                if (caps)
                    add_capabilities(*line, *caps);
                const std::string u = upper(line->substr(0, 40));
                if (u.starts_with("* NO [ALERT]") || u.starts_with("* OK [ALERT]") ||
                    u.starts_with("* NO [WEBALERT") || u.starts_with("* BAD [ALERT]"))
                    alerts += (alerts.empty() ? "" : "; ") + line->substr(2, 300);
                continue;
            }
            if (line->starts_with(std::string(tag) + " "))
                return line->substr(tag.size() + 1);
            return std::unexpected(login_error(
                "net.protocol", where + ": unexpected line during login", Retry::Backoff));
        }
    };

    std::set<std::string> caps;
    if (auto s = io.send("L1 CAPABILITY\r\n"); !s)
        return std::unexpected(s.error());
    auto cap = await_tagged("L1", {}, &caps);
    if (!cap)
        return std::unexpected(cap.error());
    if (upper(cap->substr(0, 2)) != "OK")
        return std::unexpected(
            login_error("net.protocol", where + ": CAPABILITY failed: " + *cap, Retry::Backoff));

    const ImapMechanism mech = choose_imap_mechanism(caps, ep.auth);
    if (mech == ImapMechanism::None) {
        std::string want = ep.auth == Auth::XOAuth2 ? "AUTH=XOAUTH2 or AUTH=OAUTHBEARER"
                                                    : "AUTH=PLAIN or the LOGIN command";
        std::string hint = ep.tls == Tls::None && caps.contains("STARTTLS")
                               ? "; it offers STARTTLS: set tls = \"starttls\""
                               : "";
        return std::unexpected(login_error(
            "net.mechanism",
            fmt::format(
                "{}: the server offers no login this client can use (needs {}; offers {}){}", where,
                want, offered(caps), hint),
            Retry::NeedsConfig));
    }

    std::string command;
    std::string pending; // sent at the server's "+" (a literal, or a SASL response)
    bool sasl = true;
    switch (mech) {
    case ImapMechanism::Plain: {
        // RFC 4616: authzid NUL authcid NUL passwd; SASL-IR (RFC 4959) saves a round trip.
        std::string ir = base64_encode(std::string(1, '\0') + ep.username + '\0' + ep.secret);
        command = caps.contains("SASL-IR") ? "AUTHENTICATE PLAIN " + ir : "AUTHENTICATE PLAIN";
        if (!caps.contains("SASL-IR"))
            pending = ir;
        break;
    }
    case ImapMechanism::XOAuth2:
        pending =
            base64_encode("user=" + ep.username + "\x01" + "auth=Bearer " + ep.secret + "\x01\x01");
        command = "AUTHENTICATE XOAUTH2";
        break;
    case ImapMechanism::OAuthBearer:
        pending = base64_encode("n,a=" + gs2_name(ep.username) + ",\x01" + "host=" + ep.host +
                                "\x01" + "port=" + std::to_string(ep.port) + "\x01" +
                                "auth=Bearer " + ep.secret + "\x01\x01");
        command = "AUTHENTICATE OAUTHBEARER";
        break;
    case ImapMechanism::LoginCommand:
    case ImapMechanism::None:
        sasl = false;
        break;
    }
    bool answered = false;
    Result<std::string> result;
    if (sasl) {
        if (auto s = io.send("L2 " + command + "\r\n"); !s)
            return std::unexpected(s.error());
        // The first "+" takes the response; a second one is an error challenge (XOAUTH2's JSON,
        // RFC 7628 §3.2.2): answered with an empty response (XOAUTH2) or %x01, so that the
        // server sends its tagged NO.
        result = await_tagged(
            "L2",
            [&]() -> Result<void> {
                std::string reply = !answered                            ? pending
                                    : mech == ImapMechanism::OAuthBearer ? base64_encode("\x01")
                                                                         : "";
                if (answered && mech == ImapMechanism::Plain)
                    reply = "*"; // RFC 3501 §6.2.2: cancel
                answered = true;
                return io.send(reply + "\r\n");
            },
            nullptr);
    } else {
        // RFC 3501 §6.2.3 LOGIN userid password; literals for bytes a quoted string cannot hold.
        std::vector<std::string> literals;
        std::string line = "L2 LOGIN ";
        for (const std::string* arg : {&ep.username, &ep.secret}) {
            if (arg == &ep.secret)
                line += ' ';
            if (quotable(*arg)) {
                line += quoted(*arg);
            } else {
                line += fmt::format("{{{}}}", arg->size());
                literals.push_back(line + "\r\n");
                line = *arg;
            }
        }
        // Each literal's bytes follow the server's "+"; the rest of the line after the last one.
        literals.push_back(line + "\r\n");
        if (auto s = io.send(literals.front()); !s)
            return std::unexpected(s.error());
        std::size_t next = 1;
        result = await_tagged(
            "L2",
            [&]() -> Result<void> {
                if (next >= literals.size())
                    return std::unexpected(login_error(
                        "net.protocol", where + ": unexpected continuation during LOGIN",
                        Retry::Backoff));
                return io.send(literals[next++]);
            },
            nullptr);
    }
    if (!result)
        return std::unexpected(result.error());
    const auto sp = result->find(' ');
    const std::string status = upper(result->substr(0, sp));
    if (status == "OK")
        return {};
    const std::string text = sp == std::string::npos ? std::string() : result->substr(sp + 1);
    const std::string mech_name = mech == ImapMechanism::LoginCommand ? "LOGIN"
                                  : mech == ImapMechanism::Plain      ? "AUTHENTICATE PLAIN"
                                  : mech == ImapMechanism::XOAuth2    ? "AUTHENTICATE XOAUTH2"
                                                                      : "AUTHENTICATE OAUTHBEARER";
    // RFC 5530: the server is unavailable or broken, the credentials may well be right.
    const std::string utext = upper(text);
    if (status != "NO" || utext.starts_with("[UNAVAILABLE]") || utext.starts_with("[SERVERBUG]"))
        return std::unexpected(login_error("net.protocol",
                                           fmt::format("{}: {} failed: {}", where, mech_name, text),
                                           Retry::Backoff));
    if (busy_refusal(utext))
        return std::unexpected(login_error(
            "net.busy",
            fmt::format("{}: {} refused for now (not the credentials): {}", where, mech_name, text),
            Retry::Backoff));
    return std::unexpected(login_error(
        "net.auth",
        fmt::format("{}: login rejected for {} ({}): {}{}", where, ep.username, mech_name, text,
                    alerts.empty() ? "" : " (the server says: " + alerts + ")"),
        Retry::NeedsConfig));
}

} // namespace crm::net
