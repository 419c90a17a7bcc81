#include "crm/imap/sent.hpp"

#include <algorithm>
#include <set>

#include "blocking.hpp"
#include "crm/core/utf8.hpp"
#include "crm/imap/command.hpp"
#include "crm/imap/mutf7.hpp"
#include "session.hpp"

namespace crm::imap {

namespace {

// The Sent folder's name as the server sent it (modified UTF-7), for CommandBuilder::astring.
asio::awaitable<Result<std::string>> find_sent(Session& s) {
    std::string special, named;
    auto r = co_await s.run(list_mailboxes(s.has("LIST-EXTENDED") && s.has("SPECIAL-USE")),
                            [&](const Response& u) {
                                auto l = parse_list(u);
                                if (!l || !l->selectable())
                                    return;
                                if (quote_astring(l->raw_name).needs_literal())
                                    return;
                                if (l->special_use == SpecialUse::Sent && special.empty())
                                    special = l->raw_name;
                                if (ascii_iequals(l->name, "SENT") ||
                                    ascii_iequals(l->name, "SENT ITEMS") ||
                                    ascii_iequals(l->name, "SENT MESSAGES"))
                                    if (named.empty())
                                        named = l->raw_name;
                            });
    if (!r)
        co_return std::unexpected(r.error());
    if (!special.empty())
        co_return special;
    if (!named.empty())
        co_return named;
    co_return fail("imap.folder", "the account has no Sent folder (no \\Sent special-use)",
                   ErrorScope::Account, Retry::NeedsConfig);
}

asio::awaitable<Result<void>> do_append(Session& s, std::string_view message) {
    auto folder = co_await find_sent(s);
    if (!folder)
        co_return std::unexpected(folder.error());
    // Built before the co_await: GCC 12 cannot keep an initializer_list temporary in a
    // coroutine frame ("array used as initializer").
    CommandBuilder append("APPEND");
    append.astring(*folder).list({"\\Seen"}).literal(message);
    auto r = co_await s.run(append);
    if (!r)
        co_return std::unexpected(r.error());
    if (r->status_or_keyword != "OK")
        co_return fail("imap.append", "APPEND to the Sent folder failed: " + r->text,
                       ErrorScope::Account, Retry::Backoff);
    co_return Result<void>{};
}

asio::awaitable<Result<bool>> do_contains(Session& s, std::string message_id) {
    auto folder = co_await find_sent(s);
    if (!folder)
        co_return std::unexpected(folder.error());
    auto ex = co_await s.run(CommandBuilder("EXAMINE").astring(*folder));
    if (!ex)
        co_return std::unexpected(ex.error());
    if (ex->status_or_keyword != "OK")
        co_return fail("imap.examine", "EXAMINE of the Sent folder failed: " + ex->text,
                       ErrorScope::Account, Retry::Backoff);
    const std::string id = "<" + message_id + ">";
    if (quote_astring(id).needs_literal())
        co_return fail("imap.arg", "Message-ID cannot be searched", ErrorScope::Message,
                       Retry::Never);
    bool found = false;
    auto search = CommandBuilder("UID SEARCH").raw("HEADER").raw("Message-ID").astring(id);
    auto r = co_await s.run(search, [&](const Response& u) {
        if (auto sr = parse_search(u); sr && !sr->numbers.empty())
            found = true;
    });
    if (!r)
        co_return std::unexpected(r.error());
    if (r->status_or_keyword != "OK")
        co_return fail("imap.search", "SEARCH in the Sent folder failed: " + r->text,
                       ErrorScope::Account, Retry::Backoff);
    co_return found;
}

asio::awaitable<Result<SentFiling>> do_file(Session& s, std::string_view message,
                                            bool server_files) {
    if (server_files)
        co_return SentFiling::ServerFiles;
    auto r = co_await do_append(s, message);
    if (!r)
        co_return std::unexpected(r.error());
    co_return SentFiling::Appended;
}

asio::awaitable<Result<std::optional<bool>>> do_probe(Session& s, std::string message_id,
                                                      bool server_files) {
    if (!server_files)
        co_return std::optional<bool>{};
    auto found = co_await do_contains(s, std::move(message_id));
    if (!found)
        co_return std::unexpected(found.error());
    co_return std::optional<bool>(*found);
}

asio::awaitable<Result<void>> do_store_seen(Session& s, std::string mailbox,
                                            std::uint32_t uid_validity,
                                            std::vector<std::uint32_t> seen,
                                            std::vector<std::uint32_t> unseen) {
    auto wire = mutf7_encode(mailbox);
    if (!wire)
        co_return std::unexpected(wire.error());
    if (quote_astring(*wire).needs_literal())
        co_return fail("imap.arg", "mailbox name cannot be sent: " + mailbox, ErrorScope::Mailbox,
                       Retry::Never);
    std::optional<std::uint64_t> validity;
    auto sel = co_await s.run(CommandBuilder("SELECT").astring(*wire), [&](const Response& u) {
        if (u.code_atom == "UIDVALIDITY")
            validity = u.code_number();
    });
    if (!sel)
        co_return std::unexpected(sel.error());
    if (sel->status_or_keyword != "OK")
        co_return fail("imap.select", "SELECT " + mailbox + " failed: " + sel->text,
                       ErrorScope::Mailbox, Retry::Backoff);
    if (!validity || *validity != uid_validity)
        co_return fail("imap.uidvalidity",
                       fmt::format("{}: UIDVALIDITY is now {}, not {}: not mirroring read state",
                                   mailbox, validity ? *validity : 0, uid_validity),
                       ErrorScope::Mailbox, Retry::Never);
    for (int pass = 0; pass < 2; ++pass) {
        const auto& uids = pass == 0 ? seen : unseen;
        if (uids.empty())
            continue;
        const std::set<std::uint64_t> sorted(uids.begin(), uids.end());
        CommandBuilder store("UID STORE");
        store.sequence_set(sorted)
            .raw(pass == 0 ? "+FLAGS.SILENT" : "-FLAGS.SILENT")
            .list({"\\Seen"});
        auto r = co_await s.run(store);
        if (!r)
            co_return std::unexpected(r.error());
        if (r->status_or_keyword != "OK")
            co_return fail("imap.store", "UID STORE in " + mailbox + " failed: " + r->text,
                           ErrorScope::Mailbox, Retry::Backoff);
    }
    co_return Result<void>{};
}

} // namespace

Result<void> store_seen(const net::Endpoint& ep, const std::string& mailbox,
                        std::uint32_t uid_validity, const std::vector<std::uint32_t>& seen,
                        const std::vector<std::uint32_t>& unseen) {
    return detail::run_blocking<void>(ep, [mailbox, uid_validity, seen, unseen](Session& s) {
        return do_store_seen(s, mailbox, uid_validity, seen, unseen);
    });
}

bool files_sent_mail(std::optional<bool> server_files, bool offers_x_gm_ext_1) {
    return server_files.value_or(offers_x_gm_ext_1);
}

Result<SentFiling> file_in_sent(const net::Endpoint& ep, std::string_view message,
                                std::optional<bool> server_files) {
    if (server_files && *server_files)
        return SentFiling::ServerFiles;
    return detail::run_blocking<SentFiling>(ep, [message, server_files](Session& s) {
        return do_file(s, message, files_sent_mail(server_files, s.has("X-GM-EXT-1")));
    });
}

Result<std::optional<bool>> sent_by_server(const net::Endpoint& ep, std::string_view message_id,
                                           std::optional<bool> server_files) {
    if (server_files && !*server_files)
        return std::nullopt;
    std::string id(message_id);
    return detail::run_blocking<std::optional<bool>>(ep, [id, server_files](Session& s) {
        return do_probe(s, id, files_sent_mail(server_files, s.has("X-GM-EXT-1")));
    });
}

} // namespace crm::imap
