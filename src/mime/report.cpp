#include "crm/mime/report.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/address_text.hpp"
#include "crm/core/base64.hpp"
#include "internal.hpp"

namespace crm::mime {

namespace {

constexpr std::size_t kDiagnosticBytes = 300;
// How far after its opening sentence a text bounce names the failed addresses.
constexpr std::size_t kTextRegionBytes = 1500;

using crm::mime::detail::trim;

// Lower case for matching: ASCII, and the capitals of Latin-1 (À..Þ) and Cyrillic (Ѐ..Я), so
// "Échec de la remise" and "Недоставленное сообщение" match their phrases.
std::string lower(std::string_view s) {
    std::string out = crm::ascii_lower(s);
    for (std::size_t i = 0; i + 1 < out.size(); ++i) {
        auto b0 = static_cast<unsigned char>(out[i]);
        auto b1 = static_cast<unsigned char>(out[i + 1]);
        if (b0 == 0xC3 && b1 >= 0x80 && b1 <= 0x9E && b1 != 0x97) {
            out[i + 1] = static_cast<char>(b1 + 0x20); // U+00C0..U+00DE
        } else if (b0 == 0xD0 && b1 >= 0x90 && b1 <= 0x9F) {
            out[i + 1] = static_cast<char>(b1 + 0x20); // А..П
        } else if (b0 == 0xD0 && b1 >= 0xA0 && b1 <= 0xAF) {
            out[i] = static_cast<char>(0xD1); // Р..Я
            out[i + 1] = static_cast<char>(b1 - 0x20);
        } else if (b0 == 0xD0 && b1 >= 0x80 && b1 <= 0x8F) {
            out[i] = static_cast<char>(0xD1); // Ѐ..Џ
            out[i + 1] = static_cast<char>(b1 + 0x10);
        } else {
            continue;
        }
        ++i;
    }
    return out;
}

// Whitespace runs (line breaks included) as one space: a sentence wrapped over two lines
// ("could not\nbe delivered") matches its phrase.
std::string collapse(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    bool space = false;
    for (char c : s) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            continue;
        }
        if (space && !out.empty())
            out.push_back(' ');
        space = false;
        out.push_back(c);
    }
    return lower(out);
}

// At most `n` bytes, not cutting a UTF-8 sequence.
std::string cap_utf8(std::string s, std::size_t n) {
    detail::truncate_utf8(s, n);
    return s;
}

struct Field {
    std::string name; // lower case
    std::string value;
};

