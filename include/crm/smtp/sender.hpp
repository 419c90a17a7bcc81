#pragma once
// Sends one RFC 5322 message over one SMTP session (libcurl's SMTP engine: TLS with certificate
// and host verification, STARTTLS required on Tls::StartTls, SASL pinned to PLAIN or XOAUTH2).
// libcurl types never appear here.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/net/transport.hpp"

namespace crm::smtp {

// The server's reply to one RCPT TO.
struct RecipientResult {
    std::string address;
    int code = 0;     // 0: no reply was seen for this recipient
    std::string text; // reply text after the code (printable ASCII, bounded)
};

struct SendReport {
    int final_code = 0; // reply to the end of DATA (2xx = accepted for delivery)
    std::string final_text;
    std::vector<RecipientResult> recipients; // per RCPT TO, in the order given
    // DATA accepted and at least one recipient accepted. Recipients with a 4xx/5xx reply were
    // not sent to: the caller decides whether to retry them (4xx) or report them (5xx).
    [[nodiscard]] bool accepted() const;
};

// Sends `message` from `envelope_from` to `recipients` over one SMTP session. `ep.scheme` is
// ignored (always SMTP): Tls::Implicit -> smtps:// (465), Tls::StartTls -> smtp:// with STARTTLS
// required (587), Tls::None only with allow_insecure to loopback. An empty ep.username sends
// without AUTH; with a username the session fails with net.auth if the server offers no AUTH.
//
// The message is normalised before sending: every bare LF and bare CR becomes CRLF (so a
// "\n.\n" inside the message can never end DATA early on a lenient server: SMTP smuggling), and
// a final CRLF is added when missing. Dot-stuffing is libcurl's (exactly once): do not pre-stuff.
//
// Blocking, bounded by ep.connect_timeout for the connection and by a total time that grows
// with the message size. Errors:
//   smtp.invalid   an envelope address is empty, has no '@', has CR/LF/NUL/control characters,
//                  '<', '>' or white space, or is too long; no recipients; empty message.
//                  Checked before contacting the server.                     Message, Never
//   smtp.temporary 4xx to MAIL FROM, to every RCPT TO (none accepted), to DATA or to the end
//                  of DATA, or a 421 at any point; detail has the server text Message, Backoff
//   smtp.permanent 5xx to the same (all recipients 5xx); detail has the server text
//                                                                            Message, Never
//   smtp.unknown   the connection broke or timed out after the whole message was handed over
//                  and before the reply to the end of DATA: the message MAY have been
//                  delivered; the caller must not blindly resend              Message, Never
//   net.*          as net::Connection::open documents (scope Account): net.config, net.dns,
//                  net.tcp (also: connection lost before the end of the data: not sent, safe to
//                  retry), net.timeout, net.tls, net.starttls, net.auth (535, no usable AUTH
//                  mechanism, no AUTH offered, 530 to MAIL FROM), net.protocol
//   smtp.aborted   before_end_of_data returned false: the session was abandoned before the end
//                  of DATA, so nothing was delivered                         Message, Backoff
// Partial success (some recipients accepted, others 4xx/5xx) is a SendReport, not an error.
//
// before_end_of_data (optional) is called once, on this thread, just before the message's last
// bytes are handed to the connection: until then the server cannot have the end of DATA, so a
// crash before it delivered nothing. The caller records that point durably there; false aborts.
Result<SendReport> send(const net::Endpoint& ep, std::string_view envelope_from,
                        const std::vector<std::string>& recipients, std::string_view message,
                        const std::function<bool()>& before_end_of_data = {});

// The bytes handed to libcurl for `message` (see above), exposed for tests.
[[nodiscard]] std::string normalise_line_endings(std::string_view message);

} // namespace crm::smtp
