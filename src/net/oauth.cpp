#include "crm/net/oauth.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include <boost/json.hpp>

namespace crm::net {

namespace {

std::size_t collect(char* p, std::size_t size, std::size_t n, void* out) {
    auto* s = static_cast<std::string*>(out);
    if (s->size() + size * n > (1u << 20))
        return 0; // a token response is small: refuse a flood
    s->append(p, size * n);
    return size * n;
}

std::string escape(CURL* c, const std::string& v) {
    char* e = curl_easy_escape(c, v.c_str(), static_cast<int>(v.size()));
    std::string out = e ? e : "";
    curl_free(e);
    return out;
}

Error oauth_error(std::string detail, Retry retry = Retry::Backoff) {
    return Error{"net.oauth", std::move(detail), ErrorScope::Account, retry};
}

// An endpoint's answer: the HTTP status and the JSON object of the body (null when it is none).
struct Answer {
    long status = 0;
    boost::json::value body;
    [[nodiscard]] const boost::json::object* object() const { return body.if_object(); }
    [[nodiscard]] std::string field(const char* k) const {
        const auto* o = object();
        if (!o)
            return {};
        auto it = o->find(k);
        if (it == o->end() || !it->value().is_string())
            return {};
        return std::string(it->value().as_string());
    }
    // A positive number of seconds, given as a number or (some endpoints) a string of digits.
    [[nodiscard]] std::optional<std::int64_t> seconds(const char* k) const {
        const auto* o = object();
        if (!o)
            return std::nullopt;
        auto it = o->find(k);
        if (it == o->end())
            return std::nullopt;
        if (it->value().is_int64() && it->value().as_int64() > 0)
            return std::min<std::int64_t>(it->value().as_int64(), 1 << 30);
        if (it->value().is_uint64())
            return static_cast<std::int64_t>(
                std::min<std::uint64_t>(it->value().as_uint64(), 1u << 30));
        if (it->value().is_string()) {
            const auto& s = it->value().as_string();
            std::int64_t secs = 0;
            bool digits = !s.empty() && s.size() < 10;
            for (char ch : s) {
                if (ch < '0' || ch > '9') {
                    digits = false;
                    break;
                }
                secs = secs * 10 + (ch - '0');
            }
            if (digits && secs > 0)
                return secs;
        }
        return std::nullopt;
    }
};

// POSTs an application/x-www-form-urlencoded body (RFC 6749 §4.1.3, §6; RFC 8628 §3.1, §3.4)
// and parses the JSON answer. `fields` are name/value pairs, escaped here.
Result<Answer> post_form(const std::string& url, const std::string& ca_file,
                         std::chrono::milliseconds timeout,
                         const std::vector<std::pair<std::string, std::string>>& fields) {
    std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
    CURL* c = easy.get();
    if (!c)
        return std::unexpected(oauth_error("curl_easy_init failed"));
    std::string body;
    for (const auto& [k, v] : fields) {
        if (!body.empty())
            body += '&';
        body += k + "=" + escape(c, v);
    }
    std::string response;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (!ca_file.empty())
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file.c_str());
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return std::unexpected(
            oauth_error(url + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc))));
    Answer a;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
    boost::system::error_code ec;
    a.body = boost::json::parse(response, ec);
    if (ec)
        a.body = nullptr;
    return a;
}

// The endpoint's error (RFC 6749 §5.2): its HTTP status, "error" and "error_description".
// NeedsConfig when the grant, client or the user's answer ends the matter, Backoff otherwise.
Error endpoint_error(const std::string& url, const Answer& a) {
    const std::string err = a.field("error");
    const std::string desc = a.field("error_description");
    const bool final = err == "invalid_grant" || err == "invalid_client" ||
                       err == "unauthorized_client" || err == "access_denied" ||
                       err == "authorization_declined" || err == "expired_token" ||
                       err == "bad_verification_code" || err == "invalid_scope";
    return oauth_error(fmt::format("{}: HTTP {}{}{}", url, a.status, err.empty() ? "" : ": " + err,
                                   desc.empty() ? "" : " (" + desc + ")"),
                       final ? Retry::NeedsConfig : Retry::Backoff);
}

bool printable(const std::string& t) {
    for (char b : t)
        if (static_cast<unsigned char>(b) <= ' ' || b == 0x7f)
            return false;
    return true;
}

// The tokens of a successful token response (RFC 6749 §5.1).
Result<OAuthTokens> tokens_of(const std::string& url, const Answer& a) {
    std::string token = a.field("access_token");
    if (token.empty())
        return std::unexpected(oauth_error(url + ": the response has no access_token"));
    if (!printable(token))
        return std::unexpected(oauth_error(url + ": the access token contains invalid bytes"));
    OAuthTokens out;
    out.access_token = std::move(token);
    out.refresh_token = a.field("refresh_token");
    if (!printable(out.refresh_token))
        return std::unexpected(oauth_error(url + ": the new refresh token contains invalid bytes"));
    out.expires_in = a.seconds("expires_in");
    return out;
}

