#pragma once
// What a person keeps for themselves (issue 20): the limits on what they attach, their
// signature, the drafts the page keeps while they type, whom a deal's new mail may go to, and the
// page's language and time zone. Implemented by the store; one thread at a time.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/limits.hpp"
#include "crm/core/result.hpp"

namespace crm {

// [compose] in the config. A file over max_attachment_bytes, or attachments together over
// max_message_bytes, is refused naming the file and the limit ("compose.too_large").
struct ComposeLimits {
    std::size_t max_attachment_bytes = std::size_t{10} << 20;
    std::size_t max_message_bytes = std::size_t{20} << 20;
    friend bool operator==(const ComposeLimits&, const ComposeLimits&) = default;
};

// The largest request body the HTTP API reads for a mail with attachments: every attachment
// byte base64-encoded in JSON, plus the text (kMaxRequestBody).
[[nodiscard]] inline std::size_t compose_body_limit(const ComposeLimits& l) {
    return (l.max_message_bytes + 2) / 3 * 4 + 64 * 1024 + kMaxRequestBody;
}

// Bounds of what the page stores for a person.
inline constexpr std::size_t kMaxSignatureBytes = 8 * 1024;
inline constexpr std::size_t kMaxDraftBytes = 256 * 1024;
inline constexpr std::size_t kMaxDraftsPerUser = 200;

// A draft's key: "thread-<id>" (a reply in that thread) or "deal-<id>" (a new mail on that
// deal). Anything else is refused.
[[nodiscard]] inline bool draft_key(std::string_view key) {
    std::string_view digits;
    if (key.starts_with("thread-"))
        digits = key.substr(7);
    else if (key.starts_with("deal-"))
        digits = key.substr(5);
    else
        return false;
    if (digits.empty() || digits.size() > 18 || digits[0] == '0')
        return false;
    for (char c : digits)
        if (c < '0' || c > '9')
            return false;
    return true;
}

// The languages the page has (web/i18n.js LOCALES; scripts/check-i18n.py compares the two).
inline constexpr std::string_view kPageLocales[] = {"en", "ro"};

// The page's language and time zone for one user; "" is the browser's.
struct PagePreferences {
    std::string locale;    // one of kPageLocales, or ""
    std::string time_zone; // an IANA name ("Europe/Bucharest"), or ""
    friend bool operator==(const PagePreferences&, const PagePreferences&) = default;
};

// "settings.invalid.locale" for a language the page does not have, naming those it has;
// "settings.invalid.time_zone" for a name that is not an IANA zone name in form (letters,
// digits, "_", "+", "-" in "/"-separated parts, at most 64 bytes). Whether the zone exists is the
// caller's to check against the time zone database.
[[nodiscard]] inline Result<void> check_page_preferences(const PagePreferences& p) {
    if (!p.locale.empty()) {
        bool known = false;
        std::string names;
        for (auto l : kPageLocales) {
            known = known || l == p.locale;
            names += names.empty() ? "" : ", ";
            names += l;
        }
        if (!known) {
            std::string shown = p.locale.substr(0, 20);
            for (auto& c : shown)
                if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F)
                    c = '?';
            return std::unexpected(
                Error{"settings.invalid.locale",
                      "'" + shown + "' is not a language of the page (" + names + ")",
                      ErrorScope::Message, Retry::Never});
        }
    }
    const auto& z = p.time_zone;
    bool ok = z.size() <= 64;
    bool part_start = true;
    for (char c : z) {
        const bool word = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-';
        if (c == '/') {
            ok = ok && !part_start;
            part_start = true;
        } else {
            ok = ok && word && !(part_start && (c == '-' || c == '+'));
            part_start = false;
        }
    }
    if (!z.empty() && (!ok || part_start))
        return std::unexpected(Error{"settings.invalid.time_zone",
                                     "is not a time zone name like Europe/Bucharest",
                                     ErrorScope::Message, Retry::Never});
    return {};
}

struct DraftRow {
    std::string key;
    std::string content; // the page's JSON object
    std::int64_t updated_at = 0;
};

// One address of a contact on a deal: whom the page offers as a new mail's recipients.
struct DealRecipient {
    ContactId contact = 0;
    std::string name;
    std::string address; // as entered
};

class ComposeStore {
  public:
    virtual ~ComposeStore() = default;
    // "" when the user set none.
    virtual Result<std::string> signature(UserId user) = 0;
    // An empty signature removes it.
    virtual Result<void> set_signature(UserId user, const std::string& signature,
                                       std::int64_t now) = 0;
    virtual Result<std::optional<DraftRow>> draft(UserId user, const std::string& key) = 0;
    // Inserts or replaces. "draft.too_many" past kMaxDraftsPerUser drafts of the user.
    virtual Result<void> put_draft(UserId user, const std::string& key, const std::string& content,
                                   std::int64_t now) = 0;
    // false: there was none.
    virtual Result<bool> delete_draft(UserId user, const std::string& key) = 0;
    // The user's drafts, newest first, without their content.
    virtual Result<std::vector<DraftRow>> drafts(UserId user) = 0;
    // The deal's contacts' addresses, by contact name then address.
    virtual Result<std::vector<DealRecipient>> deal_recipients(DealId deal) = 0;
    // The page's language and time zone ("" each when the user set none).
    virtual Result<PagePreferences> preferences(UserId user) = 0;
    // Checked by the caller (check_page_preferences).
    virtual Result<void> set_preferences(UserId user, const PagePreferences& p,
                                         std::int64_t now) = 0;
};

} // namespace crm
