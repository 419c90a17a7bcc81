#pragma once
// The pure per-message work done on the parser pool before a message is stored, the same for
// crm-maild's sync and crm-mailctl import.

#include <algorithm>
#include <string>
#include <thread>

#include "crm/auth/verifier.hpp"
#include "crm/blob/codec.hpp"
#include "crm/core/message.hpp"
#include "crm/core/ports.hpp"
#include "crm/mime/parse.hpp"

namespace crm::runtime {

// Parser threads: one per core, at most 4. They run at nice 10: parsing a batch takes less time
// than storing one, so they keep up anyway, and the thread that stores is what every other
// stage waits for (at equal priority they took its core half of the time: an initial sync of
// 20,000 messages, 6.8 s -> 6.2 s).
inline unsigned parser_threads() {
    return std::max(1u, std::min(4u, std::thread::hardware_concurrency()));
}
inline constexpr int kParserNice = 10;

// Parses `raw`, hashes it and packs it as the store keeps it, then frees `raw`: the writer needs
// only the hash and the packed bytes (which carry the size), and the batches in flight would
// otherwise hold every message twice. Attachments keep only their size and hash: their bytes
// are stored once, inside the raw message.
// With a `verifier`, the sender's DKIM signatures and DMARC policy are checked here, while the
// raw bytes are still there and off the thread that stores (a DNS wait never holds the write
// lock). Every message with a From is checked: ingest uses the verdict only for incoming mail
// (our own outgoing mail costs at most one cached DMARC lookup of our own domain).
// `fallback_charset`: how text without a declared charset that is not UTF-8 is read (empty:
// windows-1252, mime::ParseLimits' default).
inline void prepare_raw(std::string& raw, ParsedMessage& parsed, std::string& sha256,
                        PackedBlob& packed, const auth::Verifier* verifier = nullptr,
                        const std::string& fallback_charset = {}) {
    mime::ParseLimits limits;
    limits.keep_attachment_content = false;
    if (!fallback_charset.empty())
        limits.fallback_charsets = {fallback_charset};
    parsed = mime::parse(raw, limits);
    if (verifier && !parsed.from.empty())
        parsed.verification = verifier->verify(raw, auth::from_domain_of(parsed));
    sha256 = mime::sha256_hex(raw);
    packed = blob::pack_blob(raw);
    std::string().swap(raw);
}

} // namespace crm::runtime
