#include "crm/net/transport.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <poll.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "curl_easy.hpp"
#include "imap_login.hpp"

namespace crm::net {

namespace {

Error net_error(const char* code, std::string detail, Retry retry) {
    return Error{code, std::move(detail), ErrorScope::Account, retry};
}

// The server's first line, seen through libcurl's debug callback (libcurl itself silently skips
// a greeting that is not IMAP and then fails with whatever ends the wait: a recv error, a
// timeout). Only incoming protocol lines are looked at; nothing is kept after open().
struct Greeting {
    std::string line;
    bool seen = false;
};

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    auto* g = static_cast<Greeting*>(user);
    if (type == CURLINFO_HEADER_IN && !g->seen) {
        g->seen = true;
        g->line.assign(data, std::min<std::size_t>(size, 200));
    }
    return 0;
}

// A greeting that no IMAP ("* OK", "* PREAUTH", "* BYE") or SMTP ("220 ...") server sends.
bool bad_greeting(const Greeting& g, const Endpoint& ep) {
    if (!g.seen)
        return false;
    if (ep.scheme == "imap")
        return !g.line.starts_with("* ");
    if (ep.scheme == "smtp")
        return g.line.size() < 3 || !std::isdigit(static_cast<unsigned char>(g.line[0]));
    return false;
}

std::string printable(const std::string& s) {
    std::string out;
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n')
            break;
        if (c >= 0x20 && c < 0x7f)
            out += static_cast<char>(c);
        else
            out += fmt::format("\\x{:02x}", c);
        if (out.size() >= 80)
            break;
    }
    return out;
}

// Maps a libcurl failure of the connect phase to our error classes.
Error classify(CURLcode rc, const char* errbuf, const Endpoint& ep, const Greeting& greeting) {
    std::string where = ep.scheme + "://" + ep.host + ":" + std::to_string(ep.port);
    Failure failure = detail::failure_of(rc, errbuf);
    if (bad_greeting(greeting, ep))
        return net_error("net.protocol",
                         where + ": the server's greeting is not " +
                             (ep.scheme == "imap" ? "IMAP" : "SMTP") + ": \"" +
                             printable(greeting.line) + "\" (" + failure.text + ")",
                         Retry::Backoff);
    FailureWording wording;
    wording.login_denied = "login rejected for " + ep.username;
    return failure_error(failure, where, wording);
}

// Blocking I/O on a connect-only handle until `deadline`, for the IMAP login exchange.
class BlockingIo {
  public:
    BlockingIo(CURL* c, curl_socket_t sock, std::chrono::steady_clock::time_point deadline)
        : c_(c), sock_(sock), deadline_(deadline) {}

    Result<void> send(std::string_view data) {
        while (!data.empty()) {
            std::size_t n = 0;
            CURLcode rc = curl_easy_send(c_, data.data(), data.size(), &n);
            if (rc == CURLE_AGAIN) {
                if (auto w = wait(POLLOUT); !w)
                    return w;
                continue;
            }
            if (rc != CURLE_OK)
                return std::unexpected(net_error(
                    "net.tcp", std::string("login: send failed: ") + curl_easy_strerror(rc),
                    Retry::Backoff));
            data.remove_prefix(n);
        }
        return {};
    }

    Result<std::string> read_line() {
        for (;;) {
            if (auto eol = buf_.find("\r\n"); eol != std::string::npos) {
                std::string line = buf_.substr(0, eol);
                buf_.erase(0, eol + 2);
                return line;
            }
            if (buf_.size() > 64 * 1024)
                return std::unexpected(
                    net_error("net.protocol", "login: a line longer than 64 KiB", Retry::Backoff));
            char tmp[4096];
            std::size_t n = 0;
            CURLcode rc = curl_easy_recv(c_, tmp, sizeof tmp, &n);
            if (rc == CURLE_AGAIN) {
                if (auto w = wait(POLLIN); !w)
                    return std::unexpected(w.error());
                continue;
            }
            if (rc != CURLE_OK || n == 0)
                return std::unexpected(net_error(
                    "net.tcp",
                    std::string("connection lost during login: ") +
                        (rc != CURLE_OK ? curl_easy_strerror(rc) : "closed by the server"),
                    Retry::Backoff));
            buf_.append(tmp, n);
        }
    }

  private:
    Result<void> wait(short events) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline_ - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return std::unexpected(net_error("net.timeout", "login timed out", Retry::Backoff));
        pollfd p{static_cast<int>(sock_), events, 0};
        int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno != EINTR)
            return std::unexpected(net_error("net.tcp", "login: poll failed", Retry::Backoff));
        return {};
    }

    CURL* c_;
    curl_socket_t sock_;
    std::chrono::steady_clock::time_point deadline_;
    std::string buf_;
};

} // namespace

bool is_loopback_host(const std::string& host) {
    if (host == "localhost" || host == "localhost." || host == "::1" || host == "[::1]")
        return true;
    in_addr a{};
    if (inet_pton(AF_INET, host.c_str(), &a) == 1)
        return (ntohl(a.s_addr) >> 24) == 127;
    return false;
}

