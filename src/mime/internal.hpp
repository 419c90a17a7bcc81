#pragma once
// Private helpers of the mime module: GObject ownership, parser options, charset conversion.
// GMime/GLib headers stay in src/mime (STYLE.md rule 3).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gmime/gmime.h>

#include "crm/core/hex.hpp"
#include "crm/core/utf8.hpp"
#include "crm/mime/parse.hpp"

namespace crm::mime::detail {

// Owning pointers for GObject-derived GMime types and g_malloc'ed memory.
struct GObjectUnref {
    void operator()(void *p) const noexcept {
        if (p != nullptr)
            g_object_unref(p);
    }
};
template <class T> using GPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
    void operator()(void *p) const noexcept { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

struct OptionsFree {
    void operator()(GMimeParserOptions *p) const noexcept {
        if (p != nullptr)
            g_mime_parser_options_free(p);
    }
};
using OptionsPtr = std::unique_ptr<GMimeParserOptions, OptionsFree>;

// Collects GMime parser warnings as "what: where" strings, bounded in number.
struct WarningSink {
    std::vector<std::string> *out = nullptr;
    std::size_t max = 200;
    bool overflowed = false;
    // GMime reports stream offsets; parse() turns them into "in part 1.2" once the tree is known.
    struct Located {
        gint64 offset;
        std::size_t index; // into *out
    };
    std::vector<Located> located;
    void add(std::string w);
    void add_at(std::string w, gint64 offset);
};

// Lenient parser options (loose RFC 2047 / address / parameter rules) with the fallback
// charsets of `limits`; when `sink` is given, GMime's warnings go there.
[[nodiscard]] OptionsPtr make_options(const ParseLimits &limits, WarningSink *sink);

// Makes `s` valid UTF-8 in place: invalid sequences (and NULs) become U+FFFD.
void repair_utf8(std::string &s);
[[nodiscard]] bool is_valid_utf8(std::string_view s);

// Converts bytes in `charset` (may be empty or unknown) to valid UTF-8. Unknown charsets and
// bytes invalid in the declared charset fall back to UTF-8, then `fallbacks`, then repair.
// Sets `*warning` to a short reason when the declared charset was unusable.
[[nodiscard]] std::string to_utf8(std::string_view bytes, std::string_view charset,
                                  const std::vector<std::string> &fallbacks,
                                  std::string *warning = nullptr);

// Cuts `s` to at most `max` bytes on a UTF-8 character boundary. Returns true if it cut.
bool truncate_utf8(std::string &s, std::size_t max);

// RFC 2047 decoding (loose): adjacent encoded words of one charset are joined as bytes before
// conversion, so a character split across words survives; raw 8-bit text goes through UTF-8,
// then `fallbacks`. Unfolds CRLF. Always returns valid UTF-8.
[[nodiscard]] std::string decode_rfc2047(std::string_view raw,
                                         const std::vector<std::string> &fallbacks);

// Address parsing with the given options (shared by parse() and parse_address_list()).
[[nodiscard]] std::vector<Address> parse_addresses(GMimeParserOptions *options,
                                                   std::string_view value,
                                                   std::vector<std::string> *warnings,
                                                   std::string_view where,
                                                   const std::vector<std::string> &fallbacks);

// Mailboxes of an already parsed list (groups flattened); unusable entries become warnings.
// Display names still holding encoded words (GMime decodes strictly) are decoded loosely
// with `fallbacks`.
[[nodiscard]] std::vector<Address> flatten_addresses(InternetAddressList *list,
                                                     std::vector<std::string> *warnings,
                                                     std::string_view where,
                                                     const std::vector<std::string> &fallbacks);

// Loose RFC 2047 pass over text GMime has already decoded strictly (names, filenames): only
// does work when an encoded word is left.
[[nodiscard]] std::string finish_decoding(std::string s, const std::vector<std::string> &fallbacks);

// RFC 5322 addr-spec check used to flag (not necessarily drop) questionable mailboxes.
[[nodiscard]] bool is_plausible_addr_spec(std::string_view addr);

// Incremental SHA-256 with OpenSSL's libcrypto: it uses the CPU's SHA extensions (measured here:
// 1,145 MB/s against 369 MB/s for GLib's GChecksum), and hashing raw messages, bodies and
// attachments is a large share of import time.
class Sha256 {
  public:
    Sha256();
    Sha256(const Sha256 &) = delete;
    Sha256 &operator=(const Sha256 &) = delete;
    ~Sha256();
    void update(std::string_view data);
    [[nodiscard]] std::string hex();

  private:
    struct evp_md_ctx_st *c_;
};

// SHA-256 hex of `body` with every CRLF counted as LF (content_hash).
[[nodiscard]] std::string normalized_body_hash(std::string_view body);

// Pre-parse protection against inputs that crash or stall GMime itself (defuse.cpp): deep
// group nesting in address fields and huge parameter lists. Returns true and fills `out` with
// a same-length patched copy when something had to be changed.
bool defuse(std::string_view in, std::string &out);
bool defuse_address_value(std::string_view in, std::string &out);

// GMime 3.2.13's address parser leaks the address it was building (128 bytes) when a comment
// after an addr-spec never closes ("a@[](", "a@b (x"; fixed upstream after 3.2.13, GMime issue
// #159, commit 6d34651e). Every '(' whose comment would run to the end of `s` becomes a space, in
// place, so GMime never meets an unterminated comment. Returns how many were blanked.
std::size_t blank_unclosed_comments(std::string& s);

// Pre-parse protection for the HTML sanitiser (html_guard.cpp). gumbo 0.10.1 has no depth limit
// and walks its stack of open elements for most tokens, so deep nesting costs quadratic time
// (100,000 nested <div>s: 29 s); it also compares each attribute of a tag with all earlier ones.
// True when, by an estimate from above made in linear time, gumbo's stack of open elements plus
// its list of active formatting elements may exceed `max_nesting`, or a tag has more than
// `max_attributes` attributes.
[[nodiscard]] bool html_exceeds_parser_limits(std::string_view html, std::size_t max_nesting,
                                              std::size_t max_attributes);

using crm::hex_value;

using crm::ascii_iequals;
using crm::ascii_lower;
[[nodiscard]] std::string_view trim(std::string_view s);

} // namespace crm::mime::detail
