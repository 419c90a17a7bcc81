#pragma once
// Mail addresses written in free text: a display name that spells an address
// ("support@bank.com" <evil@x.net>, match/suspicious.cpp) or the lines of a bounce that name
// the failed recipients (mime/report.cpp). Pure.

#include <string>
#include <string_view>
#include <vector>

namespace crm {

// The maximal runs of address characters around each '@' whose domain has a dot, as written
// (leading dots of the local part and trailing dots or hyphens of the domain dropped), in order.
[[nodiscard]] inline std::vector<std::string> addresses_in_text(std::string_view text) {
    auto local_char = [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
    };
    auto domain_char = [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    };
    std::vector<std::string> out;
    for (std::size_t at = text.find('@'); at != std::string_view::npos;
         at = text.find('@', at + 1)) {
        std::size_t b = at;
        while (b > 0 && local_char(text[b - 1]))
            --b;
        std::size_t e = at + 1;
        while (e < text.size() && domain_char(text[e]))
            ++e;
        std::string_view local = text.substr(b, at - b);
        std::string_view domain = text.substr(at + 1, e - at - 1);
        while (!local.empty() && local.front() == '.')
            local.remove_prefix(1);
        while (!domain.empty() && (domain.back() == '.' || domain.back() == '-'))
            domain.remove_suffix(1);
        if (local.empty() || domain.find('.') == std::string_view::npos)
            continue;
        out.emplace_back(std::string(local) + "@" + std::string(domain));
    }
    return out;
}

} // namespace crm