struct Connection::Impl {
    detail::Easy easy;
    curl_socket_t sock = CURL_SOCKET_BAD;
    bool tls = false;
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Result<std::unique_ptr<Connection>> Connection::open(const Endpoint& ep) {
    if (ep.host.empty())
        return std::unexpected(net_error("net.config", "no host configured", Retry::NeedsConfig));
    if (ep.tls == Tls::None) {
        if (!ep.allow_insecure)
            return std::unexpected(net_error(
                "net.config",
                ep.host + ": tls = none needs allow_insecure = true (and a loopback host)",
                Retry::NeedsConfig));
        if (!is_loopback_host(ep.host))
            return std::unexpected(net_error(
                "net.config", ep.host + ": a plaintext connection is only allowed to loopback",
                Retry::NeedsConfig));
    }
    for (char c : ep.username + ep.secret)
        if (c == '\r' || c == '\n' || c == '\0')
            return std::unexpected(net_error("net.config", "username or secret contains CR, LF or NUL",
                                             Retry::NeedsConfig));

    auto impl = std::make_unique<Impl>();
    impl->easy = detail::make_easy();
    CURL* c = impl->easy.get();
    if (!c)
        return std::unexpected(net_error("net.protocol", "curl_easy_init failed", Retry::Backoff));
    const std::string url =
        detail::url_for(ep.tls == Tls::Implicit ? ep.scheme + 's' : ep.scheme, ep.host, ep.port);
    char errbuf[CURL_ERROR_SIZE] = {0};
    Greeting greeting;
    // IMAP: libcurl gets no credentials, so it stops after TLS and CAPABILITY; the login is
    // ours (imap_login.hpp), with the mechanism chosen from what the server offers then.
    const bool own_login = ep.scheme == "imap";
    // The whole of connect, TLS and login is bounded by connect_timeout.
    bool ok = detail::set_endpoint_options(
        c, ep, url, errbuf, static_cast<long>(ep.connect_timeout.count()), !own_login);
    auto set = [&](CURLoption o, auto v) { ok = ok && curl_easy_setopt(c, o, v) == CURLE_OK; };
    set(CURLOPT_CONNECT_ONLY, 1L);
    // Verbose only feeds on_debug (which ignores outgoing lines: they carry the credentials).
    set(CURLOPT_DEBUGFUNCTION, on_debug);
    set(CURLOPT_DEBUGDATA, &greeting);
    set(CURLOPT_VERBOSE, 1L);
    if (!ok)
        return std::unexpected(net_error("net.protocol", "libcurl rejected an option", Retry::Never));

    const auto deadline = std::chrono::steady_clock::now() + ep.connect_timeout;
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, nullptr); // `greeting` dies with this call
    if (rc != CURLE_OK)
        return std::unexpected(classify(rc, errbuf, ep, greeting));
    // RFC 3501 §7.1.4: PREAUTH means already logged in (libcurl refuses it with STARTTLS).
    const bool preauth = greeting.seen && greeting.line.starts_with("* PREAUTH");
    curl_socket_t sock = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK || sock == CURL_SOCKET_BAD)
        return std::unexpected(
            net_error("net.protocol", url + ": no socket after login", Retry::Backoff));
    impl->sock = sock;
    if (own_login && !ep.username.empty() && !preauth) {
        BlockingIo io(c, sock, deadline);
        LoginIo lio{[&](std::string_view d) { return io.send(d); }, [&] { return io.read_line(); }};
        if (auto l = imap_login(ep, lio); !l)
            return std::unexpected(l.error());
    }
    // Implicit TLS cannot log in without the handshake, and with CURLUSESSL_ALL libcurl fails
    // (CURLE_USE_SSL_FAILED) rather than continue without STARTTLS - also when a server greets
    // with PREAUTH, which would otherwise skip STARTTLS (tests/integration fault "preauth").
    // libcurl 7.88 does not expose the TLS session of a connect-only handle afterwards
    // (CURLINFO_TLS_SSL_PTR has no internals), so this records what libcurl enforced.
    impl->tls = ep.tls != Tls::None;
    // The credentials are no longer needed by libcurl.
    curl_easy_setopt(c, CURLOPT_PASSWORD, "");
    curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, "");
    return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

Result<std::size_t> Connection::send_some(std::span<const char> data) {
    std::size_t n = 0;
    CURLcode rc = curl_easy_send(impl_->easy.get(), data.data(), data.size(), &n);
    if (rc == CURLE_AGAIN)
        return std::size_t{0};
    if (rc != CURLE_OK)
        return std::unexpected(Error{"net.send", curl_easy_strerror(rc), ErrorScope::Account,
                                     Retry::Backoff});
    return n;
}

Result<std::size_t> Connection::recv_some(std::span<char> buffer) {
    std::size_t n = 0;
    CURLcode rc = curl_easy_recv(impl_->easy.get(), buffer.data(), buffer.size(), &n);
    if (rc == CURLE_AGAIN)
        return std::size_t{0};
    if (rc != CURLE_OK)
        return std::unexpected(Error{"net.recv", curl_easy_strerror(rc), ErrorScope::Account,
                                     Retry::Backoff});
    if (n == 0)
        return std::unexpected(
            Error{"net.closed", "the server closed the connection", ErrorScope::Account,
                  Retry::Backoff});
    return n;
}

int Connection::native_socket() const { return static_cast<int>(impl_->sock); }
bool Connection::encrypted() const { return impl_->tls; }

} // namespace crm::net
