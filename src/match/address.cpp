#include "crm/match/address.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>

#include <idn2.h>

#include "crm/core/utf8.hpp"

namespace crm::match {
namespace {

[[nodiscard]] bool is_ascii(std::string_view s) noexcept {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

constexpr std::size_t kMaxLocal = 64;   // RFC 5321 §4.5.3.1.1
constexpr std::size_t kMaxLabel = 63;   // RFC 1035 §2.3.4
constexpr std::size_t kMaxDomain = 253; // 255 octets on the wire minus length bytes
constexpr std::size_t kMaxInput = 1024; // nothing legitimate comes close

// RFC 5322 §3.2.3 atext plus '.', and UTF-8 (RFC 6531 §3.3 extends atext with UTF8-non-ascii).
// Quoted-string specials are deliberately not in here: the canonical form is unquoted, so
// whatever it contains must be acceptable unquoted for canonical_address to be idempotent.
[[nodiscard]] bool is_local_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80)
        return true;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
    return kSpecials.find(c) != std::string_view::npos;
}

[[nodiscard]] bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

[[nodiscard]] std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// The local part as a plain string: quotes removed (RFC 5322 §3.2.4 quoted-pairs unescaped).
// nullopt when it holds anything the canonical form could not carry unquoted.
[[nodiscard]] std::optional<std::string> plain_local(std::string_view local) {
    std::string out;
    if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
        const std::string_view inner = local.substr(1, local.size() - 2);
        for (std::size_t i = 0; i < inner.size(); ++i) {
            char c = inner[i];
            if (c == '\\') {
                if (++i == inner.size())
                    return std::nullopt;
                c = inner[i];
            } else if (c == '"') {
                return std::nullopt;
            }
            out.push_back(c);
        }
    } else {
        out.assign(local);
    }
    if (out.empty() || out.size() > kMaxLocal)
        return std::nullopt;
    if (!std::all_of(out.begin(), out.end(), is_local_char))
        return std::nullopt;
    if (!is_valid_utf8(out))
        return std::nullopt;
    return out;
}

// Labels of an ASCII domain: 1..63 octets of letters, digits, '-' and '_' (underscores occur
// in real host names even though RFC 952 forbids them), no leading or trailing hyphen.
[[nodiscard]] bool valid_ascii_domain(std::string_view d) noexcept {
    if (d.empty() || d.size() > kMaxDomain)
        return false;
    std::size_t start = 0;
    while (start <= d.size()) {
        std::size_t end = d.find('.', start);
        if (end == std::string_view::npos)
            end = d.size();
        const std::string_view label = d.substr(start, end - start);
        if (label.empty() || label.size() > kMaxLabel || label.front() == '-' ||
            label.back() == '-')
            return false;
        for (char c : label) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                            c == '_';
            if (!ok)
                return false;
        }
        start = end + 1;
    }
    return true;
}

[[nodiscard]] bool has_alabel(std::string_view d) noexcept {
    return d.starts_with("xn--") || d.find(".xn--") != std::string_view::npos;
}

struct IdnFree {
    void operator()(char* p) const noexcept { idn2_free(p); }
};

[[nodiscard]] std::optional<std::string> idna_lookup(const std::string& domain) {
    // IDNA2008 (RFC 5891 §5) with UTS #46 non-transitional mapping; transitional as a
    // fallback for names only the older rules accept.
    for (int flags : {IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT, static_cast<int>(IDN2_TRANSITIONAL)}) {
        std::uint8_t* out = nullptr;
        const int rc = idn2_lookup_u8(reinterpret_cast<const std::uint8_t*>(domain.c_str()),
                                      &out, flags);
        std::unique_ptr<char, IdnFree> owned(reinterpret_cast<char*>(out));
        if (rc == IDN2_OK && owned)
            return ascii_lower(owned.get());
    }
    return std::nullopt;
}

struct FreeMailFamily {
    std::string_view first_label; // "yahoo" matches yahoo.com, yahoo.co.uk, yahoo.fr ...
};

constexpr auto kFreeMailDomains = std::to_array<std::string_view>({
    "gmail.com",  "googlemail.com", "outlook.com",   "live.com",
    "msn.com",                      "passport.com",   "windowslive.com", "ymail.com",
    "rocketmail.com",               "aol.com",        "aim.com",       "icloud.com",
    "me.com",                       "mac.com",        "proton.me",     "protonmail.com",
    "protonmail.ch",                "pm.me",          "web.de",        "freenet.de",
    "t-online.de",                  "mail.ru",        "inbox.ru",      "list.ru",
    "bk.ru",                        "ya.ru",          "rambler.ru",    "qq.com",
    "foxmail.com",                  "163.com",        "126.com",       "yeah.net",
    "sina.com",                     "sohu.com",       "aliyun.com",    "naver.com",
    "daum.net",                     "hanmail.net",    "zoho.com",      "zohomail.com",
    "fastmail.com",                 "fastmail.fm",    "hey.com",       "tutanota.com",
    "tutanota.de",                  "tuta.io",        "tutamail.com",  "mail.com",
    "email.com",                    "usa.com",        "inbox.com",     "hushmail.com",
    "mailfence.com",                "posteo.de",      "posteo.net",    "mailbox.org",
    "disroot.org",                  "seznam.cz",      "libero.it",     "virgilio.it",
    "orange.fr",                    "wanadoo.fr",     "laposte.net",   "free.fr",
    "sfr.fr",                       "o2.pl",          "wp.pl",         "onet.pl",
    "interia.pl",                   "rediffmail.com", "btinternet.com", "comcast.net",
    "verizon.net",                  "att.net",        "sbcglobal.net", "bellsouth.net",
    "cox.net",                      "shaw.ca",        "rogers.com",    "bigpond.com",
    "optusnet.com.au",              "xtra.co.nz",     "yandex.com",    "yandex.ru",
});

