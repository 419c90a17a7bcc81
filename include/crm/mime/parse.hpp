#pragma once
// Raw RFC 5322 bytes -> ParsedMessage. The only user of GMime. Pure: no I/O.
// Thread-safe after mime::init() (GMime's parser objects are per call).

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/message.hpp"

namespace crm::mime {

struct ParseLimits {
    std::size_t max_depth = 100;                 // multipart / message/rfc822 nesting
    std::size_t max_parts = 10'000;              // MIME parts in one message
    std::size_t max_header_bytes = 1 << 20;      // all headers of one part together
    std::size_t max_decoded_bytes = 64u << 20;   // decoded content of all parts together
    std::size_t max_text_bytes = 4u << 20;       // text_body / html_body kept
    // Tried in order for raw 8-bit headers and parts without a usable charset (after UTF-8).
    std::vector<std::string> fallback_charsets = {"windows-1252"};
    // false: attachments get their size and SHA-256 but not their bytes (Attachment::content
    // stays empty). The store does not keep them apart from the raw message, so the sync and the
    // import need not carry them; attachment_content() decodes one again when it is asked for.
    bool keep_attachment_content = true;
};

// Initialises GMime once per process; parse() calls it itself. Safe from any thread.
void init();

// Never throws and never fails: problems become warnings; bytes that are not a message at all
// give unparsable = true with whatever could be salvaged (content_hash is always set).
[[nodiscard]] ParsedMessage parse(std::span<const char> raw, const ParseLimits& limits = {});

// The decoded bytes of attachment `position` (in the order of ParsedMessage::attachments) of
// `raw`, found again by parsing with the same limits, if their SHA-256 is `sha256`. Should a later
// version number the attachments differently, the one with that hash is returned; nullopt when no
// attachment of `raw` has it.
[[nodiscard]] std::optional<std::string> attachment_content(std::span<const char> raw,
                                                            std::size_t position,
                                                            std::string_view sha256,
                                                            const ParseLimits& limits = {});

// RFC 5322 address-list / mailbox-list parser (with groups flattened), RFC 2047 display names.
// Entries that cannot be read become warnings ("address: ..."), the rest are returned.
[[nodiscard]] std::vector<Address> parse_address_list(std::string_view value,
                                                      std::vector<std::string>* warnings = nullptr);

// RFC 2047 encoded words (also a character split across two words) and raw 8-bit text
// (UTF-8, else the fallback charsets) -> UTF-8.
[[nodiscard]] std::string decode_header_text(std::string_view raw,
                                             const ParseLimits& limits = {});

// A readable plain-text rendering of HTML (no tags, entities decoded, block elements on
// their own lines, script/style dropped).
[[nodiscard]] std::string html_to_text(std::string_view html);

// Message-ID / References / In-Reply-To values -> ids without angle brackets, in order.
// Lenient as notmuch: tolerates comments, missing brackets and junk between ids.
[[nodiscard]] std::vector<std::string> parse_message_ids(std::string_view value);

} // namespace crm::mime

namespace crm::mime {
// Hex SHA-256 of bytes (GLib's GChecksum): content hashes, attachment keys, synthetic ids.
[[nodiscard]] std::string sha256_hex(std::string_view data);
} // namespace crm::mime
