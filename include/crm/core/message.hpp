#pragma once
// The MIME model: what the mime module makes of raw RFC 5322 bytes. Plain values, UTF-8 everywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crm {

// One mailbox from an address header. `address` is the addr-spec as written (local@domain),
// decoded to UTF-8; `name` the decoded display name (may be empty).
struct Address {
    std::string name;
    std::string address;
    friend bool operator==(const Address&, const Address&) = default;
};

struct Attachment {
    std::string filename;     // decoded (RFC 2047 / RFC 2231), UTF-8, may be empty
    std::string content_type; // lower case "type/subtype"
    std::string content_id;   // without angle brackets
    bool is_inline = false;   // Content-Disposition: inline (or a cid-referenced part)
    std::uint64_t size = 0;   // decoded bytes
    std::string sha256;       // hex of the decoded content
    std::string content;      // decoded bytes (kept so the store can keep them once by hash)
};

// What crm-mail's own DKIM (RFC 6376) and DMARC (RFC 7489) verification of the raw bytes
// concluded about the From domain (the auth module fills it in before ingest; mime never does).
// Only real evidence counts: a signature that fails although its key was found, or a
// reject/quarantine DMARC policy with no aligned passing signature. A missing key (rotated since
// the mail was sent), a DNS failure or an unsigned mail from a domain without a policy is "no
// result", never a failure.
struct SenderVerification {
    std::string failure;       // non-empty: why the From domain looks forged
    bool aligned_pass = false; // a valid signature whose d= aligns with the From domain
    std::string summary;       // e.g. "dkim=pass (d=example.com); dmarc=pass (p=reject)"
};

// What an automatic message says about mail we sent (RFC 3464 delivery status notifications and
// the common non-standard bounce texts), or that it is an automatic answer (RFC 3834).
enum class AutoKind {
    None,      // written by a person (or not recognised)
    Bounce,    // a permanent delivery failure
    Delayed,   // a delivery still being tried
    Delivered, // a success notice (DSN action delivered, relayed or expanded)
    AutoReply, // an out-of-office or other automatic answer
    Receipt,   // a read receipt (RFC 8098 message disposition notification)
};

// One recipient a delivery report is about.
struct ReportedRecipient {
    std::string address;    // lower case addr-spec
    std::string action;     // failed | delayed | delivered | relayed | expanded
    std::string status;     // RFC 3463 code ("5.1.1"), else the SMTP code ("550"), else ""
    std::string diagnostic; // the server's words, one line, at most 300 bytes
};

struct AutoReport {
    AutoKind kind = AutoKind::None;
    std::vector<ReportedRecipient> recipients; // those with the report's kind of outcome
    std::string original_message_id;           // of the mail reported on, without <>; may be ""
    std::string evidence; // how it was recognised, e.g. "RFC 3464 report", "qmail text"
};

// The stored name of each kind ("" for None): messages.auto_kind.
[[nodiscard]] inline std::string_view auto_kind_name(AutoKind k) {
    switch (k) {
    case AutoKind::Bounce:
        return "bounce";
    case AutoKind::Delayed:
        return "delayed";
    case AutoKind::Delivered:
        return "delivered";
    case AutoKind::AutoReply:
        return "autoreply";
    case AutoKind::Receipt:
        return "receipt";
    case AutoKind::None:
        break;
    }
    return "";
}

struct ParsedMessage {
    // Message-ID without angle brackets; empty when the message has none (see synthetic_id).
    std::string message_id;
    // References ids in header order, then In-Reply-To ids; no angle brackets.
    std::vector<std::string> references;
    std::vector<std::string> in_reply_to;

    std::string subject; // decoded UTF-8
    std::vector<Address> from, sender, reply_to, to, cc, bcc;
    std::optional<std::int64_t> date; // Date header as Unix seconds, if it parsed

    // Every header, names as written, values decoded to UTF-8 (unfolded).
    std::vector<std::pair<std::string, std::string>> headers;

    std::string text_body; // the chosen text: text/plain, else HTML converted to text
    std::string html_body; // the raw (unsanitised) HTML alternative, UTF-8; empty if none
    std::vector<Attachment> attachments;

    // Threading hints.
    std::string thread_index;    // Outlook Thread-Index header value as written
    std::string gmail_thread_id; // X-GM-THRID when known (IMAP supplies it; headers rarely do)

    // Mailing list / bulk markers: List-Id, List-Unsubscribe, Precedence bulk|list|junk,
    // Auto-Submitted other than "no".
    bool is_bulk = false;
    std::string list_id;

    // The Authentication-Results header values, top (newest) first. Judged by the matcher
    // (match::authentication_failed) against the authserv-ids the deployment trusts.
    std::vector<std::string> authentication_results;
    // Our own verification, when it ran (see SenderVerification).
    std::optional<SenderVerification> verification;

    // Problems met while parsing, each "what: where". Never fatal.
    std::vector<std::string> warnings;
    // True when the bytes could not be parsed as a message at all (stored raw, flagged).
    bool unparsable = false;

    // SHA-256 (hex) of the body bytes (after the header/body separator), line endings
    // normalised to LF: identifies "the same mail" across mailboxes whose trace headers differ.
    std::string content_hash;
    // A bounce, delay or delivery notice, or an automatic answer (mime::classify_report).
    AutoReport report;
};

[[nodiscard]] inline const std::string* find_header(const ParsedMessage& m, std::string_view name) {
    for (const auto& [k, v] : m.headers) {
        if (k.size() == name.size()) {
            bool eq = true;
            for (std::size_t i = 0; i < k.size(); ++i) {
                auto a = static_cast<unsigned char>(k[i]);
                auto b = static_cast<unsigned char>(name[i]);
                if ((a | 0x20) != (b | 0x20)) {
                    eq = false;
                    break;
                }
            }
            if (eq)
                return &v;
        }
    }
    return nullptr;
}

} // namespace crm
