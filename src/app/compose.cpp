#include "crm/app/compose.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "crm/core/html_escape.hpp"
#include "crm/mime/compose.hpp"
#include "crm/mime/parse.hpp"
#include "crm/mime/sanitize.hpp"

namespace crm::app {

namespace {

// A quote longer than this is cut (with a line saying so): a reply need not carry a whole
// archive along.
constexpr std::size_t kMaxQuotedBytes = 256 * 1024;

std::string size_text(std::size_t bytes) {
    if (bytes >= (std::size_t{1} << 20) && bytes % (std::size_t{1} << 20) == 0)
        return fmt::format("{} MiB", bytes >> 20);
    if (bytes >= 1024 && bytes % 1024 == 0)
        return fmt::format("{} KiB", bytes >> 10);
    return fmt::format("{} bytes", bytes);
}

Error invalid_attachment(const std::string& name, std::string_view what) {
    return Error{"compose.invalid.attachments", fmt::format("attachment '{}': {}", name, what),
                 ErrorScope::Message, Retry::Never};
}

std::string attribution(const MessageView& m) {
    std::string who = m.from_name.empty() ? m.from_address
                      : m.from_address.empty()
                          ? m.from_name
                          : fmt::format("{} <{}>", m.from_name, m.from_address);
    if (who.empty())
        who = "someone";
    const auto when = m.date.value_or(m.received_at);
    return fmt::format("On {}, {} wrote:", mime::date_text(when), who);
}

// Cut at a UTF-8 boundary.
std::string_view cut(std::string_view s, std::size_t max) {
    if (s.size() <= max)
        return s;
    std::size_t n = max;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
        --n;
    return s.substr(0, n);
}

// What a person wrote, without the line breaks and spaces after its last word (a signature or a
// quote follows it).
std::string_view without_trailing_breaks(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
        s.remove_suffix(1);
    return s;
}

// For an error message: control characters shown as '?'.
std::string printable(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = '?';
    return out;
}

std::string original_text(const MessageView& m) {
    return m.text_body.empty() && !m.html_body.empty() ? mime::html_to_text(m.html_body)
                                                       : m.text_body;
}

// Text as HTML with its line breaks kept.
void append_text_html(std::string& out, std::string_view text) {
    out += "<div style=\"white-space: pre-wrap\">";
    append_html_escaped(out, text);
    out += "</div>";
}

} // namespace

Result<void> check_attachments(const std::vector<OutboxAttachment>& attachments,
                               const std::vector<std::string>& contents,
                               const ComposeLimits& limits) {
    std::size_t total = 0;
    for (std::size_t i = 0; i < attachments.size(); ++i) {
        const auto& a = attachments[i];
        if (a.filename.empty())
            return std::unexpected(invalid_attachment(a.filename, "has no file name"));
        if (a.filename.size() > 255)
            return std::unexpected(
                invalid_attachment(a.filename.substr(0, 40) + "…", "file name over 255 bytes"));
        if (auto ok = mime::check_header_value(a.filename, "file name"); !ok)
            return std::unexpected(invalid_attachment(printable(a.filename), ok.error().detail));
        if (a.filename == "." || a.filename == ".." ||
            a.filename.find_first_of("/\\") != std::string::npos)
            return std::unexpected(
                invalid_attachment(a.filename, "a file name, not a path, is expected"));
        const auto slash = a.content_type.find('/');
        if (a.content_type.empty() || slash == std::string::npos || slash == 0 ||
            slash + 1 == a.content_type.size() || a.content_type.size() > 127 ||
            std::any_of(a.content_type.begin(), a.content_type.end(), [](char c) {
                const auto u = static_cast<unsigned char>(c);
                return u <= 0x20 || u >= 0x7F ||
                       std::string_view("()<>@,;:\\\"[]?=").find(c) != std::string_view::npos;
            }))
            return std::unexpected(invalid_attachment(
                a.filename, fmt::format("'{}' is not a content type (type/subtype)",
                                        printable(cut(a.content_type, 60)))));
        const std::size_t size = i < contents.size() ? contents[i].size() : 0;
        if (size > limits.max_attachment_bytes)
            return fail("compose.too_large",
                        fmt::format("attachment '{}' is {}: the most one file may have is {}",
                                    a.filename, size_text(size),
                                    size_text(limits.max_attachment_bytes)));
        total += size;
        if (total > limits.max_message_bytes)
            return fail("compose.too_large",
                        fmt::format("the attachments together are over {} (at '{}'): send the "
                                    "rest in another mail",
                                    size_text(limits.max_message_bytes), a.filename));
    }
    return {};
}

std::string compose_text(std::string_view written, std::string_view signature,
                         const MessageView* quoted) {
    if (signature.empty() && !quoted)
        return std::string(written); // as written, to the last byte
    std::string out(without_trailing_breaks(written));
    if (!signature.empty()) {
        out += out.empty() ? "-- \n" : "\n\n-- \n";
        out += signature;
    }
    if (quoted) {
        if (!out.empty())
            out += "\n\n";
        out += attribution(*quoted);
        out += '\n';
        const std::string text = original_text(*quoted);
        const auto body = cut(text, kMaxQuotedBytes);
        std::size_t pos = 0;
        while (pos <= body.size()) {
            auto nl = body.find('\n', pos);
            auto line =
                body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
            if (!line.empty() && line.back() == '\r')
                line.remove_suffix(1);
            if (nl == std::string_view::npos && line.empty())
                break;
            out += line.empty() || line.front() == '>' ? ">" : "> ";
            out += line;
            out += '\n';
            if (nl == std::string_view::npos)
                break;
            pos = nl + 1;
        }
        if (body.size() < text.size())
            out += "> [the rest of the message is not quoted]\n";
    }
    return out;
}

std::string compose_html(std::string_view written, std::string_view signature,
                         const MessageView& quoted) {
    std::string out = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>";
    const std::string_view w = without_trailing_breaks(written);
    if (!w.empty())
        append_text_html(out, w);
    if (!signature.empty()) {
        out += "<div class=\"signature\">";
        append_text_html(out, std::string("-- \n") + std::string(signature));
        out += "</div>";
    }
    out += "<p>";
    append_html_escaped(out, attribution(quoted));
    out += "</p><blockquote type=\"cite\" style=\"margin: 0 0 0 .8ex; border-left: 1px solid "
           "#ccc; padding-left: 1ex\">";
    if (!quoted.html_body.empty()) {
        mime::SanitizeOptions o;
        o.max_input_bytes = kMaxQuotedBytes * 4;
        out += mime::sanitize_html(quoted.html_body, o).html;
    } else {
        append_text_html(out, cut(quoted.text_body, kMaxQuotedBytes));
    }
    out += "</blockquote></body></html>";
    return out;
}

Result<QueuedReply> queue_new_mail(Backend& b, const Viewer& v, NewMailRequest req,
                                   const ComposeLimits& limits, const std::string& random_hex,
                                   std::int64_t now) {
    auto visible = b.reads().deal_visible(v, req.deal);
    if (!visible)
        return std::unexpected(visible.error());
    if (!*visible)
        return fail("deal.not_found", fmt::format("deal {} not found", req.deal));
    auto& ob = b.outbox();
    auto account = ob.account_by_name(req.account);
    if (!account)
        return std::unexpected(account.error());
    if (!*account)
        return fail("reply.account_unknown",
                    req.account.empty() ? std::string("name the mail account to send from")
                                        : fmt::format("no mail account named '{}'", req.account));
    if (v.user != 0 && (*account)->owner != v.user)
        return fail("reply.account_not_yours",
                    fmt::format("account: you can only send from your own mail accounts, and "
                                "'{}' is not yours",
                                (*account)->name));
    QueuedReply q;
    auto& row = q.row;
    std::vector<std::string> seen;
    auto add = [&](std::vector<Address>& list, const std::vector<std::string>& from,
                   std::string_view field) -> Result<void> {
        for (const auto& x : from) {
            auto canon = checked_recipient(Address{"", x}, field);
            if (!canon)
                return std::unexpected(canon.error());
            if (std::find(seen.begin(), seen.end(), *canon) != seen.end())
                continue;
            seen.push_back(std::move(*canon));
            list.push_back(Address{"", x});
        }
        return {};
    };
    for (auto [list, from, field] :
         {std::tuple{&row.to, &req.to, "to"}, std::tuple{&row.cc, &req.cc, "cc"},
          std::tuple{&row.bcc, &req.bcc, "bcc"}})
        if (auto r = add(*list, *from, field); !r)
            return std::unexpected(r.error());
    if (row.to.empty())
        return fail("reply.invalid.to", "name at least one recipient");
    auto bad_subject = [](const std::string& why) {
        return std::unexpected(
            Error{"compose.invalid.subject", why, ErrorScope::Message, Retry::Never});
    };
    if (req.subject.find_first_not_of(" \t") == std::string::npos)
        return bad_subject("is required");
    // CR, LF, NUL and other controls, invalid UTF-8: what compose_reply would refuse later.
    if (auto ok = mime::check_header_value(req.subject, "subject"); !ok)
        return bad_subject(ok.error().detail.substr(ok.error().detail.find(": ") + 2));
    if (req.subject.size() > 900)
        return bad_subject("longer than 900 bytes");
    if (auto ok = check_attachments(req.attachments, req.attachment_contents, limits); !ok)
        return std::unexpected(ok.error());

    row.account = (*account)->id;
    row.user = v.user != 0 ? std::optional<UserId>(v.user) : (*account)->owner;
    auto signature = signature_of(b, row.user, req.signature);
    if (!signature)
        return std::unexpected(signature.error());
    row.deal = req.deal;
    row.message_id = make_message_id(req.deal, (*account)->address, random_hex);
    row.mode = "custom";
    row.subject = std::move(req.subject);
    row.text_body = compose_text(req.text_body, *signature, nullptr);
    row.attachments = std::move(req.attachments);
    q.account = std::move(**account);
    if (auto r = queue(b, q, req.attachment_contents, draft_key_of(v, "deal", req.deal), now); !r)
        return std::unexpected(r.error());
    return q;
}

Result<std::string> signature_of(Backend& b, std::optional<UserId> user, bool wanted) {
    if (!wanted || !user)
        return std::string();
    return b.compose().signature(*user);
}

std::optional<std::string> draft_key_of(const Viewer& v, std::string_view kind, std::int64_t id) {
    if (v.user == 0)
        return std::nullopt;
    return fmt::format("{}-{}", kind, id);
}

Result<void> queue(Backend& b, QueuedReply& q, const std::vector<std::string>& contents,
                   const std::optional<std::string>& draft, std::int64_t now) {
    auto& row = q.row;
    // Each attachment is filed under the SHA-256 of its content, whatever the caller said.
    for (std::size_t i = 0; i < row.attachments.size() && i < contents.size(); ++i)
        row.attachments[i].sha256 = mime::sha256_hex(contents[i]);
    row.state = "queued";
    row.created_at = row.updated_at = now;
    auto id = in_transaction(b.work(), [&]() -> Result<std::int64_t> {
        auto queued = b.outbox().queue(row, contents, now);
        if (!queued)
            return queued;
        if (draft && row.user)
            if (auto gone = b.compose().delete_draft(*row.user, *draft); !gone)
                return std::unexpected(gone.error());
        return queued;
    });
    if (!id)
        return std::unexpected(id.error());
    q.id = row.id = *id;
    return {};
}

} // namespace crm::app
