#include "crm/app/reply.hpp"

#include <algorithm>
#include <tuple>

#include "crm/app/compose.hpp"
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

Result<std::string> checked_recipient(const Address& a, std::string_view field) {
    if (has_control(a.address) || has_control(a.name))
        return std::unexpected(invalid("address contains CR, LF or NUL", field));
    if (auto v = mime::validate_envelope_address(a.address); !v)
        return std::unexpected(
            invalid(fmt::format("'{}': {}", a.address, v.error().detail), field));
    auto canon = match::canonical_address(a.address);
    if (!canon)
        return std::unexpected(
            invalid(fmt::format("'{}' is not a valid address", a.address), field));
    return std::move(*canon);
}

std::string message_id_domain(const std::string& account_address) {
    auto at = account_address.rfind('@');
    return at == std::string::npos ? "crm-mail.invalid" : account_address.substr(at + 1);
}

std::string make_message_id(std::optional<DealId> deal, const std::string& account_address,
                            const std::string& random_hex) {
    return fmt::format("crm.{}.{}@{}", deal.value_or(0), random_hex,
                       message_id_domain(account_address));
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
        auto canon = checked_recipient(a, field);
        if (!canon)
            return std::unexpected(canon.error());
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

Result<QueuedReply> queue_reply(Backend& b, const Viewer& v, ReplyRequest req,
                                const std::string& random_hex, std::int64_t now,
                                const ComposeLimits& limits) {
    if (auto ok = check_attachments(req.attachments, req.attachment_contents, limits); !ok)
        return std::unexpected(ok.error());
    auto visible = b.reads().thread_visible(v, req.thread);
    if (!visible)
        return std::unexpected(visible.error());
    if (!*visible)
        return fail("thread.not_found", fmt::format("thread {} not found", req.thread));
    auto& ob = b.outbox();

    auto may_send_from = [&](const SendingAccount& a) -> Result<void> {
        if (v.user != 0 && a.owner != v.user)
            return fail("reply.account_not_yours",
                        fmt::format("account: you can only send from your own mail accounts, and "
                                    "'{}' is not yours",
                                    a.name));
        return {};
    };
    std::optional<SendingAccount> account;
    if (req.account) {
        auto a = ob.account_by_name(*req.account);
        if (!a)
            return std::unexpected(a.error());
        if (!*a)
            return fail("reply.account_unknown",
                        fmt::format("no mail account named '{}'", *req.account));
        account = std::move(*a);
        if (auto r = may_send_from(*account); !r)
            return std::unexpected(r.error());
    }

    std::optional<std::string> parent_mid = req.parent_message_id;
    std::vector<MessageView> shown;
    if (req.parent || !v.admin || req.quote) {
        auto all = b.reads().thread_messages(v, req.thread);
        if (!all)
            return std::unexpected(all.error());
        shown = std::move(*all);
    }
    if (req.parent || !v.admin) {
        if (req.parent) {
            auto it = std::find_if(shown.begin(), shown.end(),
                                   [&](const MessageView& m) { return m.id == *req.parent; });
            if (it == shown.end())
                return fail("reply.parent_not_in_thread",
                            fmt::format("message {} is not in thread {}", *req.parent, req.thread));
            parent_mid = it->message_id;
        } else if (!parent_mid && !shown.empty()) {
            const auto newest = std::max_element(
                shown.begin(), shown.end(), [](const MessageView& x, const MessageView& y) {
                    return std::tie(x.received_at, x.id) < std::tie(y.received_at, y.id);
                });
            parent_mid = newest->message_id;
        }
    }
    auto parent = ob.reply_parent(req.thread, parent_mid);
    if (!parent)
        return std::unexpected(parent.error());
    if (!*parent)
        return fail("reply.no_parent",
                    req.parent_message_id
                        ? fmt::format("thread {} has no message with Message-ID <{}>", req.thread,
                                      *req.parent_message_id)
                        : fmt::format("thread {} has no message to reply to", req.thread));
    const auto& p = **parent;

    if (!account && p.account) {
        auto a = ob.account(*p.account);
        if (!a)
            return std::unexpected(a.error());
        account = std::move(*a);
    }
    if (!account)
        return fail("reply.no_account", "the message did not come in through a mail account; "
                                        "name the account to send from");
    if (auto r = may_send_from(*account); !r)
        return std::unexpected(r.error());

    auto own = ob.team_addresses();
    if (!own)
        return std::unexpected(own.error());
    ReplyParentInfo info{p.message_id, p.subject, p.references, p.in_reply_to, p.from,
                         p.reply_to,   p.to,      p.cc,         p.deal,        p.suspicious};
    auto plan = plan_reply(info, req.choice, account->address, *own, random_hex);
    if (!plan)
        return std::unexpected(plan.error());

    QueuedReply q;
    auto& row = q.row;
    row.account = account->id;
    row.user = v.user != 0 ? std::optional<UserId>(v.user) : account->owner;
    row.thread = p.thread;
    row.parent = p.id;
    row.deal = p.deal;
    row.message_id = plan->message_id;
    row.mode = plan->mode;
    row.to = plan->to;
    row.cc = plan->cc;
    row.bcc = plan->bcc;
    row.subject = plan->subject;
    row.in_reply_to = plan->in_reply_to;
    row.references = plan->references;
    auto signature = signature_of(b, row.user, req.signature);
    if (!signature)
        return std::unexpected(signature.error());
    const MessageView* quoted = nullptr;
    if (req.quote) {
        auto it = std::find_if(shown.begin(), shown.end(),
                               [&](const MessageView& m) { return m.id == p.id; });
        if (it != shown.end())
            quoted = &*it;
    }
    row.text_body = compose_text(req.text_body, *signature, quoted);
    row.html_body = std::move(req.html_body);
    if (quoted && row.html_body.empty())
        row.html_body = compose_html(req.text_body, *signature, *quoted);
    row.attachments = std::move(req.attachments);
    q.account = std::move(*account);
    if (auto r = queue(b, q, req.attachment_contents, draft_key_of(v, "thread", req.thread), now);
        !r)
        return std::unexpected(r.error());
    return q;
}

} // namespace crm::app
