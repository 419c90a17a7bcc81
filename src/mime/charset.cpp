// Shared helpers: GMime initialisation, SHA-256, UTF-8 repair and charset conversion.

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <iconv.h>
#include <openssl/evp.h>

#include <new>

#include "internal.hpp"

namespace crm::mime {

namespace {

// glibc loads a gconv module (ISO8859-1.so, CP1252.so, ...) on iconv_open and unloads it
// (dlclose, with the munmap and TLB shootdown that brings) when its last descriptor closes, all
// under one process-wide lock. GMime 3 opens and closes a descriptor for every header or
// parameter it converts, so two parser threads spent most of their time loading, unloading and
// waiting for that lock. One descriptor per common charset, held for the life of the process,
// keeps the modules loaded. Deliberately never closed.
void keep_gconv_modules_loaded() {
    static constexpr std::array kCharsets = {
        "ISO-8859-1",  "ISO-8859-2",  "ISO-8859-5",   "ISO-8859-7", "ISO-8859-9", "ISO-8859-15",
        "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1253", "WINDOWS-1254",
        "WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257", "KOI8-R",     "KOI8-U",     "ISO-2022-JP",
        "SHIFT_JIS",   "EUC-JP",      "BIG5",         "GB2312",     "GBK",        "GB18030",
        "EUC-KR",      "UTF-16",      "UTF-7",        "US-ASCII"};
    // Never destroyed (so leak checkers see the descriptors as reachable at exit).
    static auto *held = new std::vector<iconv_t>();
    for (const char *cs : kCharsets)
        if (iconv_t cd = iconv_open("UTF-8", cs); cd != reinterpret_cast<iconv_t>(-1))
            held->push_back(cd);
}

} // namespace

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_mime_init();
        keep_gconv_modules_loaded();
    });
}

std::string sha256_hex(std::string_view data) {
    detail::Sha256 h;
    h.update(data);
    return h.hex();
}

} // namespace crm::mime

namespace crm::mime::detail {

namespace {
// Fetched once: with EVP_sha256() OpenSSL 3 looks the algorithm up in its provider tables (locks,
// a string copy) on every EVP_DigestInit_ex, and a message is hashed three or more times.
const EVP_MD *sha256_md() {
    static EVP_MD *md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md != nullptr ? md : EVP_sha256();
}
} // namespace

Sha256::Sha256() : c_(EVP_MD_CTX_new()) {
    if (c_ == nullptr || EVP_DigestInit_ex(c_, sha256_md(), nullptr) != 1)
        throw std::bad_alloc(); // only on allocation failure inside OpenSSL
}

Sha256::~Sha256() { EVP_MD_CTX_free(c_); }

void Sha256::update(std::string_view data) {
    if (!data.empty())
        EVP_DigestUpdate(c_, data.data(), data.size());
}

std::string Sha256::hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(c_, md.data(), &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0x0f];
    }
    return out;
}

std::string normalized_body_hash(std::string_view body) {
    Sha256 h;
    if (body.empty() || std::memchr(body.data(), '\r', body.size()) == nullptr) {
        h.update(body);
        return h.hex();
    }
    // CRLF -> LF through a buffer, so the hash sees large updates rather than one per line.
    // A lone CR is kept.
    // Runs between CRs are copied whole (memchr/memcpy), not byte by byte.
    std::array<char, 16384> buf; // written before it is read: no zeroing
    std::size_t n = 0;
    auto put = [&](const char *p, std::size_t len) {
        while (len > 0) {
            const std::size_t take = std::min(len, buf.size() - n);
            std::memcpy(buf.data() + n, p, take);
            n += take;
            p += take;
            len -= take;
            if (n == buf.size()) {
                h.update(std::string_view(buf.data(), n));
                n = 0;
            }
        }
    };
    const char *p = body.data();
    const char *const end = p + body.size();
    while (p < end) {
        const auto *cr = static_cast<const char *>(
            std::memchr(p, '\r', static_cast<std::size_t>(end - p)));
        if (cr == nullptr) {
            put(p, static_cast<std::size_t>(end - p));
            break;
        }
        put(p, static_cast<std::size_t>(cr - p));
        if (cr + 1 < end && cr[1] == '\n') {
            p = cr + 1; // drop the CR of a CRLF
        } else {
            put(cr, 1); // a lone CR is kept
            p = cr + 1;
        }
    }
    h.update(std::string_view(buf.data(), n));
    return h.hex();
}

void WarningSink::add(std::string w) {
    if (out == nullptr)
        return;
    if (out->size() >= max) {
        if (!overflowed) {
            overflowed = true;
            out->emplace_back("limit: too many warnings, further ones dropped");
        }
        return;
    }
    repair_utf8(w);
    out->push_back(std::move(w));
}

void WarningSink::add_at(std::string w, gint64 offset) {
    const std::size_t before = out != nullptr ? out->size() : 0;
    if (offset < 0) {
        add(std::move(w));
        return;
    }
    add(std::move(w));
    if (out != nullptr && out->size() == before + 1 && !overflowed)
        located.push_back({offset, before});
}

