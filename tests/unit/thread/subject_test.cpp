// base_subject / is_reply_subject / is_generic_subject tables.

#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "crm/thread/threader.hpp"

namespace {

using crm::thread::base_subject;
using crm::thread::is_generic_subject;
using crm::thread::is_reply_subject;

struct SubjectCase {
    std::string_view input;
    std::string_view base;
    bool reply;
};

// clang-format off
constexpr SubjectCase kSubjectCases[] = {
    {"Hello World", "hello world", false},
    {"  Hello \t  World  ", "hello world", false},
    {"Re: [foo] AW: Hello  World", "hello world", true},
    {"Re: Subject", "subject", true},
    {"RE: Subject", "subject", true},
    {"rE:Subject", "subject", true},
    {"Re[2]: Subject", "subject", true},
    {"Re(2): Subject", "subject", true},
    {"Re^2: Subject", "subject", true},
    {"Re [3]: Subject", "subject", true},
    {"Re:RE:rE[3]: Subject", "subject", true},
    {"Re: Re: Re: Fwd: Subject", "subject", true},
    {"Fwd: Subject", "subject", true},
    {"FW: Subject", "subject", true},
    {"Fw: Subject", "subject", true},
    {"Subject (fwd)", "subject", true},
    {"Subject (fwd) (FWD)", "subject", true},
    {"[Fwd: Subject]", "subject", true},
    {"[Fwd: Re: Subject] (fwd)", "subject", true},
    {"RE : Sujet du mail", "sujet du mail", true},      // French spacing
    {"TR: Sujet du mail", "sujet du mail", true},
    {"Réf: Sujet", "sujet", true},
    {"RÉF: Sujet", "sujet", true},
    {"Ref: Sujet", "sujet", true},
    {"AW: Angebot", "angebot", true},                   // German
    {"WG: Angebot", "angebot", true},
    {"Antwort: Angebot", "angebot", true},
    {"Aw: Wg: AW: Angebot", "angebot", true},
    {"SV: Offert", "offert", true},                     // Scandinavian
    {"VS: Tarjous", "tarjous", true},                   // Finnish / Norwegian
    {"Antw: Offerte", "offerte", true},                 // Dutch
    {"Doorst: Offerte", "offerte", true},
    {"Odp: Oferta", "oferta", true},                    // Polish
    {"RIF: Offerta", "offerta", true},                  // Italian
    {"R: Offerta", "offerta", true},
    {"I: Offerta", "offerta", true},
    {"I : Offerta", "i : offerta", false},              // single letters only directly before ':'
    {"Ynt: Teklif", "teklif", true},                    // Turkish
    {"Yan: Teklif", "teklif", true},
    {"İLT: Teklif", "teklif", true},
    {"RV: Oferta", "oferta", true},                     // Spanish
    {"Enc: Proposta", "proposta", true},                // Portuguese
    {"Vá: Ajánlat", "ajánlat", true},                   // Hungarian
    {"Továbbítás: Ajánlat", "ajánlat", true},
    {"回复: 项目计划", "项目计划", true},                 // Chinese
    {"回复：项目计划", "项目计划", true},                 // fullwidth colon
    {"回覆：項目計劃", "項目計劃", true},
    {"答复: 项目计划", "项目计划", true},
    {"转发: 项目计划", "项目计划", true},
    {"轉寄: 項目計劃", "項目計劃", true},
    {"返信: 会議の件について", "会議の件について", true},
    {"転送: 会議の件について", "会議の件について", true},
    {"회신: 프로젝트 일정", "프로젝트 일정", true},
    {"전달: 프로젝트 일정", "프로젝트 일정", true},
    {"رد: عرض السعر", "عرض السعر", true},
    {"Отв: Предложение", "предложение", true},          // Russian, Cyrillic folding
    {"ОТВЕТ: ПРЕДЛОЖЕНИЕ", "предложение", true},
    {"Re: Отв: RE: Предложение", "предложение", true},
    {"ΑΠ: Προσφορά", "προσφορά", true},                 // Greek
    {"ΣΧΕΤ: ΠΡΟΣΦΟΡΆ", "προσφορά", true},
    {"Re： Subject", "subject", true},                  // fullwidth colon after Latin prefix
    {"[list] Subject", "subject", false},
    {"[list][other] Re: Subject", "subject", true},
    {"Re: [list] Re: [list] Subject", "subject", true},
    {"[list]", "[list]", false},                         // a tag alone is kept (RFC 5256)
    {"【通知】 项目计划", "项目计划", false},
    {"ÄÖÜ ÀÉÎ Øre", "äöü àéî øre", false},               // Latin-1 folding
    {"ŁÓDŹ ŚWIĘTO", "łódź święto", false},              // Latin Extended-A folding
    {"ＡＢＣ Report", "ａｂｃ report", false},            // fullwidth Latin folding
    {"Re: ", "", true},
    {"", "", false},
    {"Rest: of the world", "rest: of the world", false}, // "re" must be followed by ':'
    {"Review: design", "review: design", false},
    {"Fwdx: design", "fwdx: design", false},
    {"Re design", "re design", false},
    {"Hello\xff World", "hello\xff world", false},       // invalid UTF-8 is kept byte for byte
};
// clang-format on

TEST(BaseSubject, Table) {
    for (const SubjectCase &c : kSubjectCases) {
        SCOPED_TRACE(std::string(c.input));
        EXPECT_EQ(base_subject(c.input), c.base);
        EXPECT_EQ(is_reply_subject(c.input), c.reply);
    }
}

TEST(BaseSubject, Idempotent) {
    for (const SubjectCase &c : kSubjectCases) {
        SCOPED_TRACE(std::string(c.input));
        const std::string once = base_subject(c.input);
        EXPECT_EQ(base_subject(once), once);
    }
}

// Pairs that must fold to the same base subject.
constexpr std::pair<std::string_view, std::string_view> kSameBase[] = {
    {"ΛΌΓΟΣ", "Re: λόγος"},                  // Greek capitals, final sigma
    {"ÉTÉ ÇA", "Fwd: été ça"},               // Latin-1
    {"ЁЖИК В ТУМАНЕ", "Отв: ёжик в тумане"}, // Cyrillic incl. Ё
    {"ŻÓŁW", "Odp: żółw"},                   // Latin Extended-A
    {"Ÿ", "ÿ"},
    {"Re: a\u00a0b", "a\u00a0b"},
    {"Re:\u3000Plan  A", "plan a"}, // ideographic space
};

TEST(BaseSubject, CaseFoldingEquivalence) {
    for (const auto &[a, b] : kSameBase) {
        SCOPED_TRACE(std::string(a));
        EXPECT_EQ(base_subject(a), base_subject(b));
    }
    EXPECT_NE(base_subject("ΛΌΓΟΣ"), base_subject("λογος")); // the accent still counts
}

TEST(BaseSubject, TruncatedUtf8DoesNotCrash) {
    const std::string s = "Re: \xe5\x9b";
    EXPECT_EQ(base_subject(s), "\xe5\x9b");
    EXPECT_TRUE(is_reply_subject(s));
}

struct GenericCase {
    std::string_view base;
    bool generic;
};

// clang-format off
constexpr GenericCase kGenericCases[] = {
    {"hello", true}, {"Hello!", true}, {"hi", true}, {"Question", true}, {"meeting", true},
    {"test", true}, {"update", true}, {"re", true}, {"fwd", true}, {"(no subject)", true},
    {"no subject", true}, {"invoice", true}, {"thanks", true}, {"Thank you!", true},
    {"follow up", true}, {"Follow-up", true}, {"hallo", true}, {"Kein Betreff", true},
    {"bonjour", true}, {"sans objet", true}, {"hola", true}, {"sin asunto", true},
    {"grazie", true}, {"привет", true}, {"Без темы", true}, {"无主题", true},
    {"", true}, {"abc", true}, {"2024", true}, {"12/03", true}, {"?!", true},
    {"Re: Hello", true},
    {"quarterly report", false}, {"hello world", false}, {"meeting agenda for monday", false},
    {"invoice 2024-0042", false}, {"предложение", false}, {"项目计划书", false},
    {"abcd", false},
};
// clang-format on

TEST(GenericSubject, Table) {
    for (const GenericCase &c : kGenericCases) {
        SCOPED_TRACE(std::string(c.base));
        EXPECT_EQ(is_generic_subject(c.base), c.generic);
    }
}

TEST(GenericSubject, MinimumLengthFollowsPolicy) {
    crm::thread::SubjectPolicy strict;
    strict.min_base_subject_chars = 12;
    EXPECT_FALSE(is_generic_subject("short topic"));
    EXPECT_TRUE(is_generic_subject("short topic", strict));
    crm::thread::SubjectPolicy lax;
    lax.min_base_subject_chars = 2;
    EXPECT_FALSE(is_generic_subject("abc", lax));
    // Characters, not bytes: four Chinese characters are four.
    EXPECT_FALSE(is_generic_subject("项目计划"));
    EXPECT_TRUE(is_generic_subject("项目计"));
}

} // namespace