// Header-like text as blocks of unfolded fields; blank lines end a block.
std::vector<std::vector<Field>> field_blocks(std::string_view text) {
    std::vector<std::vector<Field>> blocks(1);
    std::size_t at = 0;
    while (at <= text.size()) {
        std::size_t nl = text.find('\n', at);
        if (nl == std::string_view::npos)
            nl = text.size();
        std::string_view line = text.substr(at, nl - at);
        at = nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (trim(line).empty()) {
            if (!blocks.back().empty())
                blocks.emplace_back();
            continue;
        }
        if ((line.front() == ' ' || line.front() == '\t') && !blocks.back().empty()) {
            auto& v = blocks.back().back().value;
            v += ' ';
            v += trim(line);
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0)
            continue;
        blocks.back().push_back(
            {lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
    }
    if (blocks.back().empty())
        blocks.pop_back();
    return blocks;
}

// "rfc822; <Bob@Example.com>" -> "bob@example.com".
std::string address_of(std::string_view v) {
    if (const std::size_t semi = v.find(';'); semi != std::string_view::npos)
        v = v.substr(semi + 1);
    v = trim(v);
    if (const std::size_t lt = v.find('<'); lt != std::string_view::npos) {
        const std::size_t gt = v.find('>', lt);
        v = v.substr(lt + 1, gt == std::string_view::npos ? std::string_view::npos : gt - lt - 1);
    }
    if (const std::size_t sp = v.find_first_of(" \t("); sp != std::string_view::npos)
        v = v.substr(0, sp);
    return lower(trim(v));
}

bool digit(char c) {
    return c >= '0' && c <= '9';
}

// The first RFC 3463 code ("5.1.1") in `s`, "" if none.
std::string enhanced_status(std::string_view s) {
    for (std::size_t i = 0; i + 4 < s.size(); ++i) {
        if ((s[i] != '2' && s[i] != '4' && s[i] != '5') || s[i + 1] != '.' || !digit(s[i + 2]))
            continue;
        if (i > 0 && (digit(s[i - 1]) || s[i - 1] == '.'))
            continue;
        std::size_t j = i + 2;
        while (j < s.size() && digit(s[j]) && j - i < 6)
            ++j;
        if (j >= s.size() || s[j] != '.' || j + 1 >= s.size() || !digit(s[j + 1]))
            continue;
        std::size_t k = j + 1;
        while (k < s.size() && digit(s[k]) && k - j < 5)
            ++k;
        if (k < s.size() && (digit(s[k]) || (s[k] == '.' && k + 1 < s.size() && digit(s[k + 1]))))
            continue;
        return std::string(s.substr(i, k - i));
    }
    return {};
}

// The first SMTP reply code of a failure ("550"), "" if none: three digits starting with 4 or
// 5, standing alone, followed by a space or a hyphen.
std::string smtp_code(std::string_view s) {
    for (std::size_t i = 0; i + 3 < s.size(); ++i) {
        if ((s[i] != '4' && s[i] != '5') || !digit(s[i + 1]) || !digit(s[i + 2]))
            continue;
        if (i > 0 && (digit(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == '-' ||
                      std::isalpha(static_cast<unsigned char>(s[i - 1]))))
            continue;
        if (s[i + 3] == ' ' || s[i + 3] == '-')
            return std::string(s.substr(i, 3));
    }
    return {};
}

std::string one_line(std::string_view v) {
    std::string out;
    for (char c : trim(v)) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
            c = ' ';
        if (c == ' ' && !out.empty() && out.back() == ' ')
            continue;
        out.push_back(c);
    }
    return out;
}

// The recipients of an RFC 3464 report's fields.
std::vector<ReportedRecipient> dsn_recipients(std::string_view text) {
    struct Open {
        std::string final_rcpt, original, action, status, diagnostic;
        bool any() const { return !final_rcpt.empty() || !original.empty(); }
    };
    std::vector<ReportedRecipient> out;
    Open cur;
    auto close = [&] {
        if (cur.any()) {
            ReportedRecipient r;
            r.address = !cur.final_rcpt.empty() ? cur.final_rcpt : cur.original;
            r.status = cur.status;
            r.action = cur.action;
            if (r.action.empty() && !r.status.empty())
                r.action = r.status[0] == '5'   ? "failed"
                           : r.status[0] == '4' ? "delayed"
                                                : "delivered";
            r.diagnostic = cap_utf8(one_line(cur.diagnostic), kDiagnosticBytes);
            if (!r.address.empty())
                out.push_back(std::move(r));
        }
        cur = {};
    };
    for (const auto& block : field_blocks(text)) {
        close();
        for (const auto& f : block) {
            if (f.name == "original-recipient") {
                if (cur.any())
                    close();
                cur.original = address_of(f.value);
            } else if (f.name == "final-recipient") {
                if (!cur.final_rcpt.empty())
                    close();
                cur.final_rcpt = address_of(f.value);
            } else if (f.name == "action") {
                const std::string v = lower(trim(f.value));
                cur.action = v.substr(0, v.find_first_of(" \t("));
            } else if (f.name == "status") {
                cur.status = enhanced_status(f.value);
            } else if (f.name == "diagnostic-code") {
                std::string_view v = f.value;
                // "smtp; 550 ...": the type before the semicolon is dropped.
                if (const std::size_t semi = v.find(';');
                    semi != std::string_view::npos && semi < 16)
                    v = v.substr(semi + 1);
                cur.diagnostic = std::string(trim(v));
            }
        }
    }
    close();
    return out;
}

// The report's recipients; a gateway that encoded the recipient blocks once more (a
// "Content-Transfer-Encoding: base64" field, then the encoded fields) is decoded first.
std::vector<ReportedRecipient> report_recipients(std::string_view content) {
    auto out = dsn_recipients(content);
    if (!out.empty())
        return out;
    const std::string low = lower(content);
    const std::size_t cte = low.find("content-transfer-encoding:");
    if (cte == std::string::npos || low.find("base64", cte) > low.find('\n', cte))
        return out;
    std::size_t blank = low.find("\n\n", cte);
    if (blank == std::string::npos)
        blank = low.find("\n\r\n", cte);
    if (blank == std::string::npos)
        return out;
    const auto decoded = base64_decode(content.substr(blank));
    return decoded ? dsn_recipients(*decoded) : out;
}

void dedupe(std::vector<ReportedRecipient>& v) {
    std::vector<ReportedRecipient> out;
    for (auto& x : v)
        if (std::none_of(out.begin(), out.end(), [&](const ReportedRecipient& y) {
                return y.address == x.address && y.action == x.action;
            }))
            out.push_back(std::move(x));
    v = std::move(out);
}

std::string strip_id(std::string_view v) {
    v = trim(v);
    if (const std::size_t lt = v.find('<'); lt != std::string_view::npos) {
        const std::size_t gt = v.find('>', lt);
        if (gt == std::string_view::npos)
            return {};
        return std::string(trim(v.substr(lt + 1, gt - lt - 1)));
    }
    v = v.substr(0, v.find_first_of(" \t"));
    return v.find('@') != std::string_view::npos ? std::string(v) : std::string();
}

// The Message-ID in a header block (a returned message or its headers).
std::string message_id_in_headers(std::string_view text) {
    const auto blocks = field_blocks(text);
    if (blocks.empty())
        return {};
    for (const auto& f : blocks.front()) // the header block only, not a quoted body
        if (f.name == "message-id")
            return strip_id(f.value);
    return {};
}

// "Message-ID: <...>" quoted in a text (qmail and Exim return the original inline). The one in
// a block of header lines with a From or Received line is the returned message's; a gateway may
// write another into the headers of the part around it.
std::string message_id_in_text(std::string_view text) {
    const std::string low = lower(text);
    std::string first;
    std::size_t at = 0;
    while ((at = low.find("message-id:", at)) != std::string::npos) {
        const bool line_start = at == 0 || low[at - 1] == '\n' || low[at - 1] == ' ' ||
                                low[at - 1] == '\t' || low[at - 1] == '>';
        const std::size_t from = at + 11;
        const std::size_t hit = at;
        at = from;
        if (!line_start)
            continue;
        std::size_t end = low.find('\n', from);
        // The id may be on the next (folded) line.
        if (end != std::string::npos && trim(text.substr(from, end - from)).empty())
            end = low.find('\n', end + 1);
        auto id =
            strip_id(text.substr(from, (end == std::string::npos ? text.size() : end) - from));
        if (id.empty())
            continue;
        // The block of lines around it, up to blank lines.
        std::size_t b = low.rfind("\n\n", hit);
        b = b == std::string::npos ? 0 : b;
        std::size_t e = low.find("\n\n", hit);
        e = e == std::string::npos ? low.size() : e;
        const std::string_view block = std::string_view(low).substr(b, e - b);
        if (block.find("\nfrom:") != std::string_view::npos ||
            block.find("\nreceived:") != std::string_view::npos)
            return id;
        if (first.empty())
            first = std::move(id);
    }
    return first;
}

// The mail addresses in `s` (lower case), in order, each once.
std::vector<std::string> addresses_in(std::string_view s) {
    std::vector<std::string> out;
    for (const auto& a : addresses_in_text(s)) {
        std::string low = lower(a);
        if (std::find(out.begin(), out.end(), low) == out.end())
            out.push_back(std::move(low));
    }
    return out;
}

std::string local_part(std::string_view address) {
    return lower(address.substr(0, address.find('@')));
}

bool daemon_local(std::string_view local) {
    return local == "mailer-daemon" || local == "postmaster" || local == "mail-daemon" ||
           local == "mailerdaemon" || local == "mail.daemon" || local == "bounce" ||
           local == "bounces" || local == "mdaemon" ||
           local == "microsoftexchange329e71ec88ae4615bbc36ab6ce41109e";
}

constexpr std::array kBounceSubjects{
    std::string_view("undeliverable"),
    std::string_view("undelivered mail"),
    std::string_view("delivery status notification (failure)"),
    std::string_view("delivery status notification (delay)"),
    std::string_view("delivery failure"),
    std::string_view("failure notice"),
    std::string_view("mail delivery failed"),
    std::string_view("returned mail"),
    std::string_view("mail delivery failure"),
    std::string_view("delivery notification"),
    std::string_view("warning: could not send message"),
    std::string_view("delayed mail"),
    std::string_view("message delayed"),
    std::string_view("nicht zustellbar"),
    std::string_view("unzustellbar"),
    std::string_view("non remis"),
    std::string_view("non distribuable"),
    std::string_view("no se puede entregar"),
    std::string_view("no entregado"),
    std::string_view("non recapitabile"),
    std::string_view("não é possível entregar"),
    std::string_view("onbestelbaar"),
    std::string_view("niedostarczalne"),
    std::string_view("nu poate fi livrat"),
    std::string_view("недоставленное сообщение"),
    std::string_view("не доставлено"),
    std::string_view("无法投递"),
    std::string_view("退信"),
    std::string_view("配信不能"),
};

// Sentences that open a delay notice, checked before the failure sentences (a delay notice
// also says the message "could not be delivered" so far).
constexpr std::array kDelayPhrases{
    std::string_view("this is a warning only"),
    std::string_view("you do not need to resend"),
    std::string_view("has not yet been delivered"),
    std::string_view("has not been delivered yet"),
    std::string_view("delivery to the following recipient has been delayed"),
    std::string_view("delivery to the following recipients has been delayed"),
    std::string_view("delivery has been delayed"),
    std::string_view("delivery is delayed"),
    std::string_view("will continue trying"),
    std::string_view("will retry"),
    std::string_view("still trying"),
    std::string_view("verzögert"),
    std::string_view("retardée"),
    std::string_view("retrasad"),
};

// Sentences that open a failure notice: the failed addresses follow them.
constexpr std::array kFailurePhrases{
    std::string_view("wasn't able to deliver your message to the following addresses"),
    std::string_view("the following address(es) failed"),
    std::string_view("delivery to the following recipient failed permanently"),
    std::string_view("delivery to the following recipients failed permanently"),
    std::string_view("delivery has failed to these recipients or groups"),
    std::string_view("your message couldn't be delivered"),
    std::string_view("your message wasn't delivered"),
    std::string_view("your message could not be delivered"),
    std::string_view("following addresses had permanent fatal errors"),
    std::string_view("could not be delivered to one or more of its recipients"),
    std::string_view("could not be delivered to one or more recipients"),
    std::string_view("message could not be delivered"),
    std::string_view("was not delivered to"),
    std::string_view("could not be delivered"),
    std::string_view("couldn't be delivered"),
    std::string_view("permanent error"),
    std::string_view("delivery failed"),
    std::string_view("undeliverable"),
    std::string_view("user unknown"),
    std::string_view("unknown user"),
    std::string_view("no such user"),
    std::string_view("mailbox unavailable"),
    std::string_view("recipient address rejected"),
    std::string_view("konnte nicht zugestellt werden"),
    std::string_view("nicht zugestellt werden"),
    std::string_view("n'a pas pu être remis"),
    std::string_view("n'a pu être distribué"),
    std::string_view("échec de la remise"),
    std::string_view("no se pudo entregar"),
    std::string_view("no se ha podido entregar"),
    std::string_view("non è stato possibile recapitare"),
    std::string_view("impossibile recapitare"),
    std::string_view("não foi possível entregar"),
    std::string_view("não pôde ser entregue"),
    std::string_view("kon niet worden bezorgd"),
    std::string_view("nie można dostarczyć"),
    std::string_view("nie mogła zostać dostarczona"),
    std::string_view("nu a putut fi livrat"),
    std::string_view("nu a putut fi livrată"),
    std::string_view("не может быть доставлено"),
    std::string_view("не удалось доставить"),
    std::string_view("无法投递"),
    std::string_view("無法傳遞"),
    std::string_view("配信できません"),
    std::string_view("配送できませんでした"),
};

constexpr std::array kAutoReplySubjects{
    std::string_view("automatic reply:"),
    std::string_view("auto-reply:"),
    std::string_view("autoreply:"),
    std::string_view("auto reply:"),
    std::string_view("auto response:"),
    std::string_view("auto-response:"),
    std::string_view("out of office:"),
    std::string_view("out of office reply"),
    std::string_view("out of the office"),
    std::string_view("abwesenheitsnotiz"),
    std::string_view("automatische antwort"),
    std::string_view("réponse automatique"),
    std::string_view("absence du bureau"),
    std::string_view("respuesta automática"),
    std::string_view("fuera de la oficina"),
    std::string_view("risposta automatica"),
    std::string_view("fuori sede"),
    std::string_view("resposta automática"),
    std::string_view("ausência temporária"),
    std::string_view("automatisch antwoord"),
    std::string_view("afwezig"),
    std::string_view("automatyczna odpowiedź"),
    std::string_view("odpowiedź automatyczna"),
    std::string_view("răspuns automat"),
    std::string_view("raspuns automat"),
    std::string_view("автоматический ответ"),
    std::string_view("自动回复"),
    std::string_view("自動回覆"),
    std::string_view("自動返信"),
    std::string_view("自動応答"),
    std::string_view("不在"),
};

template <std::size_t N>
std::size_t find_any(std::string_view hay, const std::array<std::string_view, N>& needles,
                     std::size_t* length = nullptr) {
    std::size_t best = std::string_view::npos;
    for (auto n : needles) {
        const std::size_t at = hay.find(n);
        if (at != std::string_view::npos && (best == std::string_view::npos || at < best)) {
            best = at;
            if (length != nullptr)
                *length = n.size();
        }
    }
    return best;
}

template <std::size_t N>
bool starts_with_any(std::string_view s, const std::array<std::string_view, N>& prefixes) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](std::string_view p) { return s.starts_with(p); });
}

