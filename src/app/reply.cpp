#include "crm/app/reply.hpp"

#include <algorithm>

#include "crm/match/address.hpp"
#include "crm/mime/compose.hpp"

namespace crm::app {

namespace {

bool has_control(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// `field`: the caller's list the bad address came from ("to", "cc", "bcc"), in the code.
Error invalid(std::string detail, std::string_view field = {}) {
    return Error{field.empty() ? std::string("reply.invalid")
                               : fmt::format("reply.invalid.{}", field),
                 std::move(detail), ErrorScope::Message, Retry::Never};
}

} // namespace

std::string make_message_id(std::optional<DealId> deal, const std::string& account_address,
                            const std::string& random_hex) {
    auto at = account_address.rfind('@');
    std::string domain = at == std::string::npos ? "crm-mail.invalid" : account_address.substr(at + 1);
    return fmt::format("crm.{}.{}@{}", deal.value_or(0), random_hex, domain);
}

Result<ReplyPlan> plan_reply(const ReplyParentInfo& parent, const ReplyChoice& choice,
                             const std::string& account_address,
                             const std::vector<std::string>& own, const std::string& random_hex) {
    ReplyPlan plan;
    std::vector<std::string> seen; // canonical, to drop duplicates
    auto is_own = [&](const std::string& canon) {
        return std::find(own.begin(), own.end(), canon) != own.end() ||
               match::canonical_address(account_address) == canon;
    };
    // `field`: the caller's list `a` comes from, or empty for the parent's addresses.
    auto add = [&](std::vector<Address>& list, const Address& a, bool drop_own,
                   std::string_view field = {}) -> Result<void> {
        if (has_control(a.address) || has_control(a.name))
            return std::unexpected(invalid("address contains CR, LF or NUL", field));
        if (auto v = mime::validate_envelope_address(a.address); !v)
            return std::unexpected(
                invalid(fmt::format("'{}': {}", a.address, v.error().detail), field));
        auto canon = match::canonical_address(a.address);
        if (!canon)
            return std::unexpected(
                invalid(fmt::format("'{}' is not a valid address", a.address), field));
        if (drop_own && is_own(*canon))
            return {};
        if (std::find(seen.begin(), seen.end(), *canon) != seen.end())
            return {};
        seen.push_back(*canon);
        list.push_back(a);
        return {};
    };
    if (!parent.suspicious.empty() && choice.to.empty())
        return std::unexpected(invalid(fmt::format(
            "the message answered looks spoofed ({}): its From and Reply-To are not used, name "
            "the recipients",
            parent.suspicious)));
    if (!choice.to.empty()) {
        plan.mode = "custom";
        for (const auto& t : choice.to)
            if (auto r = add(plan.to, Address{"", t}, false, "to"); !r)
                return std::unexpected(r.error());
    } else {
        plan.mode = choice.all ? "reply-all" : "reply";
        // RFC 5322 §3.6.2: replies go to Reply-To when present, else From.
        const auto& primary = parent.reply_to.empty() ? parent.from : parent.reply_to;
        for (const auto& a : primary)
            if (auto r = add(plan.to, a, true); !r)
                return std::unexpected(r.error());
        if (choice.all) {
            for (const auto& a : parent.to)
                if (auto r = add(plan.to, a, true); !r)
                    return std::unexpected(r.error());
            for (const auto& a : parent.cc)
                if (auto r = add(plan.cc, a, true); !r)
                    return std::unexpected(r.error());
        }
        // Replying to our own message (e.g. a follow-up): answer its recipients instead.
        if (plan.to.empty())
            for (const auto& a : parent.to)
                if (auto r = add(plan.to, a, true); !r)
                    return std::unexpected(r.error());
    }
    for (const auto& c : choice.cc)
        if (auto r = add(plan.cc, Address{"", c}, false, "cc"); !r)
            return std::unexpected(r.error());
    for (const auto& b : choice.bcc)
        if (auto r = add(plan.bcc, Address{"", b}, false, "bcc"); !r)
            return std::unexpected(r.error());
    if (plan.to.empty())
        return std::unexpected(invalid("no recipient: the message has no external sender to "
                                       "reply to; name one with --to"));
    if (has_control(parent.subject) || has_control(parent.message_id))
        return std::unexpected(invalid("the parent's subject or Message-ID contains CR or LF"));
    plan.subject = mime::reply_subject(parent.subject);
    plan.in_reply_to = parent.message_id;
    std::vector<std::string> chain = parent.references;
    if (chain.empty() && !parent.in_reply_to.empty())
        chain.push_back(parent.in_reply_to.front());
    plan.references = mime::reply_references(chain, parent.message_id);
    plan.message_id = make_message_id(parent.deal, account_address, random_hex);
    return plan;
}

} // namespace crm::app
