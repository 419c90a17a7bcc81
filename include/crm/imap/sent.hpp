#pragma once
// The Sent folder of an account, for replies we send: file a copy (APPEND) and look a message up
// by Message-ID (to decide, after a crash, whether a reply already went out). Blocking: each call
// opens its own short IMAP session; run it off the event loop.

#include <string>
#include <string_view>
#include <vector>
#include <cstdint>

#include "crm/core/result.hpp"
#include "crm/net/transport.hpp"

namespace crm::imap {

// APPENDs `message` with \Seen to the \Sent special-use folder (else a folder named "Sent").
// Errors: "imap.folder" when there is none, the net.* / imap.* session errors otherwise.
Result<void> append_to_sent(const net::Endpoint& ep, std::string_view message);

// Whether the Sent folder holds a message with this Message-ID (without angle brackets).
Result<bool> sent_contains(const net::Endpoint& ep, std::string_view message_id);

// Mirrors read state made in the CRM: SELECTs `mailbox` (UTF-8 name) and sets (+FLAGS.SILENT)
// or clears (-FLAGS.SILENT) \Seen on the UIDs. Refuses when the mailbox's UIDVALIDITY is no
// longer `uid_validity` ("imap.uidvalidity": the UIDs mean other messages now).
Result<void> store_seen(const net::Endpoint& ep, const std::string& mailbox,
                        std::uint32_t uid_validity, const std::vector<std::uint32_t>& seen,
                        const std::vector<std::uint32_t>& unseen);

} // namespace crm::imap