// Providers that run the same service under many country domains.
constexpr std::array kFreeMailFamilies = {
    FreeMailFamily{"hotmail"}, FreeMailFamily{"outlook"}, FreeMailFamily{"live"},
    FreeMailFamily{"yahoo"},   FreeMailFamily{"gmx"},     FreeMailFamily{"yandex"},
};

// "yahoo.co.uk", "gmx.de", "hotmail.com.br": family label, then a public suffix of one
// country/generic label or a second-level "co|com|net|org|ne|or" under a country code.
[[nodiscard]] bool in_family(std::string_view domain, std::string_view first) noexcept {
    if (!domain.starts_with(first) || domain.size() <= first.size() ||
        domain[first.size()] != '.')
        return false;
    const std::string_view rest = domain.substr(first.size() + 1);
    const auto dot = rest.find('.');
    auto short_label = [](std::string_view l) { return l.size() >= 2 && l.size() <= 3; };
    if (dot == std::string_view::npos)
        return short_label(rest);
    const std::string_view sld = rest.substr(0, dot);
    const std::string_view tld = rest.substr(dot + 1);
    constexpr auto kSlds = std::to_array<std::string_view>({"co", "com", "net", "org", "ne", "or"});
    return std::find(kSlds.begin(), kSlds.end(), sld) != kSlds.end() && tld.size() == 2 &&
           tld.find('.') == std::string_view::npos;
}

} // namespace

std::optional<std::string> canonical_domain(std::string_view domain) {
    if (domain.empty() || domain.size() > kMaxInput)
        return std::nullopt;
    if (domain.back() == '.') // the root label: "example.com." names the same domain
        domain.remove_suffix(1);
    if (domain.empty())
        return std::nullopt;
    for (char c : domain) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F || c == '@')
            return std::nullopt;
    }
    std::string lowered = ascii_lower(domain);
    if (is_ascii(lowered) && !has_alabel(lowered)) {
        // Plain LDH names need no IDNA processing; keeping them off libidn2 also lets
        // underscores through, which STD3-less UTS #46 would accept anyway.
        if (!valid_ascii_domain(lowered))
            return std::nullopt;
        return lowered;
    }
    if (!is_valid_utf8(lowered))
        return std::nullopt;
    auto alabel = idna_lookup(lowered);
    if (!alabel)
        return std::nullopt;
    if (!alabel->empty() && alabel->back() == '.')
        alabel->pop_back();
    if (!valid_ascii_domain(*alabel))
        return std::nullopt;
    return alabel;
}

std::optional<std::string> canonical_address(std::string_view address,
                                             const AddressPolicy& policy) {
    if (address.size() > kMaxInput)
        return std::nullopt;
    address = trim(address);
    // An angle-addr (RFC 5322 §3.4) around the addr-spec is harmless: take what is inside.
    if (address.size() >= 2 && address.front() == '<' && address.back() == '>')
        address = trim(address.substr(1, address.size() - 2));
    for (char c : address) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F)
            return std::nullopt;
    }
    const auto at = address.rfind('@');
    if (at == std::string_view::npos)
        return std::nullopt;
    auto local = plain_local(address.substr(0, at));
    if (!local)
        return std::nullopt;
    auto domain = canonical_domain(address.substr(at + 1));
    if (!domain)
        return std::nullopt;

    std::string l = ascii_lower(*local);
    if (policy.gmail_dot_folding && *domain == "googlemail.com")
        *domain = "gmail.com";
    if (policy.strip_plus_tags) {
        // RFC 5233 subaddress: keep "+foo@" whole, its tag is all there is.
        const auto sep = l.find(ascii_lower(policy.plus_separator));
        if (sep != std::string::npos && sep != 0)
            l.resize(sep);
    }
    if (policy.gmail_dot_folding && *domain == "gmail.com") {
        std::string folded;
        std::copy_if(l.begin(), l.end(), std::back_inserter(folded),
                     [](char c) { return c != '.'; });
        if (!folded.empty())
            l = std::move(folded);
    }
    return l + "@" + *domain;
}

std::string_view domain_of(std::string_view canonical) {
    const auto at = canonical.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : canonical.substr(at + 1);
}

bool is_free_mail_domain(std::string_view canonical_domain, const AddressPolicy& policy) {
    if (canonical_domain.empty())
        return false;
    if (std::find(kFreeMailDomains.begin(), kFreeMailDomains.end(), canonical_domain) !=
        kFreeMailDomains.end())
        return true;
    for (const auto& f : kFreeMailFamilies)
        if (in_family(canonical_domain, f.first_label))
            return true;
    // Extras come from configuration as written: compare their canonical form.
    return std::any_of(policy.extra_free_mail_domains.begin(),
                       policy.extra_free_mail_domains.end(), [&](const std::string& extra) {
                           const auto e = match::canonical_domain(extra);
                           return e && *e == canonical_domain;
                       });
}

} // namespace crm::match
