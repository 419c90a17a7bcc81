#pragma once
// UTF-8 decoding and encoding (RFC 3629) and case folding: the one copy the modules share
// (thread's base subjects, match's address and domain checks, imap's mailbox names, mime's
// HTML text). Pure: values in, values out.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace crm {

// One code point read from UTF-8 bytes.
struct Utf8Char {
    char32_t cp = 0;
    std::size_t size = 0; // bytes consumed: 1..4
    bool valid = false;   // false: `cp` is the escape of one byte that is not UTF-8 (see below)
};

// The first escape code point: byte b (0x80..0xFF) that is not part of well-formed UTF-8 is
// reported as the lone surrogate kUtf8EscapeBase + b, i.e. U+DC80..U+DCFF (the PEP 383 trick).
// No well-formed UTF-8 decodes to a surrogate, so an escape is never confused with a character
// and append_utf8 can turn it back into the byte.
inline constexpr char32_t kUtf8EscapeBase = 0xDC00;

// Decodes the code point starting at s[pos] (pos < s.size()). Policy for bytes that are not
// well-formed UTF-8 (a stray continuation byte, a lead byte F8..FF, a sequence cut short or
// interrupted, an overlong form, a surrogate, a value past U+10FFFF): only the first byte is
// consumed (size 1, valid false) and `cp` is its escape; decoding resumes at the next byte, so
// the good characters after a bad byte are kept.
[[nodiscard]] Utf8Char decode_utf8_at(std::string_view s, std::size_t pos) noexcept;

// Every code point of `s` under that policy: lossless, encode_utf8() gives `s` back byte for byte.
[[nodiscard]] std::u32string decode_utf8(std::string_view s);

// The code points of `s` if all of it is well-formed UTF-8, nullopt otherwise.
[[nodiscard]] std::optional<std::u32string> decode_utf8_strict(std::string_view s);

// True if `s` is well-formed UTF-8 (NUL is a valid character here).
[[nodiscard]] bool is_valid_utf8(std::string_view s) noexcept;

// Appends `cp` in UTF-8; an escape (U+DC80..U+DCFF) is appended as the byte it stands for.
// `cp` must be a Unicode scalar value or an escape.
void append_utf8(std::string& out, char32_t cp);

[[nodiscard]] std::string encode_utf8(std::u32string_view s);

// Simple (one-to-one, length-preserving) lower-case mapping for ASCII, Latin-1, Latin
// Extended-A, Greek, Cyrillic and fullwidth Latin: enough to compare text written in those
// scripts case-insensitively. Not full Unicode case folding (no "ß" -> "ss"). Two deliberate
// merges: U+0130 (Turkish capital dotted I) folds to plain 'i', final sigma to sigma.
[[nodiscard]] char32_t fold_case(char32_t c) noexcept;

// ASCII-only lower case, for protocol tokens that compare case-insensitively (header and
// parameter names, charsets, domain names, RFC 4343); other bytes are left alone. Agrees with
// fold_case() on ASCII.
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
[[nodiscard]] std::string ascii_lower(std::string_view s);
[[nodiscard]] bool ascii_iequals(std::string_view a, std::string_view b) noexcept;
// ASCII-only upper case, for protocols whose tokens are conventionally upper case (IMAP status
// words, capabilities, FETCH items: RFC 3501 §9); other bytes are left alone.
[[nodiscard]] constexpr char ascii_upper(char c) noexcept {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
[[nodiscard]] std::string ascii_upper(std::string_view s);

} // namespace crm