namespace {

const char *warning_what(GMimeParserWarning code) {
    switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER:
        return "header: duplicated header";
    case GMIME_WARN_DUPLICATED_PARAMETER:
        return "header: duplicated parameter";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
        return "header: unencoded 8-bit header";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
        return "header: invalid Content-Type";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
        return "header: invalid RFC 2047 encoded word";
    case GMIME_WARN_MALFORMED_MULTIPART:
        return "mime: multipart without child parts";
    case GMIME_WARN_TRUNCATED_MESSAGE:
        return "mime: truncated message";
    case GMIME_WARN_MALFORMED_MESSAGE:
        return "mime: malformed message";
    case GMIME_CRIT_INVALID_HEADER_NAME:
        return "header: invalid header name";
    case GMIME_CRIT_CONFLICTING_HEADER:
        return "header: conflicting header";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
        return "header: conflicting parameter";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
        return "mime: multipart without boundary";
    case GMIME_WARN_INVALID_PARAMETER:
        return "header: invalid parameter";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
        return "address: invalid address list";
    case GMIME_CRIT_NESTING_OVERFLOW:
        return "limit: GMime nesting overflow";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
        return "mime: part without content";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
        return "mime: part without headers or content";
    }
    return "mime: parser warning";
}

void on_gmime_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                      gpointer user_data) noexcept {
    try {
        auto *sink = static_cast<WarningSink *>(user_data);
        std::string w = warning_what(code);
        if (item != nullptr && *item != '\0') {
            std::string_view it(item);
            w += " '";
            w += it.substr(0, 80);
            w += '\'';
        }
        sink->add_at(std::move(w), offset);
    } catch (...) {
        // Out of memory while recording a warning: drop the warning, never unwind into C.
    }
}

namespace {

// Descriptors to UTF-8 by charset name, per thread, most recently used first: iconv_open and
// iconv_close take a process-wide lock (see keep_gconv_modules_loaded), and GMime 3 no longer
// caches descriptors itself. A failed open is remembered too, so an unknown charset costs one
// lookup.
class IconvCache {
  public:
    IconvCache() { entries_.reserve(kMax); }
    IconvCache(const IconvCache &) = delete;
    IconvCache &operator=(const IconvCache &) = delete;
    ~IconvCache() {
        for (auto &e : entries_)
            if (e.cd != kNone)
                iconv_close(e.cd);
    }
    // Most recently used last.
    iconv_t get(const char *charset) {
        for (std::size_t i = entries_.size(); i-- > 0;) {
            if (entries_[i].name == charset) {
                std::rotate(entries_.begin() + static_cast<std::ptrdiff_t>(i),
                            entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1, entries_.end());
                return entries_.back().cd;
            }
        }
        if (entries_.size() == kMax) {
            if (entries_.front().cd != kNone)
                iconv_close(entries_.front().cd);
            entries_.erase(entries_.begin());
        }
        // g_mime_iconv_open maps charset aliases (e.g. "latin1", "x-sjis") to iconv's names.
        Entry e;
        e.name = charset;
        e.cd = g_mime_iconv_open("UTF-8", charset);
        entries_.push_back(std::move(e));
        return entries_.back().cd;
    }
    static inline const iconv_t kNone = reinterpret_cast<iconv_t>(-1);

  private:
    static constexpr std::size_t kMax = 16;
    struct Entry {
        std::string name;
        iconv_t cd = kNone;
    };
    std::vector<Entry> entries_;
};

} // namespace

// iconv-based conversion with GMime's charset aliases. With `strict`, any byte invalid in
// `charset` fails the conversion; otherwise it becomes U+FFFD.
std::optional<std::string> convert(std::string_view in, const char *charset, bool strict) {
    thread_local IconvCache cache;
    iconv_t cd = cache.get(charset);
    if (cd == IconvCache::kNone)
        return std::nullopt;
    iconv(cd, nullptr, nullptr, nullptr, nullptr); // back to the initial shift state
    std::string out;
    out.resize(in.size() + in.size() / 2 + 16);
    char *inbuf = const_cast<char *>(in.data());
    std::size_t inleft = in.size();
    std::size_t used = 0;
    bool ok = true;
    auto ensure = [&](std::size_t extra) {
        if (out.size() - used < extra)
            out.resize(out.size() * 2 + extra);
    };
    for (;;) {
        char *outbuf = out.data() + used;
        std::size_t outleft = out.size() - used;
        const std::size_t r = inleft > 0 ? iconv(cd, &inbuf, &inleft, &outbuf, &outleft)
                                         : iconv(cd, nullptr, nullptr, &outbuf, &outleft);
        const int err = errno;
        used = static_cast<std::size_t>(outbuf - out.data());
        if (r != static_cast<std::size_t>(-1)) {
            if (inleft == 0) {
                // Flush the shift state of stateful encodings (ISO-2022-JP) once.
                outbuf = out.data() + used;
                outleft = out.size() - used;
                ensure(16);
                outbuf = out.data() + used;
                outleft = out.size() - used;
                iconv(cd, nullptr, nullptr, &outbuf, &outleft);
                used = static_cast<std::size_t>(outbuf - out.data());
                break;
            }
            continue;
        }
        if (err == E2BIG) {
            ensure(out.size());
            continue;
        }
        if (err == EILSEQ || err == EINVAL) {
            if (strict) {
                ok = false;
                break;
            }
            ensure(3);
            out.replace(used, 3, "\xEF\xBF\xBD");
            used += 3;
            ++inbuf;
            --inleft;
            continue;
        }
        ok = false;
        break;
    }
    if (!ok)
        return std::nullopt;
    out.resize(used);
    return out;
}