struct Facts {
    std::string auto_submitted; // its first token, lower case
    std::string subject;        // lower case, trimmed
    std::string content_type;   // lower case
    bool from_daemon = false;
    bool null_return_path = false;
    bool autoreply_header = false; // X-Autoreply, X-Autorespond, Precedence: auto_reply
    bool exchange_auto = false;    // X-Auto-Response-Suppress / X-MS-Exchange-Inbox-Rules-Loop
};

Facts facts_of(const ParsedMessage& m) {
    Facts f;
    f.subject = lower(trim(m.subject));
    // Header names compared in place: this runs for every message parsed.
    for (const auto& [name, value] : m.headers) {
        const auto is = [&name](std::string_view n) { return crm::ascii_iequals(name, n); };
        if (is("auto-submitted")) {
            std::string_view v = trim(value);
            f.auto_submitted = lower(trim(v.substr(0, v.find_first_of(";( \t"))));
        } else if (is("return-path")) {
            f.null_return_path = trim(value) == "<>";
        } else if (is("content-type") && f.content_type.empty()) {
            f.content_type = lower(value);
        } else if (is("x-autoreply") || is("x-autorespond") || is("x-autoresponder")) {
            const std::string v = lower(trim(value));
            if (v != "no" && v != "false" && v != "0")
                f.autoreply_header = true;
        } else if (is("precedence")) {
            if (lower(trim(value)) == "auto_reply")
                f.autoreply_header = true;
        } else if (is("x-auto-response-suppress") || is("x-ms-exchange-inbox-rules-loop")) {
            f.exchange_auto = true;
        }
    }
    // A mailer daemon by its address; by its name ("Mail Delivery Subsystem") only with an
    // empty Return-Path or Auto-Submitted too: a customer may call themselves "ACME Mail
    // Delivery".
    const bool automatic = f.null_return_path || !f.auto_submitted.empty();
    for (const auto& a : m.from) {
        const std::string name = lower(a.name);
        if (daemon_local(local_part(a.address)) ||
            (automatic && (name.find("mail delivery") != std::string::npos ||
                           name.find("mailer-daemon") != std::string::npos ||
                           name.find("postmaster") != std::string::npos)))
            f.from_daemon = true;
    }
    return f;
}

