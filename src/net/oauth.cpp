#include "crm/net/oauth.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

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

} // namespace

Result<OAuthTokens> refresh_access_token(const OAuthRefreshRequest& req) {
    std::unique_ptr<CURL, void (*)(CURL*)> easy(curl_easy_init(), curl_easy_cleanup);
    CURL* c = easy.get();
    if (!c)
        return std::unexpected(oauth_error("curl_easy_init failed"));
    std::string body = "grant_type=refresh_token&refresh_token=" + escape(c, req.refresh_token) +
                       "&client_id=" + escape(c, req.client_id);
    if (!req.client_secret.empty())
        body += "&client_secret=" + escape(c, req.client_secret);
    std::string response;
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_URL, req.token_endpoint.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    if (!req.ca_file.empty())
        curl_easy_setopt(c, CURLOPT_CAINFO, req.ca_file.c_str());
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        return std::unexpected(oauth_error(req.token_endpoint + ": " +
                                           (errbuf[0] ? errbuf : curl_easy_strerror(rc))));
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    boost::system::error_code ec;
    auto v = boost::json::parse(response, ec);
    const boost::json::object* o = !ec ? v.if_object() : nullptr;
    auto field = [&](const char* k) -> std::string {
        if (!o)
            return {};
        auto it = o->find(k);
        if (it == o->end() || !it->value().is_string())
            return {};
        return std::string(it->value().as_string());
    };
    if (status != 200) {
        std::string err = field("error");
        std::string desc = field("error_description");
        Retry retry = (err == "invalid_grant" || err == "invalid_client" ||
                       err == "unauthorized_client")
                          ? Retry::NeedsConfig
                          : Retry::Backoff;
        return std::unexpected(oauth_error(
            fmt::format("{}: HTTP {}{}{}", req.token_endpoint, status,
                        err.empty() ? "" : ": " + err, desc.empty() ? "" : " (" + desc + ")"),
            retry));
    }
    std::string token = field("access_token");
    if (token.empty())
        return std::unexpected(
            oauth_error(req.token_endpoint + ": the response has no access_token"));
    auto printable = [](const std::string& t) {
        for (char b : t)
            if (static_cast<unsigned char>(b) <= ' ' || b == 0x7f)
                return false;
        return true;
    };
    if (!printable(token))
        return std::unexpected(
            oauth_error(req.token_endpoint + ": the access token contains invalid bytes"));
    OAuthTokens out;
    out.access_token = std::move(token);
    out.refresh_token = field("refresh_token");
    if (!printable(out.refresh_token))
        return std::unexpected(
            oauth_error(req.token_endpoint + ": the new refresh token contains invalid bytes"));
    if (o) {
        // A number, or (some endpoints) a string of digits.
        if (auto it = o->find("expires_in"); it != o->end()) {
            if (it->value().is_int64() && it->value().as_int64() > 0)
                out.expires_in = std::min<std::int64_t>(it->value().as_int64(), 1 << 30);
            else if (it->value().is_uint64())
                out.expires_in = static_cast<std::int64_t>(
                    std::min<std::uint64_t>(it->value().as_uint64(), 1u << 30));
            else if (it->value().is_string()) {
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
                    out.expires_in = secs;
            }
        }
    }
    return out;
}

} // namespace crm::net