bool is_utf8_name(std::string_view cs) {
    const std::string l = ascii_lower(cs);
    return l == "utf-8" || l == "utf8" || l == "us-ascii" || l == "ascii" || l.empty();
}

bool has_8bit(std::string_view s) {
    for (const char c : s)
        if ((static_cast<unsigned char>(c) & 0x80U) != 0)
            return true;
    return false;
}

} // namespace

OptionsPtr make_options(const ParseLimits &limits, WarningSink *sink) {
    OptionsPtr opts(g_mime_parser_options_new());
    // RFC 2047 in GMime stays strict on purpose: its loose tokenizer rescans to the end of the
    // value for every unclosed "=?" (quadratic: a 160 KB Subject of "=?a?q?x " took 2 s, 1 MB
    // over a minute, inside g_mime_parser_construct_message). The loose decoding the product
    // wants is done by decode_rfc2047() (linear) on raw values, display names and filenames.
    g_mime_parser_options_set_rfc2047_compliance_mode(opts.get(), GMIME_RFC_COMPLIANCE_STRICT);
    g_mime_parser_options_set_address_compliance_mode(opts.get(), GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(opts.get(), GMIME_RFC_COMPLIANCE_LOOSE);
    // GMime copies the list; UTF-8 is always tried first (ParseLimits: "after UTF-8").
    std::vector<const char *> cs;
    cs.reserve(limits.fallback_charsets.size() + 2);
    cs.push_back("UTF-8");
    for (const auto &c : limits.fallback_charsets)
        if (!c.empty())
            cs.push_back(c.c_str());
    cs.push_back(nullptr);
    g_mime_parser_options_set_fallback_charsets(opts.get(), cs.data());
    if (sink != nullptr)
        g_mime_parser_options_set_warning_callback(opts.get(), &on_gmime_warning, sink);
    return opts;
}

bool is_valid_utf8(std::string_view s) {
    return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr) != FALSE;
}

void repair_utf8(std::string &s) {
    const char *end = nullptr;
    if (g_utf8_validate(s.data(), static_cast<gssize>(s.size()), &end) != FALSE)
        return;
    std::string out;
    out.reserve(s.size() + 16);
    std::string_view rest(s);
    while (!rest.empty()) {
        if (g_utf8_validate(rest.data(), static_cast<gssize>(rest.size()), &end) != FALSE) {
            out.append(rest);
            break;
        }
        const auto good = static_cast<std::size_t>(end - rest.data());
        out.append(rest.substr(0, good));
        out.append("\xEF\xBF\xBD");
        rest.remove_prefix(good + 1);
    }
    s = std::move(out);
}

std::string to_utf8(std::string_view bytes, std::string_view charset,
                    const std::vector<std::string> &fallbacks, std::string *warning) {
    if (!is_utf8_name(charset)) {
        const std::string cs(charset);
        if (auto r = convert(bytes, cs.c_str(), false)) {
            repair_utf8(*r);
            return std::move(*r);
        }
        if (warning != nullptr)
            *warning = "unknown charset '" + std::string(charset.substr(0, 40)) + "'";
    }
    // g_utf8_validate with a length rejects NULs too, so valid input needs no repair pass.
    if (is_valid_utf8(bytes))
        return std::string(bytes);
    if (!has_8bit(bytes)) { // ASCII with NULs
        std::string s(bytes);
        repair_utf8(s);
        return s;
    }
    // Declared UTF-8 but invalid: keep the good characters rather than re-guessing all.
    if (!charset.empty() && ascii_lower(charset).starts_with("utf")) {
        std::string s(bytes);
        repair_utf8(s);
        return s;
    }
    for (const auto &fb : fallbacks) {
        if (auto r = convert(bytes, fb.c_str(), true)) {
            repair_utf8(*r);
            return std::move(*r);
        }
    }
    if (!fallbacks.empty())
        if (auto r = convert(bytes, fallbacks.front().c_str(), false)) {
            repair_utf8(*r);
            return std::move(*r);
        }
    std::string s(bytes);
    repair_utf8(s);
    return s;
}

bool truncate_utf8(std::string &s, std::size_t max) {
    if (s.size() <= max)
        return false;
    std::size_t cut = max;
    // Step back over continuation bytes so a multibyte character is never split.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0U) == 0x80U)
        --cut;
    s.resize(cut);
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

} // namespace crm::mime::detail
