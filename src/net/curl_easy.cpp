#include "curl_easy.hpp"

#include <mutex>

namespace crm::net::detail {

Easy make_easy() {
    // curl_easy_init() would initialise libcurl itself, but not thread-safely.
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    return Easy(curl_easy_init());
}

std::string url_for(const std::string& scheme, const std::string& host, std::uint16_t port) {
    const std::string h =
        host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
    return scheme + "://" + h + ":" + std::to_string(port) + "/";
}

bool set_endpoint_options(CURL* c, const Endpoint& ep, const std::string& url, char* errbuf,
                          long total_timeout_ms, bool with_login) {
    bool ok = true;
    auto set = [&](CURLoption o, auto v) { ok = ok && curl_easy_setopt(c, o, v) == CURLE_OK; };
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_ERRORBUFFER, errbuf);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(ep.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, total_timeout_ms);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!ep.ca_file.empty())
        set(CURLOPT_CAINFO, ep.ca_file.c_str());
    if (ep.tls == Tls::StartTls)
        set(CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (with_login) {
        set(CURLOPT_USERNAME, ep.username.c_str());
        // Pin the SASL mechanism: libcurl otherwise prefers CRAM-MD5/DIGEST-MD5 when offered.
        // libcurl copies string options, so the temporary is enough.
        set(CURLOPT_LOGIN_OPTIONS, ep.auth == Auth::XOAuth2 ? "AUTH=XOAUTH2" : "AUTH=PLAIN");
        if (ep.auth == Auth::XOAuth2)
            set(CURLOPT_XOAUTH2_BEARER, ep.secret.c_str());
        else
            set(CURLOPT_PASSWORD, ep.secret.c_str());
    }
    return ok;
}

Failure failure_of(CURLcode rc, const char* errbuf) {
    std::string text = errbuf[0] != 0 ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return {FailureKind::Dns, std::move(text)};
    case CURLE_COULDNT_CONNECT:
        return {FailureKind::Connect, std::move(text)};
    case CURLE_OPERATION_TIMEDOUT:
        // A resolver that never answers is a DNS failure, as the connection test names its step
        // (libcurl: "Resolving timed out after N milliseconds").
        if (text.starts_with("Resolving timed out"))
            return {FailureKind::Dns, std::move(text)};
        return {FailureKind::Timeout, std::move(text)};
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return {FailureKind::Tls, std::move(text)};
    case CURLE_USE_SSL_FAILED:
        return {FailureKind::StartTls, std::move(text)};
    case CURLE_LOGIN_DENIED:
        return {FailureKind::LoginDenied, std::move(text)};
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return {FailureKind::ConnectionLost, std::move(text)};
    default:
        return {FailureKind::Other, std::move(text)};
    }
}

} // namespace crm::net::detail

namespace crm::net {

Error failure_error(const Failure& f, std::string_view where, const FailureWording& wording) {
    auto err = [&](const char* code, std::string_view what, Retry retry) {
        return Error{code, std::string(where) + ": " + std::string(what) + ": " + f.text,
                     ErrorScope::Account, retry};
    };
    switch (f.kind) {
    case FailureKind::Dns:
        return err("net.dns", "cannot resolve host", Retry::Backoff);
    case FailureKind::Connect:
        return err("net.tcp", "cannot connect", Retry::Backoff);
    case FailureKind::Timeout:
        return err("net.timeout", wording.timed_out, Retry::Backoff);
    case FailureKind::Tls:
        return err("net.tls", "TLS failed", Retry::NeedsConfig);
    case FailureKind::StartTls:
        return err("net.starttls", "server refused STARTTLS", Retry::NeedsConfig);
    case FailureKind::LoginDenied:
        return err("net.auth", wording.login_denied, Retry::NeedsConfig);
    case FailureKind::ConnectionLost:
        return err("net.tcp", wording.connection_lost, Retry::Backoff);
    case FailureKind::Other:
        break;
    }
    return Error{
        "net.protocol",
        std::string(where) + ": " + f.text +
            (wording.server_said.empty() ? "" : " (server said \"" + wording.server_said + "\")"),
        ErrorScope::Account, Retry::Backoff};
}

} // namespace crm::net