// A token request whose only good answer is 200 with the tokens (RFC 6749 §5.1, §5.2).
Result<OAuthTokens> token_grant(const std::string& url, const std::string& ca_file,
                                std::chrono::milliseconds timeout,
                                const std::vector<std::pair<std::string, std::string>>& fields) {
    auto a = post_form(url, ca_file, timeout, fields);
    if (!a)
        return std::unexpected(a.error());
    if (a->status != 200)
        return std::unexpected(endpoint_error(url, *a));
    return tokens_of(url, *a);
}

std::vector<std::pair<std::string, std::string>> client_fields(const OAuthClient& c) {
    std::vector<std::pair<std::string, std::string>> f{{"client_id", c.client_id}};
    if (!c.client_secret.empty())
        f.emplace_back("client_secret", c.client_secret);
    return f;
}

} // namespace

Result<OAuthTokens> refresh_access_token(const OAuthRefreshRequest& req) {
    std::vector<std::pair<std::string, std::string>> fields{{"grant_type", "refresh_token"},
                                                            {"refresh_token", req.refresh_token},
                                                            {"client_id", req.client_id}};
    if (!req.client_secret.empty())
        fields.emplace_back("client_secret", req.client_secret);
    return token_grant(req.token_endpoint, req.ca_file, req.timeout, fields);
}

Result<DeviceAuthorization> request_device_code(const OAuthClient& c,
                                                const std::string& device_endpoint,
                                                const std::string& scope) {
    auto fields = client_fields(c);
    fields.emplace_back("scope", scope);
    auto a = post_form(device_endpoint, c.ca_file, c.timeout, fields);
    if (!a)
        return std::unexpected(a.error());
    if (a->status != 200)
        return std::unexpected(endpoint_error(device_endpoint, *a));
    DeviceAuthorization d;
    d.device_code = a->field("device_code");
    d.user_code = a->field("user_code");
    // RFC 8628 §3.2 names it verification_uri; Google answers verification_url.
    d.verification_uri = a->field("verification_uri");
    if (d.verification_uri.empty())
        d.verification_uri = a->field("verification_url");
    d.verification_uri_complete = a->field("verification_uri_complete");
    d.message = a->field("message");
    if (d.device_code.empty() || d.user_code.empty() || d.verification_uri.empty())
        return std::unexpected(oauth_error(
            device_endpoint +
            ": the answer lacks device_code, user_code or verification_uri (RFC 8628 §3.2)"));
    if (!printable(d.device_code) || !printable(d.user_code))
        return std::unexpected(
            oauth_error(device_endpoint + ": the device or user code contains invalid bytes"));
    if (auto s = a->seconds("expires_in"))
        d.expires_in = std::chrono::seconds(*s);
    if (auto s = a->seconds("interval"))
        d.interval = std::chrono::seconds(*s); // the caller's deadline bounds it
    return d;
}

Result<DevicePoll> poll_device_code(const OAuthClient& c, const std::string& device_code) {
    auto fields = client_fields(c);
    fields.emplace_back("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
    fields.emplace_back("device_code", device_code);
    auto a = post_form(c.token_endpoint, c.ca_file, c.timeout, fields);
    if (!a)
        return std::unexpected(a.error());
    DevicePoll p;
    if (a->status != 200) {
        // RFC 8628 §3.5 (Google answers 428 for a pending one).
        const std::string err = a->field("error");
        if (err == "authorization_pending") {
            p.state = DevicePoll::State::Pending;
            return p;
        }
        if (err == "slow_down") {
            p.state = DevicePoll::State::SlowDown;
            return p;
        }
        return std::unexpected(endpoint_error(c.token_endpoint, *a));
    }
    auto t = tokens_of(c.token_endpoint, *a);
    if (!t)
        return std::unexpected(t.error());
    p.state = DevicePoll::State::Granted;
    p.tokens = std::move(*t);
    return p;
}

Result<OAuthTokens> redeem_authorization_code(const OAuthClient& c, const std::string& code,
                                              const std::string& redirect_uri,
                                              const std::string& code_verifier) {
    auto fields = client_fields(c);
    fields.emplace_back("grant_type", "authorization_code");
    fields.emplace_back("code", code);
    fields.emplace_back("redirect_uri", redirect_uri);
    fields.emplace_back("code_verifier", code_verifier);
    return token_grant(c.token_endpoint, c.ca_file, c.timeout, fields);
}

} // namespace crm::net
