#include "crm/app/thread_actions.hpp"

#include <fmt/format.h>

namespace crm::app {

namespace {

// The user a change is recorded for; none for the operator (crm-mailctl).
std::optional<UserId> actor(const Viewer& v) {
    return v.user != 0 ? std::optional<UserId>(v.user) : std::nullopt;
}

Result<void> require_visible_thread(Backend& b, const Viewer& v, ThreadId thread) {
    auto visible = b.reads().thread_visible(v, thread);
    if (!visible)
        return std::unexpected(visible.error());
    if (!*visible)
        return fail("thread.not_found", fmt::format("thread {} not found", thread));
    return {};
}

Result<void> require_whole_thread(Backend& b, const Viewer& v, ThreadId thread) {
    if (v.admin)
        return {};
    const Viewer all{0, true};
    auto whole = b.reads().thread(all, thread);
    if (!whole)
        return std::unexpected(whole.error());
    auto mine = b.reads().visible_messages(v, thread);
    if (!mine)
        return std::unexpected(mine.error());
    auto seen = b.reads().thread(v, thread);
    if (!seen)
        return std::unexpected(seen.error());
    const auto& w = *whole;
    const bool foreign_deal = w && w->deal && (!*seen || !(*seen)->deal);
    if (!w || static_cast<std::int64_t>(mine->size()) < w->message_count || foreign_deal)
        return fail("thread.shared",
                    fmt::format("thread {} also holds mail or a deal link of another "
                                "salesperson: move your messages to a conversation of their own "
                                "first (\"Not part of this conversation\"), or ask an admin",
                                thread));
    return {};
}

} // namespace

Result<void> link_thread(Backend& b, const Viewer& v, ThreadId thread, DealId deal,
                         std::int64_t now) {
    if (auto r = require_visible_thread(b, v, thread); !r)
        return r;
    if (auto r = require_whole_thread(b, v, thread); !r)
        return r;
    auto d = b.reads().deal(v, deal);
    if (!d)
        return std::unexpected(d.error());
    if (!*d)
        return fail("deal.unknown",
                    v.admin ? fmt::format("deal {} does not exist", deal)
                            : fmt::format("deal {} does not exist or is not yours", deal));
    return b.work().transaction([&] { return b.edits().link_thread(thread, deal, actor(v), now); });
}

Result<void> unlink_thread(Backend& b, const Viewer& v, ThreadId thread, std::int64_t now) {
    if (auto r = require_visible_thread(b, v, thread); !r)
        return r;
    if (auto r = require_whole_thread(b, v, thread); !r)
        return r;
    return b.work().transaction([&] { return b.edits().unlink_thread(thread, now); });
}

Result<SplitResult> split_message(Backend& b, const Viewer& v, MessageRowId message,
                                  std::int64_t now) {
    auto thread = b.reads().message_thread(v, message);
    if (!thread)
        return std::unexpected(thread.error());
    if (!*thread)
        return fail("message.not_found", fmt::format("message {} not found", message));
    std::optional<std::vector<MessageRowId>> movable;
    if (!v.admin) { // another salesperson's replies stay where they are
        auto mine = b.reads().visible_messages(v, **thread);
        if (!mine)
            return std::unexpected(mine.error());
        movable = std::move(*mine);
    }
    return in_transaction(b.work(),
                          [&] { return b.edits().split_message(message, actor(v), now, movable); });
}

Result<ThreadId> mark_read(Backend& b, const Viewer& v, ReadTarget target, bool unread,
                           const std::vector<AccountId>& mirror_accounts, std::int64_t now) {
    ThreadId thread = target.id;
    if (target.kind == ReadTarget::Kind::Message) {
        auto t = b.reads().message_thread(v, target.id);
        if (!t)
            return std::unexpected(t.error());
        if (!*t)
            return fail("message.not_found", fmt::format("message {} not found", target.id));
        thread = **t;
    } else if (auto r = require_visible_thread(b, v, thread); !r) {
        return std::unexpected(r.error());
    }
    auto done = b.work().transaction([&]() -> Result<void> {
        auto n = target.kind == ReadTarget::Kind::Thread
                     ? b.edits().set_thread_unread(v, thread, unread, mirror_accounts, now)
                     : b.edits().set_message_unread(v, target.id, unread, mirror_accounts, now);
        if (!n)
            return std::unexpected(n.error());
        return {};
    });
    if (!done)
        return std::unexpected(done.error());
    return thread;
}

} // namespace crm::app
