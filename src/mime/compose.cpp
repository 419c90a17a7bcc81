// compose_reply(): a ReplyDraft -> RFC 5322 bytes with GMime, CRLF everywhere; reply subjects,
// References and envelope address checks.

#include "crm/mime/compose.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "internal.hpp"

namespace crm::mime {
namespace {

using detail::GPtr;

std::unexpected<Error> invalid(std::string detail) {
    return fail(std::string(kComposeInvalid), std::move(detail));
}

bool ascii_alpha(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool ascii_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

// RFC 5322 atext.
bool is_atext(unsigned char c) {
    if (ascii_alpha(c) || ascii_digit(c))
        return true;
    constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
    return kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
}

// Header-bound text: no CR, LF or NUL (header injection), no other controls except TAB, UTF-8.
Result<void> check_header_text(std::string_view value, std::string_view field) {
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n' || c == '\0')
            return invalid(std::string(field) + ": contains CR, LF or NUL");
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return invalid(std::string(field) + ": contains a control character");
    }
    if (!detail::is_valid_utf8(value))
        return invalid(std::string(field) + ": not valid UTF-8");
    return {};
}

// A dot-atom-text: atext runs separated by single dots.
bool is_dot_atom(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.')
        return false;
    char prev = 0;
    for (const char ch : s) {
        if (ch == '.' && prev == '.')
            return false;
        if (ch != '.' && !is_atext(static_cast<unsigned char>(ch)))
            return false;
        prev = ch;
    }
    return true;
}

constexpr std::size_t kMaxIdLength = 250; // keeps "Message-ID: <...>" well under 998 octets

// Our own Message-ID: id-left "@" id-right, both dot-atom-text.
Result<void> check_own_message_id(std::string_view id) {
    if (auto r = check_header_text(id, "message_id"); !r)
        return r;
    if (id.empty())
        return invalid("message_id: empty");
    if (id.size() > kMaxIdLength)
        return invalid("message_id: longer than " + std::to_string(kMaxIdLength) + " octets");
    const std::size_t at = id.find('@');
    if (at == std::string_view::npos || id.find('@', at + 1) != std::string_view::npos ||
        !is_dot_atom(id.substr(0, at)) || !is_dot_atom(id.substr(at + 1)))
        return invalid("message_id: not id-left@id-right of RFC 5322 atext");
    return {};
}

// Text that can stand inside "<...>": printable ASCII without the characters that would end or
// break it (brackets, quotes, comments, backslash).
bool is_id_text(std::string_view id) {
    if (id.empty() || id.size() > kMaxIdLength * 3)
        return false;
    constexpr std::string_view kBad = "<>()\"\\";
    return std::all_of(id.begin(), id.end(), [&](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c > 0x20 && c < 0x7F && kBad.find(ch) == std::string_view::npos;
    });
}

// Ids of other people's messages that can be written: id text of the form id-left "@"
// id-right. GMime stops reading a References header at an id without "@", so one such id
// would silently cut the rest of the chain: it is dropped alone. Our synthetic ids for messages
// without a Message-ID ("crm-sha256-...") have none either and never go out.
bool is_usable_foreign_id(std::string_view id) {
    const std::size_t at = id.find('@');
    return is_id_text(id) && at != 0 && at != std::string_view::npos && at + 1 != id.size() &&
           id.find('@', at + 1) == std::string_view::npos;
}

// RFC 1123 LDH label or a label with UTF-8 (an IDN U-label, encoded by the SMTP server/GMime).
bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > 253)
        return false;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = d.find('.', start);
        if (dot == std::string_view::npos)
            dot = d.size();
        const std::string_view label = d.substr(start, dot - start);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
            return false;
        for (const char ch : label) {
            const auto c = static_cast<unsigned char>(ch);
            if (!(ascii_alpha(c) || ascii_digit(c) || c == '-' || c >= 0x80))
                return false;
        }
        if (dot == d.size())
            return true;
        start = dot + 1;
    }
}

Result<void> check_address(const Address &a, std::string_view field) {
    if (auto r = check_header_text(a.name, std::string(field) + ".name"); !r)
        return r;
    if (auto r = validate_envelope_address(a.address); !r)
        return invalid(std::string(field) + ".address: " + r.error().detail);
    return {};
}

