#pragma once
// Typed views of parsed responses: FETCH, CAPABILITY, LIST/LSUB/XLIST, SEARCH/ESEARCH, VANISHED,
// STATUS (RFC 3501, RFC 7162 CONDSTORE/QRESYNC, RFC 4731 ESEARCH, RFC 6154 SPECIAL-USE, Gmail
// X-GM-EXT-1). Each helper returns nullopt when the response is not of its kind or a known item
// is malformed; unknown items are ignored.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crm/imap/protocol.hpp"

namespace crm::imap {

// Cap on numbers produced by expanding sequence sets (ESEARCH ALL, VANISHED).
inline constexpr std::size_t kDefaultMaxExpand = 1'000'000;

struct FetchData {
    std::uint64_t seq = 0; // message sequence number ("* seq FETCH")
    std::optional<std::uint64_t> uid;
    std::optional<std::vector<std::string>> flags; // \Seen, keywords; as sent
    std::optional<std::int64_t> internaldate;      // Unix seconds (UTC)
    std::optional<std::uint64_t> rfc822_size;
    std::optional<std::uint64_t> modseq; // RFC 7162 MODSEQ (n)
    // Whole message: BODY[] / BODY.PEEK[] / BINARY[] / BINARY.PEEK[] / RFC822 (NIL -> nullopt).
    std::optional<std::string> body;
    // Other body sections, item name upper-cased as sent: {"BODY[HEADER.FIELDS (MESSAGE-ID)]", ..}
    std::vector<std::pair<std::string, std::string>> sections;
    std::optional<std::uint64_t> x_gm_msgid;
    std::optional<std::uint64_t> x_gm_thrid;
    // Gmail labels, modified UTF-7 decoded when valid (else as sent), e.g. "\Inbox", "Work".
    std::optional<std::vector<std::string>> x_gm_labels;
};

// "* n FETCH (...)"; nullopt for other responses or a malformed known item.
[[nodiscard]] std::optional<FetchData> parse_fetch(const Response& r);
// The same, moving the message bytes (BODY[] and other sections) out of `r` instead of copying.
[[nodiscard]] std::optional<FetchData> take_fetch(Response& r);

// "17-Jul-1996 02:44:25 -0700" (day may be space-padded) -> Unix seconds; nullopt if invalid.
[[nodiscard]] std::optional<std::int64_t> parse_internaldate(std::string_view s);

struct Capabilities {
    std::vector<std::string> atoms; // upper-cased: "IMAP4REV1", "AUTH=PLAIN", "CONDSTORE"
    [[nodiscard]] bool has(std::string_view name) const; // ASCII case-insensitive
};

// From "* CAPABILITY ..." or a [CAPABILITY ...] response code (greeting, tagged OK);
// nullopt when the response carries neither.
[[nodiscard]] std::optional<Capabilities> parse_capabilities(const Response& r);

enum class SpecialUse { None, All, Archive, Drafts, Flagged, Junk, Sent, Trash, Important };

struct ListEntry {
    std::vector<std::string> flags;  // as sent: \HasNoChildren \Noselect \Sent ...
    std::optional<char> delimiter;   // nullopt for NIL
    std::string name;                // UTF-8, modified UTF-7 decoded (raw if it does not decode)
    std::string raw_name;            // as sent (use this in commands)
    SpecialUse special_use = SpecialUse::None; // RFC 6154, also XLIST/Gmail spellings
    [[nodiscard]] bool selectable() const; // no \Noselect / \NonExistent
};

// "* LIST (flags) delim name", also LSUB and XLIST.
[[nodiscard]] std::optional<ListEntry> parse_list(const Response& r);

struct SearchResult {
    std::vector<std::uint64_t> numbers; // SEARCH numbers / ESEARCH ALL expanded, in server order
    bool uid = false;                   // ESEARCH ... UID
    std::optional<std::string> tag;     // ESEARCH (TAG "x")
    std::optional<std::uint64_t> min, max, count;
    std::optional<std::uint64_t> modseq; // RFC 7162: SEARCH ... (MODSEQ n) / ESEARCH MODSEQ n
    bool truncated = false;              // ALL expansion hit the cap
};

// "* SEARCH 2 3 6" or "* ESEARCH (TAG "a") UID MIN 2 COUNT 3 ALL 2,10:11".
[[nodiscard]] std::optional<SearchResult> parse_search(const Response& r,
                                                       std::size_t max_numbers = kDefaultMaxExpand);

struct StatusData {
    std::string mailbox; // raw (modified UTF-7) as sent
    std::optional<std::uint64_t> messages, recent, uidnext, uidvalidity, unseen, highestmodseq;
};

// "* STATUS name (MESSAGES 231 UIDNEXT 44292 ...)".
[[nodiscard]] std::optional<StatusData> parse_status(const Response& r);

struct SeqRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0; // first <= last
    bool operator==(const SeqRange&) const = default;
};

// Server-sent sequence set "1:5,7,12:10" -> ranges (each normalised first <= last). "*" and
// zero are rejected (servers never send them in results); nullopt on syntax errors.
[[nodiscard]] std::optional<std::vector<SeqRange>> parse_sequence_set(std::string_view s);

// RFC 7162 §3.2.10: "* VANISHED (EARLIER) 300:310,405" - UIDs expunged, kept as ranges (a
// server may name UIDs the client never had, in large ranges). EARLIER: an answer to EXAMINE
// (QRESYNC ...) or FETCH (VANISHED), not a new expunge. nullopt for other responses.
struct Vanished {
    bool earlier = false;
    std::vector<SeqRange> uids;
    [[nodiscard]] bool contains(std::uint64_t uid) const;
};
[[nodiscard]] std::optional<Vanished> parse_vanished(const Response& r);

// Expands ranges in order, stopping at `cap` numbers (sets *truncated when given).
[[nodiscard]] std::vector<std::uint64_t> expand_sequence_set(const std::vector<SeqRange>& ranges,
                                                             std::size_t cap,
                                                             bool* truncated = nullptr);

} // namespace crm::imap
