// Modified UTF-7, RFC 3501 §5.1.3: printable US-ASCII except '&' represents itself; '&' is
// "&-"; everything else is UTF-16BE in modified BASE64 (',' instead of '/', no '=' padding)
// between '&' and '-'.
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "crm/core/base64.hpp"
#include "crm/core/utf8.hpp"
#include "crm/imap/mutf7.hpp"

namespace crm::imap {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

bool printable(std::uint32_t cp) { return cp >= 0x20 && cp <= 0x7e; }

std::unexpected<Error> mutf7_error(std::string detail) {
    return fail("imap.mutf7", std::move(detail), ErrorScope::Mailbox);
}

// Emits "&" + modified BASE64 of the UTF-16BE units + "-".
void flush_shift(std::string& out, std::vector<std::uint16_t>& units) {
    if (units.empty())
        return;
    out += '&';
    std::uint32_t acc = 0;
    int bits = 0;
    for (std::uint16_t u : units) {
        acc = (acc << 16) | u;
        bits += 16;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 0x3f];
        }
        acc &= (1U << bits) - 1;
    }
    if (bits > 0)
        out += kAlphabet[(acc << (6 - bits)) & 0x3f];
    out += '-';
    units.clear();
}

} // namespace

Result<std::string> mutf7_encode(std::string_view in) {
    std::string out;
    std::vector<std::uint16_t> units;
    std::size_t i = 0;
    while (i < in.size()) {
        const auto b0 = static_cast<unsigned char>(in[i]);
        std::uint32_t cp = 0;
        std::size_t len = 0;
        if (b0 < 0x80) {
            cp = b0;
            len = 1;
        } else if ((b0 & 0xe0) == 0xc0) {
            cp = b0 & 0x1fU;
            len = 2;
        } else if ((b0 & 0xf0) == 0xe0) {
            cp = b0 & 0x0fU;
            len = 3;
        } else if ((b0 & 0xf8) == 0xf0) {
            cp = b0 & 0x07U;
            len = 4;
        } else {
            return mutf7_error(fmt::format("invalid UTF-8 lead byte at {}", i));
        }
        if (i + len > in.size())
            return mutf7_error(fmt::format("truncated UTF-8 sequence at {}", i));
        for (std::size_t k = 1; k < len; ++k) {
            const auto b = static_cast<unsigned char>(in[i + k]);
            if ((b & 0xc0) != 0x80)
                return mutf7_error(fmt::format("invalid UTF-8 continuation at {}", i + k));
            cp = (cp << 6) | (b & 0x3fU);
        }
        constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return mutf7_error(fmt::format("invalid UTF-8 code point at {}", i));
        i += len;
        if (printable(cp)) {
            flush_shift(out, units);
            if (cp == '&')
                out += "&-";
            else
                out += static_cast<char>(cp);
        } else if (cp < 0x10000) {
            units.push_back(static_cast<std::uint16_t>(cp));
        } else {
            const std::uint32_t v = cp - 0x10000;
            units.push_back(static_cast<std::uint16_t>(0xd800 + (v >> 10)));
            units.push_back(static_cast<std::uint16_t>(0xdc00 + (v & 0x3ff)));
        }
    }
    flush_shift(out, units);
    return out;
}

Result<std::string> mutf7_decode(std::string_view in) {
    std::string out;
    std::size_t i = 0;
    while (i < in.size()) {
        const char c = in[i];
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u > 0x7e)
            return mutf7_error(fmt::format("byte 0x{:02x} outside printable ASCII at {}", u, i));
        if (c != '&') {
            out += c;
            ++i;
            continue;
        }
        const std::size_t dash = in.find('-', i + 1);
        if (dash == std::string_view::npos)
            return mutf7_error(fmt::format("unterminated '&' shift at {}", i));
        if (dash == i + 1) {
            out += '&';
            i = dash + 1;
            continue;
        }
        std::uint32_t acc = 0;
        int bits = 0;
        std::uint32_t high = 0; // pending high surrogate
        for (std::size_t k = i + 1; k < dash; ++k) {
            const int v = crm::base64_value(in[k], ',');
            if (v < 0)
                return mutf7_error(fmt::format("invalid modified BASE64 character at {}", k));
            acc = (acc << 6) | static_cast<std::uint32_t>(v);
            bits += 6;
            if (bits < 16)
                continue;
            bits -= 16;
            const std::uint32_t unit = (acc >> bits) & 0xffff;
            acc &= (1U << bits) - 1;
            if (high != 0) {
                if (unit < 0xdc00 || unit > 0xdfff)
                    return mutf7_error(fmt::format("unpaired high surrogate before {}", k));
                append_utf8(out, char32_t{0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00)});
                high = 0;
            } else if (unit >= 0xd800 && unit <= 0xdbff) {
                high = unit;
            } else if (unit >= 0xdc00 && unit <= 0xdfff) {
                return mutf7_error(fmt::format("unpaired low surrogate before {}", k));
            } else if (printable(unit)) {
                return mutf7_error(fmt::format("shifted printable ASCII before {}", k));
            } else {
                append_utf8(out, char32_t{unit});
            }
        }
        if (high != 0)
            return mutf7_error(fmt::format("unpaired high surrogate at end of shift at {}", dash));
        // RFC 3501 via RFC 2152: leftover bits are fewer than 6 and zero.
        if (bits >= 6 || acc != 0)
            return mutf7_error(fmt::format("bad padding bits in shift ending at {}", dash));
        i = dash + 1;
    }
    return out;
}

} // namespace crm::imap
