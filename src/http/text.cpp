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

// The separators mail programs put above the original they answer or forward (Outlook and
// Thunderbird, in their languages).
constexpr std::array<std::string_view, 16> kSeparators = {
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
    "-------- Forwarded Message --------",
    "---------- Forwarded message ---------",
};

// The verb of "On <date>, <who> wrote:" in the languages of Gmail, Apple Mail, Thunderbird and
// Outlook: English, German, French, Spanish, Italian, Portuguese, Dutch, Polish, Romanian,
// Russian, Chinese (simplified and traditional), Japanese, and the Nordic ones.
constexpr std::array<std::string_view, 21> kWroteVerbs = {
    " wrote",     "schrieb",    "a écrit", "escribió",  "scritto",  "escreveu", "schreef",
    "geschreven", "napisał",    "a scris", "пишет",     "написал",  "写道",     "寫道",
    "のメール",   "書きました", "skrev",   "kirjoitti", "kirjutas", "napsal",   "írta"};

// Labels of the header block Outlook puts above the original ("From: ...", then "Sent: ..."
// within the next lines), in the same languages.
constexpr std::array<std::string_view, 16> kFromLabels = {
    "From:", "Von:", "De :",    "De:",      "Da:",     "Van:",    "Od:",    "От:",
    "Från:", "Fra:", "发件人:", "发件人：", "寄件者:", "差出人:", "De la:", "Lähettäjä:"};
constexpr std::array<std::string_view, 23> kSentLabels = {
    "Sent:",       "Date:",       "Gesendet:", "Datum:",      "Envoyé :", "Envoyé:",
    "Date :",      "Enviado el:", "Enviado:",  "Fecha:",      "Inviato:", "Data:",
    "Enviada em:", "Verzonden:",  "Wysłano:",  "Отправлено:", "Дата:",    "发送时间:",
    "发送时间：",  "寄件日期:",   "送信日時:", "Trimis:",     "Skickat:"};

bool has_digit(std::string_view l) {
    return std::any_of(l.begin(), l.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ends_with_colon(std::string_view l) {
    return l.ends_with(':') || l.ends_with("："); // the full-width colon of Chinese and Japanese
}

// An attribution line introducing a quote: "On <date>, <who> wrote:" in one of the languages
// above (a verb, a date or an address, and a colon at the end: "here is what he wrote:" is no
// attribution), or a separator.
bool attribution(std::string_view l) {
    l = trim(l);
    if (l.empty())
        return false;
    for (const auto sep : kSeparators)
        if (l.find(sep) != std::string_view::npos)
            return true;
    if (!ends_with_colon(l) || !(has_digit(l) || l.find('@') != std::string_view::npos))
        return false;
    return std::any_of(kWroteVerbs.begin(), kWroteVerbs.end(), [&](std::string_view verb) {
        return l.find(verb) != std::string_view::npos;
    });
}

// Outlook's header block: a From label, and a Sent (or Date) label within the next three lines.
bool header_block(std::string_view l, const std::vector<std::string_view>& next) {
    l = trim(l);
    const auto starts_with_any = [](std::string_view x, const auto& labels) {
        return std::any_of(labels.begin(), labels.end(),
                           [&](std::string_view label) { return x.starts_with(label); });
    };
    if (!starts_with_any(l, kFromLabels))
        return false;
    return std::any_of(next.begin(), next.end(),
                       [&](std::string_view n) { return starts_with_any(trim(n), kSentLabels); });
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
    for (std::size_t k = 0; k < starts.size(); ++k) {
        if (attribution(line(k)) && k > 0)
            return code_points(text.substr(0, starts[k]));
        if (k > 0) {
            std::vector<std::string_view> next;
            for (std::size_t n = k + 1; n < starts.size() && n <= k + 3; ++n)
                next.push_back(line(n));
            if (header_block(line(k), next))
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