AutoReport auto_reply(const ParsedMessage& m, const Facts& f) {
    AutoReport r;
    r.kind = AutoKind::AutoReply;
    r.evidence = f.auto_submitted == "auto-replied" ? "Auto-Submitted: auto-replied"
                 : f.autoreply_header               ? "auto-reply header"
                                                    : "auto-reply subject";
    if (!m.in_reply_to.empty())
        r.original_message_id = m.in_reply_to.back();
    return r;
}

std::string original_id_of(const ParsedMessage& m, const ReportParts& parts,
                           std::string_view text_region) {
    for (const auto& id : parts.returned_ids)
        if (!id.empty())
            return id;
    for (const auto& h : parts.headers)
        if (auto id = message_id_in_headers(h); !id.empty())
            return id;
    if (auto id = message_id_in_text(text_region); !id.empty())
        return id;
    if (!m.in_reply_to.empty())
        return m.in_reply_to.back();
    if (!m.references.empty())
        return m.references.back();
    return {};
}

// The addresses of the report itself (its sender and recipients): never a failed recipient.
std::vector<std::string> own_addresses(const ParsedMessage& m) {
    std::vector<std::string> out;
    for (const auto* list : {&m.from, &m.sender, &m.reply_to, &m.to, &m.cc})
        for (const auto& a : *list)
            out.push_back(lower(a.address));
    return out;
}

} // namespace

