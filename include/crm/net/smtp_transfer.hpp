#pragma once
// One SMTP transaction (EHLO, STARTTLS, AUTH, MAIL FROM, RCPT TO..., DATA, the message, QUIT) run
// by libcurl's SMTP engine, with the same TLS rules as net::Connection: certificates and host
// names verified, an extra CA file if configured, STARTTLS required on Tls::StartTls, SASL pinned
// to PLAIN or XOAUTH2. What the session means (which reply belongs to which command, what to
// report) is the caller's (crm::smtp); this only drives libcurl and reports what it sees.
// libcurl types never appear here.

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/net/failure.hpp"
#include "crm/net/transport.hpp"

namespace crm::net {

struct SmtpEnvelope {
    std::string from;                    // reverse-path without <>; checked by the caller
    std::vector<std::string> recipients; // forward-paths without <>; checked by the caller
    std::size_t message_size = 0;        // the bytes `read` will hand over, exactly
    std::chrono::milliseconds total_timeout{120'000}; // the whole transaction, connect included
};

// Called on the calling thread, during smtp_transfer() only. Each may be empty except `read`.
struct SmtpHooks {
    // Bytes the server sent (its reply lines, in chunks as libcurl reads them).
    std::function<void(std::string_view)> server_bytes;
    // A command line libcurl sent. AUTH lines and SASL responses carry credentials: look at the
    // verb only, never store or log the line.
    std::function<void(std::string_view)> command;
    // The connection's socket once libcurl has made it, for shutdown() only (it stays
    // libcurl's: never read, write or close it).
    std::function<void(int)> socket;
    // Fills the start of `buffer` with the next message bytes and returns how many (0 only at
    // the end); nullopt aborts the transfer before those bytes are sent.
    std::function<std::optional<std::size_t>(std::span<char>)> read;
};

// Runs the transaction against `ep` (ep.scheme is ignored: Tls::Implicit is smtps://,
// otherwise smtp://; an empty ep.username sends without AUTH). Recipients rejected by the server
// do not end the transaction while one is accepted (libcurl's MAIL_RCPT_ALLOWFAILS).
// Blocking, bounded by ep.connect_timeout for the connection and envelope.total_timeout in all.
// Returns nullopt when libcurl reports success, else the Failure it reported (QUIT's outcome is
// not part of it). Errors, before anything was sent: net.protocol (libcurl could not be set up).
// Endpoint checks (host, plaintext to loopback only, CR/LF/NUL) are the caller's.
[[nodiscard]] Result<std::optional<Failure>>
smtp_transfer(const Endpoint& ep, const SmtpEnvelope& envelope, const SmtpHooks& hooks);

// The URL smtp_transfer() connects to, for messages: smtps://host:port/ or smtp://host:port/.
[[nodiscard]] std::string smtp_url(const Endpoint& ep);

} // namespace crm::net
