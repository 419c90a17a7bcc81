// Where the quoted tail of a plain-text reply starts, for the page to fold it.
#include <algorithm>
#include <array>
#include <vector>
#include <string_view>

#include "internal.hpp"

namespace crm::http {

namespace {

std::string_view trim(std::string_view l) {
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t'))
        l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
        l.remove_suffix(1);
    return l;
}

// An attribution line introducing a quote: "On <date>, <who> wrote:" and its common
// translations, or a separator of Outlook and Thunderbird.
bool attribution(std::string_view l) {
    l = trim(l);
    if (l.empty())
        return false;
    if (l.find("-----Original Message-----") != std::string_view::npos ||
        l.find("Original Message --------") != std::string_view::npos ||
        l.find("-----Ursprüngliche Nachricht-----") != std::string_view::npos ||
        l.find("-----Message d'origine-----") != std::string_view::npos)
        return true;
    const bool starts = l.starts_with("On ") || l.starts_with("Am ") || l.starts_with("Le ") ||
                        l.starts_with("El ") || l.starts_with("Il ") || l.starts_with("Op ");
    if (!starts || !l.ends_with(':'))
        return false;
    for (std::string_view verb : {" wrote", " schrieb ", " a écrit", " escribió", " scritto",
                                  " schreef", " geschreven"})
        if (l.find(verb) != std::string_view::npos)
            return true;
    return false;
}

bool quote_line(std::string_view l) { return !l.empty() && l.front() == '>'; }

// Unicode code points (what Python's len() and JS's Array.from() count), not bytes.
std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char raw : s)
        if ((static_cast<unsigned char>(raw) & 0xC0) != 0x80) // not a continuation byte
            ++n;
    return n;
}

} // namespace

std::optional<std::size_t> quoted_tail_offset(std::string_view text) {
    // Line starts.
    std::vector<std::size_t> starts{0};
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' && i + 1 < text.size())
            starts.push_back(i + 1);
    auto line = [&](std::size_t k) {
        auto b = starts[k];
        auto e = k + 1 < starts.size() ? starts[k + 1] - 1 : text.size();
        return text.substr(b, e - b);
    };
    // Everything from line k on is quote material: attribution, "> " lines, blank lines.
    std::vector<bool> tail_quoted(starts.size() + 1, true);
    for (std::size_t k = starts.size(); k-- > 0;) {
        auto l = trim(line(k));
        tail_quoted[k] = tail_quoted[k + 1] && (l.empty() || quote_line(l));
    }
    for (std::size_t k = 0; k < starts.size(); ++k) {
        if (attribution(line(k)) && k > 0)
            return code_points(text.substr(0, starts[k]));
        if (k > 0 && quote_line(trim(line(k))) && tail_quoted[k]) {
            // "Bob said:" right above the quote introduces it: fold it too.
            auto above = trim(line(k - 1));
            if (k > 1 && above.ends_with(':'))
                return code_points(text.substr(0, starts[k - 1]));
            return code_points(text.substr(0, starts[k]));
        }
    }
    return std::nullopt;
}

} // namespace crm::http
