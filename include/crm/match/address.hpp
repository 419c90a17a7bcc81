#pragma once
// Address canonicalisation. Pure (libidn2 does IDNA, no I/O).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::match {

struct AddressPolicy {
    bool strip_plus_tags = true;   // "bob+crm@x.com" -> "bob@x.com"
    char plus_separator = '+';
    bool gmail_dot_folding = true; // "b.o.b@gmail.com" -> "bob@gmail.com" (gmail.com, googlemail.com)
    // Extra free-mail domains on top of the built-in list (gmail.com, outlook.com, yahoo.*, ...).
    std::vector<std::string> extra_free_mail_domains;
};

// "Local@Domain" -> canonical form: domain lower-cased and IDNA-converted to its A-label
// (xn--...), local part lower-cased (RFC 5321 allows case-sensitive local parts, but no mail
// system in use relies on it), plus tag stripped, Gmail dots folded (googlemail.com ->
// gmail.com). nullopt when it is not a usable addr-spec (no @, empty parts, bad IDNA, spaces,
// control characters).
[[nodiscard]] std::optional<std::string> canonical_address(std::string_view address,
                                                           const AddressPolicy& policy = {});

// Domain lower-cased, trailing dot removed, IDNA A-label. nullopt when invalid.
[[nodiscard]] std::optional<std::string> canonical_domain(std::string_view domain);

// The domain part of a canonical address.
[[nodiscard]] std::string_view domain_of(std::string_view canonical);

[[nodiscard]] bool is_free_mail_domain(std::string_view canonical_domain,
                                       const AddressPolicy& policy = {});

} // namespace crm::match