// RFC 2045 token (for type and subtype).
bool is_token(std::string_view s) {
    if (s.empty() || s.size() > 127)
        return false;
    constexpr std::string_view kTspecials = "()<>@,;:\\\"/[]?=";
    return std::all_of(s.begin(), s.end(), [&](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c > 0x20 && c < 0x7F && kTspecials.find(ch) == std::string_view::npos;
    });
}

// "Thu, 01 Jan 1970 00:00:00 +0000", computed without the C library's locale or time zone.
std::string rfc5322_date(std::int64_t t) {
    std::int64_t days = t / 86400;
    std::int64_t secs = t % 86400;
    const auto weekday = static_cast<int>((days + 4) % 7); // 1970-01-01 was a Thursday
    // Howard Hinnant's civil_from_days.
    days += 719468;
    const std::int64_t era = days / 146097;
    const std::int64_t doe = days - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
    constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000",
                       kDays[static_cast<std::size_t>(weekday)], day,
                       kMonths[static_cast<std::size_t>(month - 1)], year, secs / 3600,
                       (secs / 60) % 60, secs % 60);
}

constexpr std::int64_t kMaxDate = 253402300799; // 9999-12-31T23:59:59Z

// Quoted-printable (RFC 2045 §6.7) of UTF-8 text with LF line breaks in the output (the DOS
// newline filter turns them into CRLF). CRLF, bare CR and bare LF in the input all become one
// line break, so no bare CR/LF can reach the wire. Output lines are at most 76 octets. A "."
// at the start of an output line is written "=2E": no line of the part can be "." alone (SMTP
// end of data) whatever the SMTP layer does, and "From " is written "=46rom " (mbox).
std::string quoted_printable(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8 + 16);
    std::size_t col = 0;
    constexpr std::size_t kMaxLine = 76;
    constexpr std::string_view kHex = "0123456789ABCDEF";
    auto emit = [&](std::string_view token) {
        // Room for the token and, if more follows on this line, a soft break "=".
        if (col + token.size() > kMaxLine - 1) {
            out += "=\n";
            col = 0;
        }
        out += token;
        col += token.size();
    };
    auto encoded = [&](unsigned char c) {
        const std::array<char, 3> e = {'=', kHex[c >> 4U], kHex[c & 0x0FU]};
        emit(std::string_view(e.data(), e.size()));
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '\r' || c == '\n') {
            if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
                ++i;
            out += '\n';
            col = 0;
            continue;
        }
        const bool line_end = i + 1 == text.size() || text[i + 1] == '\n' || text[i + 1] == '\r';
        if (c == ' ' || c == '\t') {
            if (line_end)
                encoded(c); // trailing whitespace would be stripped in transit
            else
                emit(std::string_view(text.data() + i, 1));
            continue;
        }
        if (c < 0x21 || c > 0x7E || c == '=') {
            encoded(c);
            continue;
        }
        // col == 0 also after a soft break: emit() may start a new line, so check first.
        const bool starts_line = col == 0 || col + 1 > kMaxLine - 1;
        if (starts_line && (c == '.' || (c == 'F' && text.substr(i).starts_with("From ")))) {
            encoded(c);
            continue;
        }
        emit(std::string_view(text.data() + i, 1));
    }
    return out;
}

GPtr<GMimeDataWrapper> wrapper_for(std::string_view bytes, GMimeContentEncoding encoding) {
    GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
    return GPtr<GMimeDataWrapper>(g_mime_data_wrapper_new_with_stream(stream.get(), encoding));
}

