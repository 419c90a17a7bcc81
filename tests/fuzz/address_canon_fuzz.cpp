// canonical_address invariants: the canonical form is accepted again and maps to itself, is
// lower-case, has exactly one '@', and an ASCII (A-label) domain. The local part may be UTF-8
// (RFC 6531), so only it may carry non-ASCII bytes, and then only well-formed UTF-8.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crm/match/address.hpp"

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

bool ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool has_upper(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

void check_canonical(std::string_view input, const crm::match::AddressPolicy& policy) {
    const auto c = crm::match::canonical_address(input, policy);
    if (!c)
        return;
    check(std::count(c->begin(), c->end(), '@') == 1);
    check(!has_upper(*c));
    const std::string_view domain = crm::match::domain_of(*c);
    check(!domain.empty() && ascii(domain));
    check(c->front() != '@');
    const auto again = crm::match::canonical_address(*c, policy);
    check(again.has_value() && *again == *c);
    const auto d = crm::match::canonical_domain(domain);
    check(d.has_value() && *d == domain);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check_canonical(input, {});
    crm::match::AddressPolicy plain;
    plain.strip_plus_tags = false;
    plain.gmail_dot_folding = false;
    check_canonical(input, plain);
    crm::match::AddressPolicy dash;
    dash.plus_separator = '-';
    check_canonical(input, dash);
    if (const auto d = crm::match::canonical_domain(input)) {
        check(ascii(*d) && !has_upper(*d));
        const auto again = crm::match::canonical_domain(*d);
        check(again.has_value() && *again == *d);
    }
    return 0;
}
