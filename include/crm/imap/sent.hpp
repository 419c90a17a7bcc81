#pragma once
// The Sent folder of an account, for replies we send: file a copy (APPEND) and look a message up
// by Message-ID (to decide, after a crash, whether a reply already went out). Blocking: each call
// opens its own short IMAP session; run it off the event loop.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"
#include "crm/net/transport.hpp"

namespace crm::imap {

// Gmail and Microsoft 365 file a copy of what is sent through their SMTP servers in Sent
// themselves, so an APPEND would be a second copy. `server_files` is what the account's settings
// say (`gmail =`, `provider =`); unset, the server files them when it is Gmail, i.e. offers
// X-GM-EXT-1 (Google's "IMAP Extensions").
[[nodiscard]] bool files_sent_mail(std::optional<bool> server_files, bool offers_x_gm_ext_1);

enum class SentFiling { Appended, ServerFiles };

// Files a sent `message`: APPENDs it with \Seen to the \Sent special-use folder (else a folder
// named "Sent"), unless the server files it itself (files_sent_mail: then nothing is done, and
// with `server_files` true no connection is made). Errors: "imap.folder" when there is no Sent
// folder, the net.* / imap.* session errors otherwise.
Result<SentFiling> file_in_sent(const net::Endpoint& ep, std::string_view message,
                                std::optional<bool> server_files);

// After a crash: whether the Sent folder holds a message with this Message-ID (without angle
// brackets), when the server files sent mail itself; nullopt when it does not (the folder then
// tells nothing: our own APPEND comes only after sending), without a connection when
// `server_files` is false.
Result<std::optional<bool>> sent_by_server(const net::Endpoint& ep, std::string_view message_id,
                                           std::optional<bool> server_files);

// Mirrors read state made in the CRM: SELECTs `mailbox` (UTF-8 name) and sets (+FLAGS.SILENT)
// or clears (-FLAGS.SILENT) \Seen on the UIDs. Refuses when the mailbox's UIDVALIDITY is no
// longer `uid_validity` ("imap.uidvalidity": the UIDs mean other messages now).
Result<void> store_seen(const net::Endpoint& ep, const std::string& mailbox,
                        std::uint32_t uid_validity, const std::vector<std::uint32_t>& seen,
                        const std::vector<std::uint32_t>& unseen);

} // namespace crm::imap