// A text/<subtype>; charset=utf-8 part, quoted-printable, already encoded by us.
GPtr<GMimeObject> text_part(std::string text, const char *subtype) {
    detail::repair_utf8(text);
    GPtr<GMimeTextPart> part(g_mime_text_part_new_with_subtype(subtype));
    g_mime_text_part_set_charset(part.get(), "utf-8");
    const std::string qp = quoted_printable(text);
    auto wrapper = wrapper_for(qp, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_mime_part_set_content(GMIME_PART(part.get()), wrapper.get());
    g_mime_part_set_content_encoding(GMIME_PART(part.get()),
                                     GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    return GPtr<GMimeObject>(GMIME_OBJECT(part.release()));
}

Result<GPtr<GMimeObject>> attachment_part(const OutgoingAttachment &a, std::size_t index) {
    const std::string field = "attachments[" + std::to_string(index) + "]";
    if (auto r = check_header_text(a.filename, field + ".filename"); !r)
        return std::unexpected(r.error());
    if (auto r = check_header_text(a.content_type, field + ".content_type"); !r)
        return std::unexpected(r.error());
    std::string type = "application";
    std::string subtype = "octet-stream";
    if (!a.content_type.empty()) {
        const std::string ct = detail::ascii_lower(detail::trim(a.content_type));
        const std::size_t slash = ct.find('/');
        if (slash == std::string::npos || !is_token(ct.substr(0, slash)) ||
            !is_token(ct.substr(slash + 1)))
            return invalid(field + ".content_type: not type/subtype");
        type = ct.substr(0, slash);
        subtype = ct.substr(slash + 1);
        // A nested message or multipart would have to be parsed, not base64'd: send it opaque.
        if (type == "multipart" || type == "message") {
            type = "application";
            subtype = "octet-stream";
        }
    }
    GPtr<GMimePart> part(g_mime_part_new_with_type(type.c_str(), subtype.c_str()));
    if (!a.filename.empty())
        g_mime_part_set_filename(part.get(), a.filename.c_str());
    else
        g_mime_object_set_disposition(GMIME_OBJECT(part.get()), GMIME_DISPOSITION_ATTACHMENT);
    auto wrapper = wrapper_for(a.content, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part.get(), wrapper.get());
    g_mime_part_set_content_encoding(part.get(), GMIME_CONTENT_ENCODING_BASE64);
    return GPtr<GMimeObject>(GMIME_OBJECT(part.release()));
}

// A boundary that cannot occur in our parts: "=_" never appears in quoted-printable ('=' is
// written =3D) nor base64 ('_' is not in its alphabet). Derived from our Message-ID so the output
// is a function of the draft (GMime would draw random bytes).
std::string boundary_for(std::string_view message_id, std::string_view kind) {
    std::string key(message_id);
    key += '/';
    key += kind;
    return "=_crm_" + std::string(kind) + "_" + sha256_hex(key).substr(0, 32);
}

struct FormatOptionsFree {
    void operator()(GMimeFormatOptions *p) const noexcept {
        if (p != nullptr)
            g_mime_format_options_free(p);
    }
};

Result<std::string> compose_impl(const ReplyDraft &d) {
    // Validate everything before building anything.
    if (auto r = check_address(d.from, "from"); !r)
        return std::unexpected(r.error());
    if (d.to.empty())
        return invalid("to: no recipient");
    auto check_list = [](const std::vector<Address> &list, std::string_view name) -> Result<void> {
        for (std::size_t i = 0; i < list.size(); ++i)
            if (auto r = check_address(list[i], std::string(name) + "[" + std::to_string(i) + "]");
                !r)
                return r;
        return {};
    };
    for (auto [list, name] : {std::pair{&d.to, "to"}, {&d.cc, "cc"}, {&d.bcc, "bcc"}})
        if (auto r = check_list(*list, name); !r)
            return std::unexpected(r.error());
    if (auto r = check_header_text(d.subject, "subject"); !r)
        return std::unexpected(r.error());
    if (auto r = check_own_message_id(d.message_id); !r)
        return std::unexpected(r.error());
    const bool is_reply = !d.parent_message_id.empty();
    if (is_reply) {
        if (auto r = check_header_text(d.parent_message_id, "parent_message_id"); !r)
            return std::unexpected(r.error());
        if (!is_id_text(d.parent_message_id))
            return invalid("parent_message_id: not a usable message id");
    }
    // A parent whose id cannot be written (no "@", or our synthetic id) is still answered, but
    // In-Reply-To and References carry only what can be.
    const std::string parent_id =
        is_reply && is_usable_foreign_id(d.parent_message_id) ? d.parent_message_id : std::string();
    std::vector<std::string> chain;
    for (std::size_t i = 0; i < d.parent_references.size(); ++i) {
        const std::string &id = d.parent_references[i];
        if (auto r = check_header_text(id, "parent_references[" + std::to_string(i) + "]"); !r)
            return std::unexpected(r.error());
        if (is_usable_foreign_id(id))
            chain.push_back(id);
    }
    if (d.date < 0 || d.date > kMaxDate)
        return invalid("date: outside 1970..9999");

    init();
    GPtr<GMimeMessage> msg(g_mime_message_new(TRUE));
    auto *obj = GMIME_OBJECT(msg.get());
    g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_FROM, d.from.name.c_str(),
                               d.from.address.c_str());
    for (const auto &a : d.to)
        g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_TO, a.name.c_str(),
                                   a.address.c_str());
    for (const auto &a : d.cc)
        g_mime_message_add_mailbox(msg.get(), GMIME_ADDRESS_TYPE_CC, a.name.c_str(),
                                   a.address.c_str());
    // d.bcc: envelope only (envelope_recipients()).
    const std::string subject = is_reply ? reply_subject(d.subject) : std::string(d.subject);
    g_mime_message_set_subject(msg.get(), subject.c_str(), "utf-8");
    const std::string date = rfc5322_date(d.date);
    g_mime_object_set_header(obj, "Date", date.c_str(), nullptr);
    g_mime_message_set_message_id(msg.get(), d.message_id.c_str());
    if (is_reply) {
        if (!parent_id.empty()) {
            const std::string in_reply_to = "<" + parent_id + ">";
            g_mime_object_set_header(obj, "In-Reply-To", in_reply_to.c_str(), nullptr);
        }
        std::string refs;
        for (const auto &id : reply_references(chain, parent_id)) {
            if (!refs.empty())
                refs += ' ';
            refs += '<' + id + '>';
        }
        if (!refs.empty())
            g_mime_object_set_header(obj, "References", refs.c_str(), nullptr);
    }
    g_mime_object_set_header(obj, "MIME-Version", "1.0", nullptr);
    g_mime_object_set_header(obj, "User-Agent", "crm-mail", nullptr);

    GPtr<GMimeObject> body;
    if (d.html_body.empty()) {
        body = text_part(d.text_body, "plain");
    } else {
        GPtr<GMimeMultipart> alt(g_mime_multipart_new_with_subtype("alternative"));
        g_mime_multipart_set_boundary(alt.get(), boundary_for(d.message_id, "alt").c_str());
        auto plain =
            text_part(d.text_body.empty() ? html_to_text(d.html_body) : d.text_body, "plain");
        auto html = text_part(d.html_body, "html");
        g_mime_multipart_add(alt.get(), plain.get());
        g_mime_multipart_add(alt.get(), html.get());
        body.reset(GMIME_OBJECT(alt.release()));
    }
    if (!d.attachments.empty()) {
        GPtr<GMimeMultipart> mixed(g_mime_multipart_new_with_subtype("mixed"));
        g_mime_multipart_set_boundary(mixed.get(), boundary_for(d.message_id, "mixed").c_str());
        g_mime_multipart_add(mixed.get(), body.get());
        for (std::size_t i = 0; i < d.attachments.size(); ++i) {
            auto part = attachment_part(d.attachments[i], i);
            if (!part)
                return std::unexpected(part.error());
            g_mime_multipart_add(mixed.get(), part->get());
        }
        body.reset(GMIME_OBJECT(mixed.release()));
    }
    g_mime_message_set_mime_part(msg.get(), body.get());

    std::unique_ptr<GMimeFormatOptions, FormatOptionsFree> opts(g_mime_format_options_new());
    g_mime_format_options_set_newline_format(opts.get(), GMIME_NEWLINE_FORMAT_DOS);
    g_mime_format_options_set_param_encoding_method(opts.get(),
                                                    GMIME_PARAM_ENCODING_METHOD_RFC2231);
    GPtr<GMimeStream> out(g_mime_stream_mem_new());
    if (g_mime_object_write_to_stream(obj, opts.get(), out.get()) < 0)
        return fail("compose.gmime", "GMime could not write the message");
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
    if (bytes == nullptr)
        return fail("compose.gmime", "GMime wrote no bytes");
    return std::string(reinterpret_cast<const char *>(bytes->data), bytes->len);
}

