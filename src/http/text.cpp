// Where the quoted tail of a plain-text reply starts, for the page to fold it.
#include <algorithm>
#include <array>
#include <vector>
#include <string_view>

#include "internal.hpp"

namespace crm::http {

namespace {

std::string_view trim(std::string_view l) {
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t'))
        l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r'))
        l.remove_suffix(1);
    return l;
}

// The separators mail programs put above the original they answer (Outlook and Thunderbird, in
// their languages). A forwarded message is not a quote: in a CRM it is often the content.
constexpr std::array<std::string_view, 14> kSeparators = {
    "-----Original Message-----",
    "Original Message --------",
    "----- Original Message -----",
    "-----Ursprüngliche Nachricht-----",
    "-----Message d'origine-----",
    "-----Mensaje original-----",
    "-----Messaggio originale-----",
    "-----Mensagem original-----",
    "-----Oorspronkelijk bericht-----",
    "-----Wiadomość oryginalna-----",
    "-----Mesaj original-----",
    "-----Исходное сообщение-----",
    "-----原始邮件-----",
    "-----元のメッセージ-----",
};

// What mail programs write above a forwarded message, in the same languages: a header block right
// under one is the forwarded mail, shown.
constexpr std::array<std::string_view, 13> kForwardMarkers = {
    "Forwarded message",    "Forwarded Message",      "Weitergeleitete Nachricht",
    "Message transféré",    "Mensaje reenviado",      "Messaggio inoltrato",
    "Mensagem encaminhada", "Doorgestuurd bericht",   "Wiadomość przekazana",
    "Mesaj redirecționat",  "Пересылаемое сообщение", "转发的邮件",
    "転送メッセージ"};

// The verb of "On <date>, <who> wrote:" in the languages of Gmail, Apple Mail, Thunderbird and
// Outlook: English, German, French, Spanish, Italian, Portuguese, Dutch, Polish, Romanian,
// Russian, and the Nordic, Finnish, Estonian, Czech and Hungarian ones. A whole word: not
// "beschrieben", "napisałem" or "написала".
constexpr std::array<std::string_view, 18> kWroteVerbs = {
    "wrote",   "schrieb",    "a écrit",  "escribió", "scritto", "escreveu",
    "schreef", "geschreven", "napisał",  "a scris",  "пишет",   "написал",
    "skrev",   "kirjoitti",  "kirjutas", "napsal",   "írta",    "said"};
// Chinese and Japanese write no spaces: their verb must end the line, before the colon.
constexpr std::array<std::string_view, 4> kWroteEndings = {"写道", "寫道", "のメール",
                                                           "書きました"};

// How an attribution line may begin when no quote follows it ("On", "Am", "Le", ...): the Outlook
// and Apple Mail replies whose original is not marked with ">".
constexpr std::array<std::string_view, 10> kAttributionStarts = {
    "On ", "Am ", "Le ", "El ", "Il ", "Em ", "Op ", "W dniu ", "În ", "Pe "};

// Labels of the header block Outlook puts above the original, in the same languages: From, then
// Sent (or Date) with a date, then Subject.
constexpr std::array<std::string_view, 16> kFromLabels = {
    "From:", "Von:", "De :",    "De:",      "Da:",     "Van:",    "Od:",    "От:",
    "Från:", "Fra:", "发件人:", "发件人：", "寄件者:", "差出人:", "De la:", "Lähettäjä:"};
constexpr std::array<std::string_view, 23> kSentLabels = {
    "Sent:",       "Date:",       "Gesendet:", "Datum:",      "Envoyé :", "Envoyé:",
    "Date :",      "Enviado el:", "Enviado:",  "Fecha:",      "Inviato:", "Data:",
    "Enviada em:", "Verzonden:",  "Wysłano:",  "Отправлено:", "Дата:",    "发送时间:",
    "发送时间：",  "寄件日期:",   "送信日時:", "Trimis:",     "Skickat:"};
constexpr std::array<std::string_view, 20> kSubjectLabels = {
    "Subject:",   "Betreff:", "Objet :",  "Objet:", "Asunto:",  "Oggetto:", "Assunto:",
    "Onderwerp:", "Temat:",   "Subiect:", "Тема:",  "主题:",    "主题：",   "主旨:",
    "件名:",      "Ämne:",    "Emne:",    "Aihe:",  "Předmět:", "Tárgy:"};

// The line with each no-break space (U+00A0, which HTML's &nbsp; becomes: French Outlook writes
// "De&nbsp;:") made a plain one.
std::string spaced(std::string_view l) {
    std::string out;
    out.reserve(l.size());
    for (std::size_t i = 0; i < l.size(); ++i) {
        if (l[i] == '\xC2' && i + 1 < l.size() && l[i + 1] == '\xA0') {
            out += ' ';
            ++i;
        } else {
            out += l[i];
        }
    }
    return out;
}

bool has_digit(std::string_view l) {
    return std::any_of(l.begin(), l.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ends_with_colon(std::string_view l) {
    return l.ends_with(':') || l.ends_with("："); // the full-width colon of Chinese and Japanese
}

// A letter or digit (any non-ASCII byte counts as a letter): what a whole word may not touch.
bool word_byte(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x80 || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
}

bool has_word(std::string_view l, std::string_view w) {
    for (std::size_t at = l.find(w); at != std::string_view::npos; at = l.find(w, at + 1)) {
        const bool before = at == 0 || !word_byte(l[at - 1]);
        const std::size_t end = at + w.size();
        const bool after = end == l.size() || !word_byte(l[end]);
        if (before && after)
            return true;
    }
    return false;
}

template <std::size_t N>
bool starts_with_any(std::string_view x, const std::array<std::string_view, N>& labels) {
    return std::any_of(labels.begin(), labels.end(),
                       [&](std::string_view label) { return x.starts_with(label); });
}

// A separator, or an attribution line introducing a quote: "On <date>, <who> wrote:" in one of
// the languages above: the verb as a whole word, a date or an address, a colon at the end, and
// either a quote right below (`quote_follows`: the next line that is not blank starts with ">")
// or one of the usual beginnings. "As I wrote on 3 March, the prices are:" is none.
bool attribution(std::string_view raw, bool quote_follows) {
    const std::string s = spaced(trim(raw));
    const std::string_view l(s);
    if (l.empty())
        return false;
    for (const auto sep : kSeparators)
        if (l.find(sep) != std::string_view::npos)
            return true;
    if (!ends_with_colon(l) || !(has_digit(l) || l.find('@') != std::string_view::npos))
        return false;
    if (!quote_follows && !starts_with_any(l, kAttributionStarts))
        return false;
    std::string_view before_colon = l.substr(0, l.size() - (l.ends_with(':') ? 1 : 3));
    while (!before_colon.empty() && before_colon.back() == ' ')
        before_colon.remove_suffix(1);
    return std::any_of(kWroteVerbs.begin(), kWroteVerbs.end(),
                       [&](std::string_view verb) { return has_word(l, verb); }) ||
           std::any_of(kWroteEndings.begin(), kWroteEndings.end(),
                       [&](std::string_view verb) { return before_colon.ends_with(verb); });
}

// Outlook's header block: a From label; within the next lines a Sent (or Date) label with a date
// and a Subject label. Not right under a forward marker: a forwarded mail is shown.
bool header_block(std::string_view raw, std::string_view above,
                  const std::vector<std::string_view>& next) {
    const std::string s = spaced(trim(raw));
    if (!starts_with_any(std::string_view(s), kFromLabels))
        return false;
    for (const auto marker : kForwardMarkers)
        if (above.find(marker) != std::string_view::npos)
            return false;
    bool sent = false, subject = false;
    for (const auto n : next) {
        const std::string t = spaced(trim(n));
        const std::string_view v(t);
        sent = sent || (starts_with_any(v, kSentLabels) && has_digit(v));
        subject = subject || starts_with_any(v, kSubjectLabels);
    }
    return sent && subject;
}

// A line that is only a date and an address before a colon, which Gmail writes in Russian and
// Japanese without a verb ("пн, 2 февр. 2026 г. в 10:00, Иван <ivan@example.ru>:"): an
// attribution only right above a quote.
bool verbless_attribution(std::string_view l) {
    l = trim(l);
    return (l.ends_with(">:") || l.ends_with(">：")) && has_digit(l) &&
           l.find('@') != std::string_view::npos;
}

bool quote_line(std::string_view l) { return !l.empty() && l.front() == '>'; }

// Unicode code points (what Python's len() and JS's Array.from() count), not bytes.
std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (char raw : s)
        if ((static_cast<unsigned char>(raw) & 0xC0) != 0x80) // not a continuation byte
            ++n;
    return n;
}

} // namespace

std::optional<std::size_t> quoted_tail_offset(std::string_view text) {
    // Line starts.
    std::vector<std::size_t> starts{0};
    for (std::size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n' && i + 1 < text.size())
            starts.push_back(i + 1);
    auto line = [&](std::size_t k) {
        auto b = starts[k];
        auto e = k + 1 < starts.size() ? starts[k + 1] - 1 : text.size();
        return text.substr(b, e - b);
    };
    // Everything from line k on is quote material: attribution, "> " lines, blank lines.
    std::vector<bool> tail_quoted(starts.size() + 1, true);
    for (std::size_t k = starts.size(); k-- > 0;) {
        auto l = trim(line(k));
        tail_quoted[k] = tail_quoted[k + 1] && (l.empty() || quote_line(l));
    }
    // Whether the next line that is not blank, after line k, is a quote.
    const auto quote_follows = [&](std::size_t k) {
        for (std::size_t n = k + 1; n < starts.size(); ++n) {
            const auto l = trim(line(n));
            if (!l.empty())
                return quote_line(l);
        }
        return false;
    };
    for (std::size_t k = 0; k < starts.size(); ++k) {
        if (k > 0 && attribution(line(k), quote_follows(k)))
            return code_points(text.substr(0, starts[k]));
        if (k > 0) {
            std::string_view above;
            for (std::size_t p = k; p-- > 0;)
                if (!trim(line(p)).empty()) {
                    above = line(p);
                    break;
                }
            std::vector<std::string_view> next;
            for (std::size_t n = k + 1; n < starts.size() && n <= k + 6; ++n)
                next.push_back(line(n));
            if (header_block(line(k), above, next))
                return code_points(text.substr(0, starts[k]));
            if (verbless_attribution(line(k)) && k + 1 < starts.size() &&
                quote_line(trim(line(k + 1))))
                return code_points(text.substr(0, starts[k]));
        }
        if (k > 0 && quote_line(trim(line(k))) && tail_quoted[k]) {
            // "Bob said:" right above the quote introduces it: fold it too.
            auto above = trim(line(k - 1));
            if (k > 1 && above.ends_with(':'))
                return code_points(text.substr(0, starts[k - 1]));
            return code_points(text.substr(0, starts[k]));
        }
    }
    return std::nullopt;
}

} // namespace crm::http
