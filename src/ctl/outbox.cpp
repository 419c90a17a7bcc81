// crm-mailctl reply, outbox list / retry / cancel. crm-mailctl only queues: the daemon sends.
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/format.h>

#include "cli.hpp"
#include "commands.hpp"
#include "crm/app/compose.hpp"
#include "crm/app/reply.hpp"
#include "crm/core/list_cursors.hpp"
#include "crm/runtime/config_files.hpp"
#include "crm/store/backend.hpp"
#include "crm/store/outbox.hpp"

namespace crm::ctl {

namespace json = boost::json;

namespace {

std::string random_hex(std::size_t bytes) {
    std::string out;
    std::ifstream in("/dev/urandom", std::ios::binary);
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < bytes; ++i) {
        unsigned char c = 0;
        if (!in.read(reinterpret_cast<char*>(&c), 1))
            c = static_cast<unsigned char>(std::random_device{}());
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

std::string guess_type(const std::string& name) {
    auto dot = name.rfind('.');
    std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    for (auto& c : ext)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (ext == "pdf") return "application/pdf";
    if (ext == "txt") return "text/plain";
    if (ext == "csv") return "text/csv";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "html" || ext == "htm") return "text/html";
    if (ext == "zip") return "application/zip";
    if (ext == "docx") return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    if (ext == "xlsx") return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    return "application/octet-stream";
}

std::string show(const std::vector<Address>& v) {
    std::string out;
    for (const auto& a : v) {
        if (!out.empty())
            out += ", ";
        out += a.name.empty() ? a.address : a.name + " <" + a.address + ">";
    }
    return out;
}

// The files of --attach, read; false (said on stderr) when one cannot be read.
bool read_attachments(const Args& a, const char* command, std::vector<OutboxAttachment>& atts,
                      std::vector<std::string>& contents) {
    for (const auto& path : a.values("--attach")) {
        auto c = runtime::read_text_file(path);
        if (!c) {
            fmt::print(stderr, "crm-mailctl {}: cannot read attachment {}: {}\n", command, path,
                       std::strerror(errno));
            return false;
        }
        std::string name = std::filesystem::path(path).filename().string();
        // Filed under the SHA-256 of its content by app::queue, which computes it.
        atts.push_back({name, guess_type(name), ""});
        contents.push_back(std::move(*c));
    }
    return true;
}

// A refusal of the request itself is said in one line; a store failure as errors are.
int queue_failed(const Error& e, const char* command) {
    if (e.code.starts_with("reply.") || e.code.starts_with("compose.") ||
        e.code.ends_with(".not_found")) {
        fmt::print(stderr, "crm-mailctl {}: {}\n", command, e.detail);
        return kRuntime;
    }
    return print_error(e);
}

} // namespace

int cmd_send(Context& ctx, const std::vector<std::string>& args) {
    Args a(args,
           {"--deal", "--to", "--cc", "--bcc", "--subject", "--body-file", "--attach", "--account"},
           {"--signature"});
    if (!a.positionals().empty())
        throw UsageError{"no positional arguments"};
    auto deal = a.value("--deal");
    if (!deal)
        throw UsageError{"--deal N is required"};
    auto account = a.value("--account");
    if (!account)
        throw UsageError{"--account NAME is required (the account to send from)"};
    if (a.values("--to").empty())
        throw UsageError{"--to ADDR is required (one or more)"};
    auto subject = a.value("--subject");
    if (!subject)
        throw UsageError{"--subject TEXT is required"};
    auto body_file = a.value("--body-file");
    if (!body_file)
        throw UsageError{"--body-file F is required"};
    auto body = runtime::read_text_file(*body_file);
    if (!body) {
        fmt::print(stderr, "crm-mailctl send: cannot read {}: {}\n", *body_file,
                   std::strerror(errno));
        return kRuntime;
    }
    app::NewMailRequest req;
    req.deal = parse_id("--deal", *deal);
    req.account = *account;
    req.to = a.values("--to");
    req.cc = a.values("--cc");
    req.bcc = a.values("--bcc");
    req.subject = *subject;
    req.text_body = std::move(*body);
    req.signature = a.has("--signature");
    if (!read_attachments(a, "send", req.attachments, req.attachment_contents))
        return kRuntime;
    auto* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    const auto limits = config_compose(ctx.config_path).value_or(ComposeLimits{});
    auto queued = app::queue_new_mail(*backend, kOperator, std::move(req), limits, random_hex(12),
                                      ctx.clock->now());
    if (!queued)
        return queue_failed(queued.error(), "send");
    const auto& row = queued->row;
    fmt::print("{}\n", queued->id);
    fmt::print(stderr, "queued new mail {} on deal {} from {} to {}{}: \"{}\"\n", queued->id,
               row.deal.value_or(0), queued->account.address, show(row.to),
               row.cc.empty() ? "" : " cc " + show(row.cc), row.subject);
    return kOk;
}

int cmd_reply(Context& ctx, const std::vector<std::string>& args) {
    Args a(args,
           {"--to-message", "--to", "--cc", "--bcc", "--body-file", "--html-file", "--attach",
            "--account"},
           {"--all", "--quote", "--signature"});
    if (a.positionals().size() != 1)
        throw UsageError{"expected THREAD"};
    ThreadId thread = parse_id("THREAD", a.positionals()[0]);
    auto body_file = a.value("--body-file");
    if (!body_file)
        throw UsageError{"--body-file F is required"};
    auto body = runtime::read_text_file(*body_file);
    if (!body) {
        fmt::print(stderr, "crm-mailctl reply: cannot read {}: {}\n", *body_file, std::strerror(errno));
        return kRuntime;
    }
    std::string html;
    if (a.value("--html-file") && (a.has("--quote") || a.has("--signature")))
        throw UsageError{"--html-file is sent as it is: --quote and --signature would reach only "
                         "the text part; leave them out or write them into the HTML"};
    if (auto h = a.value("--html-file")) {
        auto t = runtime::read_text_file(*h);
        if (!t) {
            fmt::print(stderr, "crm-mailctl reply: cannot read {}: {}\n", *h, std::strerror(errno));
            return kRuntime;
        }
        html = std::move(*t);
    }
    std::vector<OutboxAttachment> atts;
    std::vector<std::string> contents;
    if (!read_attachments(a, "reply", atts, contents))
        return kRuntime;
    auto* backend = ctx.backend();
    if (!backend)
        return kRuntime;
    app::ReplyRequest req;
    req.thread = thread;
    req.parent_message_id = a.value("--to-message");
    req.account = a.value("--account");
    req.choice.all = a.has("--all");
    req.choice.to = a.values("--to");
    req.choice.cc = a.values("--cc");
    req.choice.bcc = a.values("--bcc");
    req.text_body = std::move(*body);
    req.html_body = std::move(html);
    req.attachments = std::move(atts);
    req.attachment_contents = std::move(contents);
    req.quote = a.has("--quote");
    req.signature = a.has("--signature");
    const auto limits = config_compose(ctx.config_path).value_or(ComposeLimits{});
    auto queued = app::queue_reply(*backend, kOperator, std::move(req), random_hex(12),
                                   ctx.clock->now(), limits);
    if (!queued)
        return queue_failed(queued.error(), "reply");
    const auto& row = queued->row;
    fmt::print("{}\n", queued->id);
    fmt::print(stderr, "queued reply {} from {} to {}{}: \"{}\"\n", queued->id,
               queued->account.address, show(row.to), row.cc.empty() ? "" : " cc " + show(row.cc),
               row.subject);
    return kOk;
}

int cmd_outbox_list(Context& ctx, const std::vector<std::string>& args) {
    Args a(args, {"--state", "--limit", "--cursor"}, {"--json"});
    if (!a.positionals().empty())
        throw UsageError{"no positional arguments"};
    const auto state = a.value("--state");
    if (state && !outbox_state(*state))
        throw UsageError{"--state: '" + *state +
                         "' is none of queued, sending, sent, failed, unknown, cancelled, bounced"};
    const auto paged = page_args(a);
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    // A page as the API gives it (the same cursors: of this --state), or the whole list.
    std::optional<std::int64_t> before;
    if (paged && !paged->cursor.empty()) {
        auto key = parse_outbox_cursor(paged->cursor, state.value_or(""));
        if (!key)
            return print_error(key.error());
        before = *key;
    }
    Result<OutboxPage> page = OutboxPage{};
    if (paged) {
        page = db->outbox().page(OutboxFilter{state, std::nullopt}, before, paged->limit);
    } else if (auto all = db->outbox().list(state)) {
        page->rows = std::move(*all);
    } else {
        page = std::unexpected(all.error());
    }
    if (!page)
        return print_error(page.error());
    const auto& rows = page->rows;
    std::optional<std::string> next;
    if (page->next)
        next = outbox_cursor(state.value_or(""), *page->next);
    if (a.has("--json")) {
        json::array arr;
        for (const auto& r : rows) {
            json::object o;
            o["id"] = r.id;
            o["state"] = r.state;
            o["thread_id"] = r.thread ? json::value(*r.thread) : nullptr;
            o["deal_id"] = r.deal ? json::value(*r.deal) : nullptr;
            o["message_id"] = r.message_id;
            o["to"] = show(r.to);
            o["cc"] = show(r.cc);
            o["subject"] = r.subject;
            o["attempts"] = r.attempts;
            o["last_error"] = r.last_error;
            o["sent_at"] = r.sent_at ? json::value(*r.sent_at) : nullptr;
            json::array reports;
            for (const auto& x : r.reports)
                reports.push_back(json::object{{"recipient", x.recipient},
                                               {"action", x.action},
                                               {"status", x.status},
                                               {"diagnostic", x.diagnostic},
                                               {"at", x.at}});
            o["reports"] = std::move(reports);
            arr.push_back(o);
        }
        if (paged)
            fmt::print("{}\n",
                       json::serialize(json::object{
                           {"entries", arr},
                           {"total", page->total},
                           {"next_cursor", next ? json::value(*next) : json::value(nullptr)}}));
        else
            fmt::print("{}\n", json::serialize(arr));
        return kOk;
    }
    fmt::print("{:>5}  {:<9} {:>6}  {:<30}  {}\n", "ID", "STATE", "THREAD", "TO", "SUBJECT");
    for (const auto& r : rows) {
        fmt::print("{:>5}  {:<9} {:>6}  {:<30}  {}\n", r.id, r.state,
                   r.thread ? std::to_string(*r.thread) : "-", printable(show(r.to)),
                   printable(r.subject));
        if (!r.last_error.empty()) // the SMTP server's words
            fmt::print("       {}\n", printable(r.last_error));
        for (const auto& x : r.reports) // what delivery reports said, per recipient
            fmt::print("       {} {}{}{}\n", x.action,
                       x.recipient.empty() ? "(recipient not named)" : printable(x.recipient),
                       x.status.empty() ? "" : " " + printable(x.status),
                       x.diagnostic.empty() ? "" : ": " + printable(x.diagnostic));
    }
    if (paged)
        print_page_footer(rows.size(), page->total, "message", next);
    return kOk;
}

namespace {
int change_state(Context& ctx, const std::vector<std::string>& args, const char* verb) {
    Args a(args, {}, {});
    if (a.positionals().size() != 1)
        throw UsageError{"expected ID"};
    auto id = parse_id("ID", a.positionals()[0]);
    auto* db = ctx.backend();
    if (!db)
        return kRuntime;
    auto& ob = db->outbox();
    const bool retry = std::string_view(verb) == "retry";
    std::string st;
    // A refusal of this command (not a database error): printed as is, nothing changes.
    std::string refused;
    auto done = in_transaction(db->work(), [&]() -> Result<void> {
        auto row = ob.get(id);
        if (!row)
            return std::unexpected(row.error());
        if (!*row) {
            refused = fmt::format("crm-mailctl outbox {}: no outbox entry {}", verb, id);
            return {};
        }
        st = (*row)->state;
        if (retry) {
            // Only what certainly did not go out may be sent again: a reply in "unknown" may
            // have been delivered; retrying it is the salesperson's explicit decision.
            if (st != "failed" && st != "unknown" && st != "cancelled") {
                refused = fmt::format("crm-mailctl outbox retry: entry {} is {}, not failed, "
                                      "unknown or cancelled",
                                      id, st);
                return {};
            }
            return ob.set_state(id, "queued", "", ctx.clock->now(), ctx.clock->now());
        }
        if (st != "queued" && st != "failed" && st != "unknown") {
            refused = fmt::format("crm-mailctl outbox cancel: entry {} is {}: only queued, "
                                  "failed or unknown replies can be cancelled",
                                  id, st);
            return {};
        }
        return ob.set_state(id, "cancelled", "cancelled by hand", std::nullopt, ctx.clock->now());
    });
    if (!done)
        return print_error(done.error());
    if (!refused.empty()) {
        fmt::print(stderr, "{}\n", refused);
        return kRuntime;
    }
    fmt::print("outbox entry {}: {} -> {}\n", id, st, retry ? "queued" : "cancelled");
    return kOk;
}
} // namespace

int cmd_outbox_retry(Context& ctx, const std::vector<std::string>& args) {
    return change_state(ctx, args, "retry");
}
int cmd_outbox_cancel(Context& ctx, const std::vector<std::string>& args) {
    return change_state(ctx, args, "cancel");
}

} // namespace crm::ctl