// --- reply subjects ---------------------------------------------------------------------

// Reply prefixes (not forward prefixes). ASCII letters compare case-insensitively; non-ASCII
// prefixes are listed in both cases.
// clang-format off
constexpr auto kReplyPrefixes = std::to_array<std::string_view>({
    "re", "aw", "antw", "antwort", "sv", "vs", "odp", "rif", "r", "ynt", "yan", "res", "ref",
    "r\u00e9f", "R\u00c9F", "v\u00e1", "V\u00c1",                      // réf vá
    "\u0631\u062f",                                                    // رد
    "\u56de\u590d", "\u56de\u8986", "\u7b54\u590d", "\u7b54\u8986",    // 回复 回覆 答复 答覆
    "\u8fd4\u4fe1", "\ud68c\uc2e0", "\ub2f5\uc7a5",                    // 返信 회신 답장
    "\u043e\u0442\u0432", "\u041e\u0442\u0432", "\u041e\u0422\u0412",  // отв Отв ОТВ
    "\u043e\u0442\u0432\u0435\u0442", "\u041e\u0442\u0432\u0435\u0442", // ответ Ответ
    "\u041e\u0422\u0412\u0415\u0422",                                  // ОТВЕТ
    "\u03b1\u03c0", "\u0391\u03c0", "\u0391\u03a0",                    // απ Απ ΑΠ
    "\u03c3\u03c7\u03b5\u03c4", "\u03a3\u03c7\u03b5\u03c4",            // σχετ Σχετ
    "\u03a3\u03a7\u0395\u03a4",                                        // ΣΧΕΤ
});
// clang-format on

