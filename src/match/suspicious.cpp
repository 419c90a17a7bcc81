// suspicious_sender: spoofing heuristics on the From address. Pure; libidn2 decodes A-labels.

#include <algorithm>
#include <memory>

#include <idn2.h>

#include "crm/core/address_text.hpp"
#include "crm/core/utf8.hpp"
#include "crm/match/address.hpp"
#include "crm/match/sort.hpp"

namespace crm::match {
namespace {

constexpr std::size_t kMinTypoLength = 5; // shorter domains are one edit from too many others

struct IdnFree {
    void operator()(char* p) const noexcept { idn2_free(p); }
};

// A-label domain -> UTF-8 U-label form; the input itself when it does not decode.
[[nodiscard]] std::string to_unicode(const std::string& alabel) {
    char* out = nullptr;
    const int rc = idn2_to_unicode_8z8z(alabel.c_str(), &out, 0);
    std::unique_ptr<char, IdnFree> owned(out);
    if (rc != IDN2_OK || !owned)
        return alabel;
    return owned.get();
}

// A small confusables fold in the spirit of UTS #39 skeletons: Cyrillic, Greek and accented
// Latin letters that render like ASCII letters map to them.
[[nodiscard]] char32_t fold_char(char32_t c) {
    switch (c) {
    // Cyrillic
    case U'\u0430': return U'a';
    case U'\u0435': return U'e';
    case U'\u043E': return U'o';
    case U'\u0440': return U'p';
    case U'\u0441': return U'c';
    case U'\u0445': return U'x';
    case U'\u0443': return U'y';
    case U'\u0456': return U'i';
    case U'\u0458': return U'j';
    case U'\u0455': return U's';
    case U'\u04BB': return U'h';
    case U'\u0501': return U'd';
    case U'\u051B': return U'q';
    case U'\u051D': return U'w';
    case U'\u043A': return U'k';
    case U'\u0442': return U't';
    case U'\u043C': return U'm';
    case U'\u0432': return U'b';
    case U'\u043D': return U'h';
    case U'\u0454': return U'e';
    case U'\u0457': return U'i';
    // Greek
    case U'\u03BF': return U'o';
    case U'\u03B1': return U'a';
    case U'\u03BD': return U'v';
    case U'\u03C1': return U'p';
    case U'\u03B9': return U'i';
    case U'\u03BA': return U'k';
    case U'\u03C5': return U'u';
    case U'\u03C7': return U'x';
    case U'\u03B5': return U'e';
    case U'\u03C4': return U't';
    // Latin lookalikes
    case U'\u0131': return U'i';
    case U'\u0261': return U'g';
    case U'\u00E0': case U'\u00E1': case U'\u00E2': case U'\u00E3': case U'\u00E4':
    case U'\u00E5': return U'a';
    case U'\u00E8': case U'\u00E9': case U'\u00EA': case U'\u00EB': return U'e';
    case U'\u00EC': case U'\u00ED': case U'\u00EE': case U'\u00EF': return U'i';
    case U'\u00F2': case U'\u00F3': case U'\u00F4': case U'\u00F5': case U'\u00F6':
    case U'\u00F8': return U'o';
    case U'\u00F9': case U'\u00FA': case U'\u00FB': case U'\u00FC': return U'u';
    case U'\u00E7': return U'c';
    case U'\u00F1': return U'n';
    case U'\u00FD': case U'\u00FF': return U'y';
    // Digits
    case U'0': return U'o';
    case U'1': return U'l';
    default: return c;
    }
}

// Skeleton of a canonical (A-label) domain: U-labels, confusables folded, then the
// multi-letter lookalikes "rn" -> "m" and "vv" -> "w".
[[nodiscard]] std::string skeleton(const std::string& canonical) {
    const std::string unicode = to_unicode(canonical);
    const auto cps = decode_utf8_strict(unicode);
    if (!cps)
        return canonical;
    std::string folded;
    for (char32_t c : *cps)
        append_utf8(folded, fold_char(c));
    std::string out;
    for (std::size_t i = 0; i < folded.size(); ++i) {
        if (i + 1 < folded.size() && folded[i] == 'r' && folded[i + 1] == 'n') {
            out.push_back('m');
            ++i;
        } else if (i + 1 < folded.size() && folded[i] == 'v' && folded[i + 1] == 'v') {
            out.push_back('w');
            ++i;
        } else {
            out.push_back(folded[i]);
        }
    }
    return out;
}

// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions),
// only asked "is it at most one".
[[nodiscard]] bool within_one_edit(std::string_view a, std::string_view b) {
    if (a == b)
        return true;
    if (a.size() > b.size())
        std::swap(a, b);
    if (b.size() - a.size() > 1)
        return false;
    std::size_t i = 0;
    while (i < a.size() && a[i] == b[i])
        ++i;
    if (a.size() == b.size()) {
        // One substitution, or one transposition of adjacent characters.
        if (a.substr(i + 1) == b.substr(i + 1))
            return true;
        return i + 1 < a.size() && a[i] == b[i + 1] && a[i + 1] == b[i] &&
               a.substr(i + 2) == b.substr(i + 2);
    }
    return a.substr(i) == b.substr(i + 1); // one insertion into a
}

// Addresses written into a display name ("support@bank.com" <evil@x.net>).
[[nodiscard]] std::vector<std::string> addresses_in(std::string_view name) {
    return addresses_in_text(name);
}

// Organisational alignment, roughly: one domain equals the other or is a subdomain of it. A
// missing property is taken to be about the From domain.
bool aligned(std::string_view a, std::string_view b) {
    if (a.empty() || b.empty())
        return true;
    auto sub = [](std::string_view x, std::string_view y) {
        return x == y ||
               (x.size() > y.size() && x.ends_with(y) && x[x.size() - y.size() - 1] == '.');
    };
    return sub(a, b) || sub(b, a);
}

std::string_view trim_ws(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n";
    while (!s.empty() && kSpace.find(s.front()) != std::string_view::npos)
        s.remove_prefix(1);
    while (!s.empty() && kSpace.find(s.back()) != std::string_view::npos)
        s.remove_suffix(1);
    return s;
}

} // namespace

bool authentication_failed(std::span<const std::string> values, std::string_view from_domain,
                           std::span<const std::string> trusted) {
    bool dkim_fail = false;
    bool dkim_pass = false;
    bool other_fail = false;
    const std::string from = ascii_lower(from_domain);
    for (const auto& v : values) {
        const std::string lv = ascii_lower(v);
        // "authserv-id [version]; ..." (RFC 8601 §2.2): a header of another server is trusted
        // for failures only, and only when no server is named as ours.
        const std::size_t first = lv.find(';');
        std::string_view id = trim_ws(std::string_view(lv).substr(0, std::min(first, lv.size())));
        id = id.substr(0, id.find_first_of(" \t("));
        const bool ours = std::any_of(trusted.begin(), trusted.end(),
                                      [&](const std::string& t) { return ascii_lower(t) == id; });
        if (!trusted.empty() && !ours)
            continue;
        const bool passes_count = ours;
        if (first == std::string::npos)
            continue;
        std::size_t pos = first + 1;
        while (pos <= lv.size()) {
            std::size_t semi = lv.find(';', pos);
            if (semi == std::string::npos)
                semi = lv.size();
            const std::string_view res = trim_ws(std::string_view(lv).substr(pos, semi - pos));
            pos = semi + 1;
            const std::size_t eq = res.find('=');
            if (eq == std::string_view::npos)
                continue;
            const std::string_view method = trim_ws(res.substr(0, eq));
            const std::string_view rest = trim_ws(res.substr(eq + 1));
            const std::string_view result = rest.substr(0, rest.find_first_of(" \t("));
            auto prop = [&](std::string_view key) {
                const std::size_t k = rest.find(key);
                if (k == std::string_view::npos)
                    return std::string_view();
                std::string_view val = rest.substr(k + key.size());
                val = val.substr(0, val.find_first_of(" \t;()"));
                if (const std::size_t at = val.rfind('@'); at != std::string_view::npos)
                    val = val.substr(at + 1);
                return val;
            };
            if (method == "dmarc" && result == "fail") {
                other_fail = other_fail || aligned(prop("header.from="), from);
            } else if (method == "spf" && result == "fail") {
                other_fail = other_fail || aligned(prop("smtp.mailfrom="), from);
            } else if (method == "dkim") {
                std::string_view d = prop("header.d=");
                if (d.empty())
                    d = prop("header.i=");
                if (!aligned(d, from))
                    continue;
                dkim_fail = dkim_fail || result == "fail";
                dkim_pass = dkim_pass || (result == "pass" && passes_count);
            }
        }
    }
    return other_fail || (dkim_fail && !dkim_pass);
}

std::string suspicious_sender(const Address& from, const ParsedMessage& m,
                              std::span<const std::string> known_domains,
                              std::span<const std::string> trusted_authserv_ids) {
    const std::string_view address = from.address;
    const auto at = address.rfind('@');
    const std::string_view from_domain =
        at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
    // Our own verification (crm::auth) is used only when no receiving server of ours is named:
    // with trusted_authserv_ids that server's verdict, made when the mail arrived (and with SPF,
    // which only it could judge), is the better one.
    const SenderVerification* own =
        trusted_authserv_ids.empty() && m.verification ? &*m.verification : nullptr;
    if (own && !own->failure.empty())
        return "authentication failed: " + own->failure;
    // Our own aligned DKIM pass refutes what an unverified header says about the From domain:
    // DKIM is a function of these very bytes and the published key, and an aligned DKIM pass is
    // a DMARC pass (RFC 7489 §4.2) whatever SPF said at some hop (forwarding breaks SPF, not
    // DKIM). It cancels nothing below: a lookalike domain signs its own mail perfectly well, and
    // a display name naming another address is written by whoever holds the key.
    if (!(own && own->aligned_pass) &&
        authentication_failed(m.authentication_results, from_domain, trusted_authserv_ids))
        return "authentication failed (DKIM/DMARC/SPF)";

    const auto sender = canonical_address(from.address);
    for (const auto& shown : addresses_in(from.name)) {
        const auto c = canonical_address(shown);
        if (c && (!sender || *c != *sender))
            return "display name shows another address";
    }
    if (!sender)
        return {};

    const std::string domain(domain_of(*sender));
    std::vector<std::string> known;
    for (const auto& k : known_domains)
        if (auto c = canonical_domain(k))
            known.push_back(std::move(*c));
    std::sort(known.begin(), known.end()); // report deterministically, whatever the order
    known.erase(std::unique(known.begin(), known.end()), known.end());
    if (std::binary_search(known.begin(), known.end(), domain))
        return {};

    // Homoglyphs. Applied to ASCII domains too: "0"/"1"/"rn"/"vv" are ASCII confusables, and
    // a mixed-script or non-ASCII domain always arrives here as an A-label.
    const std::string sk = skeleton(domain);
    for (const auto& k : known)
        if (skeleton(k) == sk)
            return "lookalike of " + k;

    for (const auto& k : known)
        if (k.size() >= kMinTypoLength && within_one_edit(domain, k))
            return "lookalike of " + k;
    return {};
}

} // namespace crm::match
