#pragma once
// libcurl easy handles as net uses them (private to net): ownership, the options every
// connection shares (TLS verification, timeouts, CA file, STARTTLS, pinned SASL login) and the
// map from CURLcode to Failure.

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>

#include "crm/net/failure.hpp"
#include "crm/net/transport.hpp"

namespace crm::net::detail {

struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

// A new easy handle (libcurl's global state initialised once, thread-safely, first); null when
// libcurl cannot make one.
[[nodiscard]] Easy make_easy();

// "<scheme>://<host>:<port>/", an IPv6 literal host in brackets.
[[nodiscard]] std::string url_for(const std::string& scheme, const std::string& host,
                                  std::uint16_t port);

// Sets on `c` what every connection to `ep` has: `url`, the error buffer (CURL_ERROR_SIZE
// bytes, owned by the caller until the handle is done), no signals, ep.connect_timeout for the
// connection, `total_timeout_ms` in all (0: none), certificate and host name verification,
// ep.ca_file as an extra trust anchor, STARTTLS required on Tls::StartTls and, when
// `with_login`, ep.username with the SASL mechanism pinned (PLAIN, or XOAUTH2 with ep.secret as
// the bearer token). False when libcurl rejected an option.
[[nodiscard]] bool set_endpoint_options(CURL* c, const Endpoint& ep, const std::string& url,
                                        char* errbuf, long total_timeout_ms, bool with_login);

// libcurl's failure `rc`, with the error buffer's text when it has one.
[[nodiscard]] Failure failure_of(CURLcode rc, const char* errbuf);

} // namespace crm::net::detail