bool starts_with_icase(std::string_view s, std::string_view p) {
    if (s.size() < p.size())
        return false;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (ascii_lower(s[i]) != ascii_lower(p[i]))
            return false;
    return true;
}

constexpr std::string_view kFullwidthColon = "\xEF\xBC\x9A"; // '：'

// Length of a colon (':' or '：') at the start of s, 0 if none.
std::size_t colon_length(std::string_view s) {
    if (s.starts_with(':'))
        return 1;
    if (s.starts_with(kFullwidthColon))
        return kFullwidthColon.size();
    return 0;
}

std::size_t skip_blanks(std::string_view s, std::size_t i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
        ++i;
    return i;
}

// Length of a leading reply prefix with its colon ("Re:", "RE[2]:", "Re(2):", "Re^2:", "Re :",
// "回复："), 0 if there is none.
std::size_t reply_prefix_length(std::string_view s) {
    for (std::string_view p : kReplyPrefixes) {
        if (!starts_with_icase(s, p))
            continue;
        std::size_t j = p.size();
        if (p.size() == 1) { // Italian "R:" only directly before the colon
            if (const std::size_t c = colon_length(s.substr(j)); c != 0)
                return j + c;
            continue;
        }
        // A prefix is a whole word: "Rest: x" is not "Re" + "st:".
        if (j < s.size() &&
            (ascii_alpha(static_cast<unsigned char>(s[j])) ||
             static_cast<unsigned char>(s[j]) >= 0x80) &&
            colon_length(s.substr(j)) == 0)
            continue;
        j = skip_blanks(s, j);
        if (j < s.size() && (s[j] == '[' || s[j] == '(')) {
            const char close = s[j] == '[' ? ']' : ')';
            std::size_t k = j + 1;
            while (k < s.size() && ascii_digit(static_cast<unsigned char>(s[k])))
                ++k;
            if (k > j + 1 && k < s.size() && s[k] == close)
                j = k + 1;
        } else if (j < s.size() && s[j] == '^') {
            std::size_t k = j + 1;
            while (k < s.size() && ascii_digit(static_cast<unsigned char>(s[k])))
                ++k;
            if (k > j + 1)
                j = k;
        }
        j = skip_blanks(s, j);
        if (const std::size_t c = colon_length(s.substr(j)); c != 0)
            return j + c;
    }
    return 0;
}

// Length of a leading "[tag]", 0 if none (or if the tag is all there is).
std::size_t tag_length(std::string_view s) {
    if (!s.starts_with('['))
        return 0;
    const std::size_t close = s.find_first_of("[]", 1);
    if (close == std::string_view::npos || s[close] != ']')
        return 0;
    return close + 1;
}

