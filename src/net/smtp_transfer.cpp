// One SMTP transaction over libcurl (smtp_transfer.hpp).

#include "crm/net/smtp_transfer.hpp"

#include <algorithm>

#include "curl_easy.hpp"

namespace crm::net {

namespace {

struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

int on_debug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
    const auto* h = static_cast<const SmtpHooks*>(user);
    if (h == nullptr) // detached after curl_easy_perform (QUIT at cleanup)
        return 0;
    // Only HEADER_IN (server lines) and HEADER_OUT (commands) are passed on. DATA_OUT (the
    // message) and TEXT are ignored; nothing is logged here.
    if (type == CURLINFO_HEADER_IN && h->server_bytes)
        h->server_bytes(std::string_view(data, size));
    else if (type == CURLINFO_HEADER_OUT && h->command)
        h->command(std::string_view(data, size));
    return 0;
}

int on_sockopt(void* user, curl_socket_t fd, curlsocktype) {
    const auto* h = static_cast<const SmtpHooks*>(user);
    if (h->socket)
        h->socket(static_cast<int>(fd));
    return CURL_SOCKOPT_OK;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t nitems, void* user) {
    const auto* h = static_cast<const SmtpHooks*>(user);
    const auto n = h->read(std::span<char>(buffer, size * nitems));
    if (!n)
        return CURL_READFUNC_ABORT;
    return std::min(*n, size * nitems);
}

} // namespace

std::string smtp_url(const Endpoint& ep) {
    return detail::url_for(ep.tls == Tls::Implicit ? "smtps" : "smtp", ep.host, ep.port);
}

Result<std::optional<Failure>> smtp_transfer(const Endpoint& ep, const SmtpEnvelope& envelope,
                                             const SmtpHooks& hooks) {
    auto setup_error = [](std::string detail) {
        return fail("net.protocol", std::move(detail), ErrorScope::Account, Retry::Backoff);
    };
    if (!hooks.read)
        return setup_error("smtp_transfer: no read hook");
    detail::Easy easy = detail::make_easy();
    if (!easy)
        return setup_error("curl_easy_init failed");
    CURL* c = easy.get();

    std::string from = "<" + envelope.from + ">";
    std::unique_ptr<curl_slist, SlistDeleter> rcpt_list;
    for (const auto& r : envelope.recipients) {
        const std::string a = "<" + r + ">";
        curl_slist* next = curl_slist_append(rcpt_list.get(), a.c_str());
        if (!next)
            return setup_error("out of memory");
        (void)rcpt_list.release(); // `next` is the same list, one longer
        rcpt_list.reset(next);
    }

    const std::string url = smtp_url(ep);
    char errbuf[CURL_ERROR_SIZE] = {0};
    bool ok = detail::set_endpoint_options(c, ep, url, errbuf,
                                           static_cast<long>(envelope.total_timeout.count()),
                                           !ep.username.empty());
    void* user = const_cast<SmtpHooks*>(&hooks); // libcurl's callbacks take a void*
    auto set = [&](CURLoption o, auto v) { ok = ok && curl_easy_setopt(c, o, v) == CURLE_OK; };
    set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    // Verbose only feeds on_debug, which passes on server lines and commands.
    set(CURLOPT_DEBUGFUNCTION, on_debug);
    set(CURLOPT_DEBUGDATA, user);
    set(CURLOPT_VERBOSE, 1L);
    set(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    set(CURLOPT_SOCKOPTDATA, user);
    set(CURLOPT_MAIL_FROM, from.c_str());
    set(CURLOPT_MAIL_RCPT, rcpt_list.get());
    set(CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L); // one bad recipient does not abort the others
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_READFUNCTION, on_read);
    set(CURLOPT_READDATA, user);
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(envelope.message_size));
    if (!ok)
        return fail("net.protocol", "libcurl rejected an option", ErrorScope::Account,
                    Retry::Never);

    const CURLcode rc = curl_easy_perform(c);
    // QUIT happens at cleanup (when `easy` goes); the hooks must not see it: they may be gone.
    curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, nullptr);
    if (rc == CURLE_OK)
        return std::optional<Failure>();
    return std::optional<Failure>(detail::failure_of(rc, errbuf));
}

} // namespace crm::net