AutoReport classify_report(const ParsedMessage& m, const ReportParts& parts) {
    AutoReport r;
    const Facts f = facts_of(m);
    // A top-level message/delivery-status is a report without its multipart.
    const bool is_report = f.content_type.starts_with("multipart/report") ||
                           f.content_type.starts_with("message/delivery-status") ||
                           f.content_type.starts_with("message/global-delivery-status");

    // Read receipts (RFC 8098): automatic, never the customer's answer. Known by the report
    // type, or by the message/disposition-notification part.
    const bool mdn_part =
        std::any_of(m.attachments.begin(), m.attachments.end(), [](const Attachment& a) {
            return a.content_type == "message/disposition-notification" ||
                   a.content_type == "message/global-disposition-notification";
        });
    if (is_report &&
        (f.content_type.find("disposition-notification") != std::string::npos || mdn_part)) {
        r.kind = AutoKind::Receipt;
        r.evidence = "read receipt (RFC 8098)";
        return r;
    }
    // Abuse reports (RFC 5965) and other reports not about delivery.
    if (is_report && f.content_type.find("report-type") != std::string::npos &&
        f.content_type.find("delivery-status") == std::string::npos)
        return r;

    // 1. RFC 3464.
    for (const auto& status : parts.status) {
        if (!is_report && !f.from_daemon && !f.null_return_path)
            break; // a notice someone forwarded: not ours to act on
        auto all = report_recipients(status);
        if (all.empty())
            continue;
        dedupe(all);
        auto with = [&](std::string_view action) {
            std::vector<ReportedRecipient> out;
            for (const auto& x : all)
                if (x.action == action)
                    out.push_back(x);
            return out;
        };
        auto delivered = with("delivered");
        for (auto action : {"relayed", "expanded"})
            for (auto& x : with(action))
                delivered.push_back(std::move(x));
        if (auto failed = with("failed"); !failed.empty()) {
            r.kind = AutoKind::Bounce;
            r.recipients = std::move(failed);
        } else if (auto delayed = with("delayed"); !delayed.empty()) {
            r.kind = AutoKind::Delayed;
            r.recipients = std::move(delayed);
        } else if (!delivered.empty()) {
            r.kind = AutoKind::Delivered;
            r.recipients = std::move(delivered);
        } else {
            continue; // no outcome we can read (fields anonymised or unknown)
        }
        r.evidence = "RFC 3464 report";
        r.original_message_id = original_id_of(m, parts, m.text_body);
        return r;
    }

    // 1b. A report whose parts could not be told apart (a boundary missing or wrong): its
    // fields are in the text.
    const bool daemon = f.from_daemon || f.null_return_path;
    if ((is_report || daemon) && lower(m.text_body).find("final-recipient:") != std::string::npos) {
        auto all = dsn_recipients(m.text_body);
        dedupe(all);
        const bool any_failed =
            std::any_of(all.begin(), all.end(), [](const auto& x) { return x.action == "failed"; });
        std::erase_if(all, [&](const ReportedRecipient& x) {
            return x.action != (any_failed ? "failed" : "delayed");
        });
        if (!all.empty()) {
            r.kind = any_failed ? AutoKind::Bounce : AutoKind::Delayed;
            r.recipients = std::move(all);
            r.evidence = "RFC 3464 fields in the text";
            r.original_message_id = original_id_of(m, parts, m.text_body);
            return r;
        }
    }

    // An automatic answer from a person's address (RFC 3834 asks for an empty Return-Path on
    // them) is one, whatever words about delays its text has.
    // A ticket system puts its tag first: "[support #33575] AutoReply: ...".
    std::string_view subject = f.subject;
    if (subject.starts_with('[') && subject.find(']') != std::string_view::npos)
        subject = trim(subject.substr(subject.find(']') + 1));
    const bool auto_subject = starts_with_any(subject, kAutoReplySubjects);
    const bool auto_answer =
        f.auto_submitted == "auto-replied" || f.autoreply_header ||
        (auto_subject && (f.auto_submitted == "auto-generated" || f.exchange_auto ||
                          subject.find(':') != std::string_view::npos));
    const bool daemon_address = std::any_of(m.from.begin(), m.from.end(), [](const Address& a) {
        return daemon_local(local_part(a.address));
    });
    if (auto_answer && !daemon_address && !f.from_daemon && !is_report)
        return auto_reply(m, f);

    // 2. Bounce texts, only from a mailer daemon.
    const bool automatic = f.from_daemon || f.null_return_path ||
                           f.auto_submitted == "auto-generated" ||
                           f.auto_submitted == "auto-replied";
    const bool bounce_subject = starts_with_any(f.subject, kBounceSubjects);
    if (daemon || is_report || (automatic && bounce_subject)) {
        std::string text = collapse(m.text_body);
        // Only the notice itself: not the copy of our message it returns inline (whose words
        // could be anything), which starts at one of these.
        for (std::string_view copy : {std::string_view("below this line is a copy of the message"),
                                      std::string_view("this is a copy of the message"),
                                      std::string_view("original message follows"),
                                      std::string_view("----- original message -----"),
                                      std::string_view("----- transcript of session follows")}) {
            if (const std::size_t s = text.find(copy); s != std::string::npos && s > 0)
                text.resize(s);
        }
        std::size_t length = 0;
        AutoKind kind = AutoKind::None;
        // The earliest sentence decides: a warning says so before it says "could not be
        // delivered" so far.
        const std::size_t delay_at = find_any(text, kDelayPhrases, &length);
        const std::size_t fail_at = find_any(text, kFailurePhrases, &length);
        std::size_t at = std::min(delay_at, fail_at);
        if (at != std::string::npos)
            kind = delay_at <= fail_at ? AutoKind::Delayed : AutoKind::Bounce;
        if (kind != AutoKind::None) {
            r.kind = kind;
            r.evidence = f.from_daemon ? "mailer daemon text" : "automatic delivery text";
            // The failed addresses follow the opening sentence; the report's own are not.
            std::string_view region = std::string_view(text).substr(at);
            region = region.substr(0, kTextRegionBytes);
            // Not into the returned message's headers.
            for (std::string_view stop :
                 {std::string_view("original message"), std::string_view("message-id:"),
                  std::string_view("received: from"), std::string_view("return-path:"),
                  std::string_view("reporting-mta:"),
                  std::string_view("below this line is a copy of the message")}) {
                if (const std::size_t s = region.find(stop); s != std::string_view::npos && s > 0)
                    region = region.substr(0, s);
            }
            const auto own = own_addresses(m);
            for (auto& a : addresses_in(region)) {
                if (std::find(own.begin(), own.end(), a) != own.end() ||
                    daemon_local(local_part(a)))
                    continue;
                ReportedRecipient x;
                x.address = std::move(a);
                x.action = kind == AutoKind::Bounce ? "failed" : "delayed";
                r.recipients.push_back(std::move(x));
            }
            std::string status = enhanced_status(region);
            if (status.empty())
                status = smtp_code(region);
            std::string diagnostic;
            if (!r.recipients.empty()) {
                const std::size_t first = region.find(r.recipients.front().address);
                std::string_view after = region.substr(first + r.recipients.front().address.size());
                diagnostic = cap_utf8(one_line(after.substr(0, 400)), kDiagnosticBytes);
            }
            for (auto& x : r.recipients) {
                x.status = status;
                x.diagnostic = diagnostic;
            }
            dedupe(r.recipients);
            r.original_message_id = original_id_of(m, parts, m.text_body);
            return r;
        }
        // A mailer daemon's failure notice whose text we do not know: its subject says what
        // it is, or it returns our message and says nothing else.
        const bool returned = !parts.returned_ids.empty() || !parts.headers.empty();
        if (daemon && (bounce_subject || returned)) {
            const bool delay = f.subject.find("delay") != std::string::npos ||
                               f.subject.find("warning") != std::string::npos ||
                               f.subject.find("retried") != std::string::npos;
            r.kind = delay ? AutoKind::Delayed : AutoKind::Bounce;
            r.evidence = bounce_subject ? "mailer daemon subject" : "mail returned by a daemon";
            r.original_message_id = original_id_of(m, parts, m.text_body);
            return r;
        }
    }

    // 3. Automatic answers.
    if (auto_answer)
        return auto_reply(m, f);
    return r;
}

} // namespace crm::mime