std::string_view trim_blanks(std::string_view s) {
    const std::size_t b = skip_blanks(s, 0);
    s.remove_prefix(b);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::string reply_subject(std::string_view parent_subject) {
    std::string_view s = trim_blanks(parent_subject);
    std::vector<std::string_view> tags;
    while (!s.empty()) {
        if (const std::size_t n = reply_prefix_length(s); n != 0) {
            s = trim_blanks(s.substr(n));
            continue;
        }
        if (const std::size_t n = tag_length(s); n != 0 && !trim_blanks(s.substr(n)).empty()) {
            const std::string_view tag = s.substr(0, n);
            if (std::find(tags.begin(), tags.end(), tag) == tags.end())
                tags.push_back(tag);
            s = trim_blanks(s.substr(n));
            continue;
        }
        break;
    }
    std::string out = "Re:";
    for (std::string_view tag : tags) {
        out += ' ';
        out += tag;
    }
    if (!s.empty()) {
        out += ' ';
        out += s;
    }
    return out;
}

std::vector<std::string> reply_references(const std::vector<std::string> &parent_chain,
                                          const std::string &parent_id) {
    std::vector<std::string> out;
    out.reserve(parent_chain.size() + 1);
    auto seen = [&out](const std::string &id) {
        return std::find(out.begin(), out.end(), id) != out.end();
    };
    for (const auto &id : parent_chain)
        if (!id.empty() && id != parent_id && !seen(id))
            out.push_back(id);
    if (!parent_id.empty())
        out.push_back(parent_id);
    if (out.size() > kMaxReferences) {
        // Keep the root and the most recent kMaxReferences - 1.
        out.erase(out.begin() + 1,
                  out.begin() + static_cast<std::ptrdiff_t>(out.size() - (kMaxReferences - 1)));
    }
    return out;
}

Result<void> validate_envelope_address(std::string_view addr) {
    if (addr.empty())
        return invalid("empty address");
    for (const char ch : addr) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\r' || c == '\n' || c == '\0')
            return invalid("address contains CR, LF or NUL");
        if (c < 0x20 || c == 0x7F)
            return invalid("address contains a control character");
        if (c == ' ')
            return invalid("address contains a space");
        if (c == '<' || c == '>')
            return invalid("address contains '<' or '>'");
    }
    if (addr.size() > 254) // RFC 5321 §4.5.3.1.3: path of 256 octets with the brackets
        return invalid("address longer than 254 octets");
    if (!detail::is_valid_utf8(addr))
        return invalid("address is not valid UTF-8");
    const std::size_t at = addr.find('@');
    if (at == std::string_view::npos || addr.find('@', at + 1) != std::string_view::npos)
        return invalid("address needs exactly one '@'");
    const std::string_view local = addr.substr(0, at);
    const std::string_view domain = addr.substr(at + 1);
    if (local.empty() || local.size() > 64)
        return invalid("local part empty or longer than 64 octets");
    // dot-atom with UTF-8 allowed (RFC 6531 atext).
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
        return invalid("local part has a leading, trailing or double dot");
    for (const char ch : local) {
        const auto c = static_cast<unsigned char>(ch);
        if (c != '.' && c < 0x80 && !is_atext(c))
            return invalid("local part contains a character outside RFC 5322 atext");
    }
    // Legal atext, but relays still route by them: "victim%evil.example@relay.example" (the
    // percent hack) and "evil.example!victim@relay.example" (UUCP bang paths) could make a relay
    // deliver to a host the user never saw.
    if (local.find('%') != std::string_view::npos || local.find('!') != std::string_view::npos)
        return invalid("local part contains '%' or '!' (relay routing)");
    if (!valid_domain(domain))
        return invalid("domain is not a host name");
    return {};
}

Result<std::vector<std::string>> envelope_recipients(const ReplyDraft &d) {
    std::vector<std::string> out;
    std::vector<std::string> seen;
    for (auto [list, name] : {std::pair{&d.to, "to"}, {&d.cc, "cc"}, {&d.bcc, "bcc"}}) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string &a = (*list)[i].address;
            if (auto r = validate_envelope_address(a); !r)
                return invalid(std::string(name) + "[" + std::to_string(i) +
                               "].address: " + r.error().detail);
            std::string key = detail::ascii_lower(a);
            if (std::find(seen.begin(), seen.end(), key) != seen.end())
                continue;
            seen.push_back(std::move(key));
            out.push_back(a);
        }
    }
    if (out.empty())
        return invalid("to: no recipient");
    return out;
}

Result<std::string> compose_reply(const ReplyDraft &d) {
    try {
        return compose_impl(d);
    } catch (const std::bad_alloc &) {
        return fail("compose.memory", "out of memory while composing");
    }
}

std::string date_text(std::int64_t t) {
    return rfc5322_date(t);
}

Result<void> check_header_value(std::string_view value, std::string_view field) {
    return check_header_text(value, field);
}

} // namespace crm::mime
