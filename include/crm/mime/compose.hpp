#pragma once
// Composing outgoing replies: a ReplyDraft -> RFC 5322 bytes (CRLF line endings), ready for the
// SMTP layer. Pure: no I/O and no clock (the caller passes the Date and the Message-ID).
// Thread-safe after mime::init() (compose_reply() calls it itself).
//
// Safety properties (tests/unit/mime/compose_test.cpp):
// - no header injection: CR, LF or NUL in any header-bound field is an error naming the field;
// - Bcc never appears in the headers (it is envelope only);
// - every line ends in CRLF (no bare CR or LF) and no line exceeds 78 octets in the body parts
//   we encode (quoted-printable text, base64 attachments) nor 998 anywhere;
// - no SMTP smuggling: text parts are normalised to CRLF before quoted-printable encoding and a
//   line starting with "." is written as "=2E...", so the output never holds a line that is "."
//   alone. Dot-stuffing itself is left to the SMTP layer (libcurl does it exactly once).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/message.hpp"
#include "crm/core/result.hpp"

namespace crm::mime {

struct OutgoingAttachment {
    std::string filename;     // UTF-8; non-ASCII is RFC 2231-encoded. Empty: no filename
    std::string content_type; // "type/subtype" (RFC 2045 tokens); empty: application/octet-stream
    std::string content;      // raw bytes, sent base64-encoded
};

struct ReplyDraft {
    Address from;                               // account address + salesperson's name
    std::vector<Address> to, cc, bcc;           // bcc: envelope only, never in the headers
    std::string subject;                        // the parent's subject (see compose_reply)
    std::string parent_message_id;              // without <>; empty for a new conversation
    std::vector<std::string> parent_references; // the parent's References chain (ids without <>)
    std::string text_body;                      // UTF-8 (invalid sequences become U+FFFD)
    std::string html_body;                      // optional alternative, UTF-8
    std::vector<OutgoingAttachment> attachments;
    std::string message_id; // ours, without <>, chosen by the caller
    std::int64_t date = 0;  // Unix seconds; rendered in RFC 5322 with +0000
};

// The error code of every compose failure (scope Message, retry Never).
inline constexpr std::string_view kComposeInvalid = "compose.invalid";

// The full message. Headers: From, To, Cc (when any), Subject, Date, Message-ID, In-Reply-To
// and References (replies only), MIME-Version, User-Agent: crm-mail.
// The subject is reply_subject(d.subject) when parent_message_id is set, d.subject as given
// otherwise (a new conversation). Body: text/plain (quoted-printable, utf-8); with html_body a
// multipart/alternative of text and HTML (text_body empty: the text is html_to_text(html));
// with attachments a multipart/mixed of that and the base64 attachments.
// Errors ("compose.invalid"): CR, LF or NUL in a name, address, subject, filename, content type
// or message id; header text that is not UTF-8; an address that is not a valid envelope
// address (validate_envelope_address); no To; a message_id that is not dot-atom-text "@"
// dot-atom-text (RFC 5322 atext, at most 250 octets); a parent_message_id with spaces,
// brackets, quotes, parentheses, backslashes or non-ASCII; a content type that is not
// type "/" subtype; a date before 1970 or after 9999.
// Ids in parent_references that are not usable message ids (spaces, brackets, non-ASCII) are
// dropped rather than failing the reply; CR/LF/NUL in them is still an error.
[[nodiscard]] Result<std::string> compose_reply(const ReplyDraft &d);

// The addresses to give the SMTP layer as RCPT TO: To, Cc and Bcc, each validated, duplicates
// (compared ASCII case-insensitively) removed, in that order.
[[nodiscard]] Result<std::vector<std::string>> envelope_recipients(const ReplyDraft &d);

// Whether `value` may go into a header as compose_reply writes it: no CR, LF or NUL, no other
// control character but TAB, valid UTF-8. The error ("compose.invalid") names `field`.
[[nodiscard]] Result<void> check_header_value(std::string_view value, std::string_view field);

// `t` (Unix seconds) as RFC 5322 writes a date, in UTC: "Thu, 01 Jan 1970 00:00:00 +0000".
[[nodiscard]] std::string date_text(std::int64_t t);

// The reply subject: exactly one "Re: " in front of the parent's subject with every leading
// reply prefix removed, localised ones included (Re, RE[2], Re^3, AW, SV, VS, Antw, Odp, RIF, R,
// YNT, RES, Réf, Vá, 回复, 答复, 返信, 회신, Отв, ΑΠ, ...: case-insensitive, optional counter,
// ':' or '：'). [list] tags among those prefixes are kept, in order, each once. Forward prefixes
// (Fwd, FW, WG, TR, ...) are content: "Fwd: x" -> "Re: Fwd: x". Whitespace runs are kept, ends
// trimmed. "AW: Re: [list] Hello" -> "Re: [list] Hello"; "" -> "Re:".
[[nodiscard]] std::string reply_subject(std::string_view parent_subject);

// References for a reply: the parent's chain then the parent id, empty ids and duplicates removed
// (first occurrence kept; the parent id always last), capped at kMaxReferences by keeping the
// first id and the most recent ones (RFC 5322 §3.6.4; what Thunderbird and mutt do).
inline constexpr std::size_t kMaxReferences = 21;
[[nodiscard]] std::vector<std::string>
reply_references(const std::vector<std::string> &parent_chain, const std::string &parent_id);

// Envelope (RCPT TO / MAIL FROM) address check, shared with the SMTP sender: libcurl 7.88 passes
// CR/LF in envelope addresses straight to the server (an injected RCPT TO), so every envelope
// address goes through here. Accepts local@domain with a dot-atom local part (RFC 5322 atext,
// plus UTF-8 for SMTPUTF8) of at most 64 octets and a domain of LDH or UTF-8 (IDN) labels, at
// most 254 octets in all. Rejects empty input, controls (CR, LF, NUL, DEL ...), spaces, '<', '>',
// quoted local parts, domain literals, more or less than one '@' and invalid UTF-8.
[[nodiscard]] Result<void> validate_envelope_address(std::string_view addr);

} // namespace crm::mime
