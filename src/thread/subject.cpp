// Base subjects (RFC 5256 §2.1, extended with localised reply/forward prefixes) and the
// generic-subject guard of the subject fallback.

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "crm/core/utf8.hpp"
#include "crm/thread/threader.hpp"

namespace crm::thread {
namespace {

bool is_space(char32_t c) {
    return c == 0x20 || (c >= 0x09 && c <= 0x0D) || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

// Decode, case-fold, fold every whitespace run into one space and trim. Bytes that are not
// UTF-8 are carried through as escapes (crm::decode_utf8), so a broken subject still
// round-trips byte for byte.
std::u32string normalise(std::string_view subject) {
    std::u32string out;
    bool pending_space = false;
    for (char32_t c : decode_utf8(subject)) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space)
            out.push_back(U' ');
        pending_space = false;
        out.push_back(fold_case(c));
    }
    return out;
}

void trim_left(std::u32string &s) {
    std::size_t n = 0;
    while (n < s.size() && s[n] == U' ')
        ++n;
    s.erase(0, n);
}

void trim_right(std::u32string &s) {
    while (!s.empty() && s.back() == U' ')
        s.pop_back();
}

bool is_colon(char32_t c) {
    return c == U':' || c == 0xFF1A;
} // ':' or fullwidth '：'

bool is_digit(char32_t c) {
    return c >= U'0' && c <= U'9';
}

// Reply and forward prefixes, already case-folded. Every one must be followed by a colon.
constexpr auto kPrefixes = std::to_array<std::u32string_view>(
    {U"re",   U"fwd",     U"fw",     U"aw",        U"wg",         U"sv",   U"vs",
     U"antw", U"antwort", U"odp",    U"pd",        U"rif",        U"r",    U"i",
     U"ynt",  U"yan",     U"ilt",    U"tr",        U"réf",        U"ref",  U"rv",
     U"enc",  U"res",     U"doorst", U"vá",        U"továbbítás", U"vl",   U"vb",
     U"رد",   U"回复",    U"回覆",   U"答复",      U"答覆",       U"转发", U"轉寄",
     U"转寄", U"轉發",    U"返信",   U"転送",      U"회신",       U"답장", U"전달",
     U"отв",  U"ответ",   U"пересл", U"переслано", U"απ",         U"σχετ", U"πρθ"});

// Length of a leading "[...]" (or "【...】") list tag, 0 when there is none.
std::size_t blob_length(std::u32string_view s) {
    if (s.empty())
        return 0;
    const char32_t open = s[0];
    const char32_t close = open == U'[' ? U']' : open == 0x3010 ? char32_t{0x3011} : char32_t{0};
    if (close == 0)
        return 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == close)
            return i + 1;
        if (s[i] == open)
            return 0; // RFC 5256 BLOBCHAR excludes brackets
    }
    return 0;
}

// Length of a leading reply/forward prefix with its colon ("re:", "re[2]:", "re(2):", "re^2:",
// "re :", "aw："), 0 when there is none.
std::size_t prefix_length(std::u32string_view s) {
    for (std::u32string_view p : kPrefixes) {
        if (!s.starts_with(p))
            continue;
        std::size_t j = p.size();
        if (p.size() == 1 && p[0] < 0x80) {
            // Single letters (Italian R:, I:) only directly before the colon: "I : x" and
            // "r (x):" are ordinary text.
            if (j < s.size() && is_colon(s[j]))
                return j + 1;
            continue;
        }
        while (j < s.size() && s[j] == U' ')
            ++j;
        // RFC 5256 allows a blob here; mail clients write reply counters: [2], (2), ^2.
        if (j < s.size() && (s[j] == U'[' || s[j] == U'(')) {
            const char32_t close = s[j] == U'[' ? U']' : U')';
            std::size_t k = j + 1;
            while (k < s.size() && is_digit(s[k]))
                ++k;
            if (k > j + 1 && k < s.size() && s[k] == close)
                j = k + 1;
        } else if (j < s.size() && s[j] == U'^') {
            std::size_t k = j + 1;
            while (k < s.size() && is_digit(s[k]))
                ++k;
            if (k > j + 1)
                j = k;
        }
        while (j < s.size() && s[j] == U' ')
            ++j;
        if (j < s.size() && is_colon(s[j]))
            return j + 1;
    }
    return 0;
}

struct Parsed {
    std::u32string base;
    bool reply = false;
};

