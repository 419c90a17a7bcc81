// Each folder's UIDs on the server (see census.hpp).
#include "crm/imap/census.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "blocking.hpp"
#include "crm/imap/command.hpp"
#include "crm/imap/folder_plan.hpp"
#include "crm/imap/mutf7.hpp"
#include "crm/imap/responses.hpp"

namespace crm::imap {

namespace {

constexpr std::uint64_t kSlice = 10'000;

asio::awaitable<Result<void>> one_folder(Session& s, FolderCensus& out) {
    auto raw = mutf7_encode(out.folder);
    if (!raw)
        co_return std::unexpected(raw.error());
    ExamineResult ex;
    auto r = co_await s.run(CommandBuilder("EXAMINE").astring(*raw),
                            [&](const Response& u) { ex.absorb(u); });
    if (!r)
        co_return std::unexpected(r.error());
    if (auto ok = ex.finish(*r, out.folder); !ok)
        co_return std::unexpected(ok.error());
    out.uid_validity = ex.uid_validity;
    out.exists = ex.exists;
    // Slices of message sequence numbers up to EXISTS ("UID SEARCH 1:10000" answers those
    // messages' UIDs): as many searches as the folder has messages / 10,000, however sparse its
    // UIDs; none for an empty folder.
    for (std::uint64_t lo = 1; lo <= ex.exists; lo += kSlice) {
        CommandBuilder search("UID SEARCH");
        search.raw(fmt::format("{}:{}", lo, std::min<std::uint64_t>(ex.exists, lo + kSlice - 1)));
        auto sr = co_await s.run(search, [&](const Response& u) {
            if (auto found = parse_search(u))
                for (auto n : found->numbers)
                    if (n >= 1 && n <= UINT32_MAX)
                        out.uids.push_back(static_cast<std::uint32_t>(n));
        });
        if (!sr)
            co_return std::unexpected(sr.error());
        if (sr->status_or_keyword != "OK")
            co_return fail("imap.search",
                           fmt::format("UID SEARCH in {} failed: {}", out.folder, sr->text),
                           ErrorScope::Mailbox, Retry::Backoff);
    }
    std::sort(out.uids.begin(), out.uids.end());
    out.uids.erase(std::unique(out.uids.begin(), out.uids.end()), out.uids.end());
    co_return Result<void>{};
}

asio::awaitable<Result<std::vector<FolderCensus>>> all_folders(Session& s,
                                                               std::vector<std::string> folders) {
    std::vector<FolderCensus> out;
    for (auto& f : folders) {
        FolderCensus c;
        c.folder = std::move(f);
        auto r = co_await one_folder(s, c);
        if (!r) {
            if (r.error().scope != ErrorScope::Mailbox && r.error().scope != ErrorScope::Message)
                co_return std::unexpected(r.error()); // the session is gone
            c.uids.clear();
            c.error = r.error().detail;
        }
        out.push_back(std::move(c));
    }
    co_return out;
}

} // namespace

Result<std::vector<FolderCensus>> census(const net::Endpoint& ep,
                                         const std::vector<std::string>& folders) {
    return detail::run_blocking<std::vector<FolderCensus>>(
        ep, [folders](Session& s) { return all_folders(s, folders); });
}

} // namespace crm::imap