// RFC 5256 §2.1 steps 2-6, repeated until nothing changes.
Parsed parse_subject(std::string_view subject) {
    Parsed r{normalise(subject), false};
    std::u32string &s = r.base;
    constexpr std::u32string_view kFwdTrailer = U"(fwd)";
    constexpr std::u32string_view kFwdWrap = U"[fwd:";
    for (;;) {
        bool changed = false;
        // Step 2: trailing "(fwd)" and whitespace.
        for (;;) {
            trim_right(s);
            if (!s.ends_with(kFwdTrailer))
                break;
            s.erase(s.size() - kFwdTrailer.size());
            r.reply = true;
            changed = true;
        }
        // Steps 3-5: leading reply prefixes and list tags (a tag only if something is left).
        for (;;) {
            trim_left(s);
            if (std::size_t n = prefix_length(s); n != 0) {
                s.erase(0, n);
                r.reply = true;
                changed = true;
                continue;
            }
            if (std::size_t n = blob_length(s); n != 0) {
                std::size_t rest = n;
                while (rest < s.size() && s[rest] == U' ')
                    ++rest;
                if (rest < s.size()) {
                    s.erase(0, n);
                    changed = true;
                    continue;
                }
            }
            break;
        }
        // Step 6: "[fwd: subject]".
        if (s.starts_with(kFwdWrap) && s.ends_with(U']')) {
            s = s.substr(kFwdWrap.size(), s.size() - kFwdWrap.size() - 1);
            r.reply = true;
            changed = true;
        }
        if (!changed)
            break;
    }
    trim_left(s);
    trim_right(s);
    return r;
}

// Base subjects that say nothing about the conversation, case-folded.
constexpr auto kGenericSubjects = std::to_array<std::u32string_view>(
    {// English
     U"hello", U"hi", U"hey", U"hi there", U"hello there", U"greetings", U"question", U"questions",
     U"quick question", U"query", U"inquiry", U"enquiry", U"request", U"meeting", U"call", U"test",
     U"testing", U"update", U"updates", U"re", U"fwd", U"fw", U"(no subject)", U"no subject",
     U"(none)", U"none", U"untitled", U"subject", U"invoice", U"thanks", U"thank you", U"thanks!",
     U"follow up", U"follow-up", U"followup", U"info", U"information", U"help", U"urgent",
     U"important", U"fyi", U"reminder", U"hello!", U"news", U"newsletter", U"document",
     U"documents", U"attachment", U"photos", U"pictures", U"scan", U"order", U"quote", U"proposal",
     U"contact", U"feedback", U"checking in", U"catch up",
     // German, Dutch
     U"hallo", U"frage", U"anfrage", U"termin", U"rechnung", U"danke", U"kein betreff", U"vraag",
     U"factuur", U"bedankt", U"geen onderwerp",
     // French, Spanish, Italian, Portuguese
     U"bonjour", U"salut", U"facture", U"merci", U"sans objet", U"hola", U"factura", U"gracias",
     U"sin asunto", U"ciao", U"fattura", U"grazie", U"senza oggetto", U"olá", U"obrigado",
     U"sem assunto",
     // Russian, Chinese
     U"привет", U"спасибо", U"вопрос", U"счет", U"без темы", U"无主题", U"無主題", U"你好", U"谢谢",
     U"(无主题)"});

bool in_list(std::u32string_view s) {
    auto eq = [s](std::u32string_view g) { return g == s; };
    return std::any_of(kGenericSubjects.begin(), kGenericSubjects.end(), eq);
}

bool is_trim_punct(char32_t c) {
    return c == U' ' || c == U'!' || c == U'?' || c == U'.' || c == U',' || c == U'-' ||
           c == U'*' || c == U'~' || c == U':' || c == U';' || c == 0xFF01 || c == 0xFF1F ||
           c == 0x3002;
}

} // namespace

std::string base_subject(std::string_view subject) {
    return encode_utf8(parse_subject(subject).base);
}

bool is_reply_subject(std::string_view subject) {
    return parse_subject(subject).reply;
}

namespace {

// The base subject with punctuation trimmed off both ends, and whether it says nothing at all
// (too short, or only digits and punctuation).
struct Core {
    std::u32string full;
    std::u32string_view core;
    bool meaningless = false;
};

Core core_of(std::string_view base, const SubjectPolicy &policy) {
    Core c;
    // Accept a raw subject too: normalising a base subject again changes nothing.
    c.full = parse_subject(base).base;
    c.core = c.full;
    while (!c.core.empty() && is_trim_punct(c.core.front()))
        c.core.remove_prefix(1);
    while (!c.core.empty() && is_trim_punct(c.core.back()))
        c.core.remove_suffix(1);
    // A subject made only of digits and punctuation ("1", "2024-01-02") says nothing either.
    c.meaningless = c.core.size() < policy.min_base_subject_chars ||
                    std::all_of(c.core.begin(), c.core.end(), [](char32_t ch) {
                        return is_digit(ch) || is_trim_punct(ch) || ch == U'/';
                    });
    return c;
}

} // namespace

bool is_generic_subject(std::string_view base, const SubjectPolicy &policy) {
    const Core c = core_of(base, policy);
    return c.meaningless || in_list(c.full) || in_list(c.core);
}

std::optional<SubjectPolicy> subject_policy_for(std::string_view base,
                                                const SubjectPolicy &policy) {
    const Core c = core_of(base, policy);
    if (c.meaningless)
        return std::nullopt;
    if (in_list(c.full) || in_list(c.core)) {
        SubjectPolicy generic = policy;
        generic.window_seconds = std::min(policy.window_seconds, policy.generic_window_seconds);
        return generic;
    }
    return policy;
}

} // namespace crm::thread
