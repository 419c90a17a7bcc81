// The shared UTF-8 decoder and case folding (include/crm/core/utf8.hpp).

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "crm/core/utf8.hpp"

namespace crm {
namespace {

struct DecodeCase {
    std::string_view input;
    std::u32string expected; // with bad bytes escaped as U+DC00 + byte
    bool valid;
};

// RFC 3629 §3-4 and the Markus Kuhn stress test: every kind of malformed input consumes one
// byte, becomes its escape, and the characters after it are kept.
const std::vector<DecodeCase> kDecodeCases = {
    {"", U"", true},
    {"plain ascii", U"plain ascii", true},
    {std::string_view("nul\0in", 6), std::u32string(U"nul\0in", 6), true},
    {"caf\xC3\xA9", U"café", true},
    {"\xE2\x82\xAC", U"€", true},
    {"\xF0\x9F\x98\x80", U"\U0001F600", true},
    {"\xF4\x8F\xBF\xBF", U"\U0010FFFF", true},
    // Lone continuation byte, and Latin-1 text that is not UTF-8.
    {"a\x80z", U"a\xDC80z", false},
    {"Ren\xE9 x", U"Ren\xDCE9 x", false},
    // Overlong forms: '/' in two bytes, U+0000 in two, '/' in three.
    {"\xC0\xAF", U"\xDCC0\xDCAF", false},
    {"\xC1\x80", U"\xDCC1\xDC80", false},
    {"\xE0\x80\xAF", U"\xDCE0\xDC80\xDCAF", false},
    // A surrogate encoded in UTF-8 (CESU-8), and a value past U+10FFFF.
    {"\xED\xA0\x80", U"\xDCED\xDCA0\xDC80", false},
    {"\xF4\x90\x80\x80", U"\xDCF4\xDC90\xDC80\xDC80", false},
    // Lead bytes that start nothing.
    {"\xF8\x88\x80\x80\x80", U"\xDCF8\xDC88\xDC80\xDC80\xDC80", false},
    {"\xFF", U"\xDCFF", false},
    // Cut short at the end, and interrupted by an ASCII byte.
    {"ok\xE2\x82", U"ok\xDCE2\xDC82", false},
    {"\xE2\x82z\xC3\xA9", U"\xDCE2\xDC82zé", false},
};

TEST(Utf8, DecodeEscapesEachBadByteAndKeepsTheRest) {
    for (const auto& c : kDecodeCases) {
        const std::string input(c.input);
        EXPECT_EQ(decode_utf8(c.input), c.expected) << input;
        EXPECT_EQ(is_valid_utf8(c.input), c.valid) << input;
        const auto strict = decode_utf8_strict(c.input);
        EXPECT_EQ(strict.has_value(), c.valid) << input;
        if (strict) {
            EXPECT_EQ(*strict, c.expected) << input;
        }
        // Lossless: whatever the bytes, encoding the decoded text gives them back.
        EXPECT_EQ(encode_utf8(decode_utf8(c.input)), input) << input;
    }
}

TEST(Utf8, DecodeAtReportsSizeAndValidity) {
    const std::string_view s = "\xC3\xA9\xE2\x82\xAC\x80z";
    auto c = decode_utf8_at(s, 0);
    EXPECT_EQ(c.cp, U'é');
    EXPECT_EQ(c.size, 2U);
    EXPECT_TRUE(c.valid);
    c = decode_utf8_at(s, 2);
    EXPECT_EQ(c.cp, U'€');
    EXPECT_EQ(c.size, 3U);
    c = decode_utf8_at(s, 5);
    EXPECT_EQ(c.cp, kUtf8EscapeBase + 0x80);
    EXPECT_EQ(c.size, 1U);
    EXPECT_FALSE(c.valid);
    // Starting inside a character: the continuation byte alone is bad.
    c = decode_utf8_at(s, 1);
    EXPECT_EQ(c.cp, kUtf8EscapeBase + 0xA9);
    EXPECT_FALSE(c.valid);
}

TEST(Utf8, EncodeWritesShortestForms) {
    const std::vector<std::pair<char32_t, std::string_view>> cases = {
        {U'\0', std::string_view("\0", 1)},
        {0x7F, "\x7F"},
        {0x80, "\xC2\x80"},
        {0x7FF, "\xDF\xBF"},
        {0x800, "\xE0\xA0\x80"},
        {0xFFFF, "\xEF\xBF\xBF"},
        {0x10000, "\xF0\x90\x80\x80"},
        {0x10FFFF, "\xF4\x8F\xBF\xBF"},
        // Escapes go back as the byte they stand for.
        {kUtf8EscapeBase + 0x80, "\x80"},
        {kUtf8EscapeBase + 0xFF, "\xFF"},
    };
    for (const auto& [cp, bytes] : cases) {
        std::string out = "x";
        append_utf8(out, cp);
        EXPECT_EQ(out, "x" + std::string(bytes)) << static_cast<unsigned>(cp);
    }
}

TEST(Utf8, FoldCaseMapsCapitalsOfEachCoveredScript) {
    const std::vector<std::pair<char32_t, char32_t>> cases = {
        {U'A', U'a'}, {U'Z', U'z'},   {U'a', U'a'},   {U'@', U'@'},   {U'[', U'['},
        {U'À', U'à'}, {U'Þ', U'þ'},   {U'×', U'×'},   {U'ß', U'ß'},   {U'Ā', U'ā'},
        {U'ā', U'ā'}, {U'Ł', U'ł'},   {U'Ž', U'ž'},   {U'Ÿ', U'ÿ'},   {U'İ', U'i'},
        {U'Ά', U'ά'}, {U'Έ', U'έ'},   {U'Ό', U'ό'},   {U'Ώ', U'ώ'},   {U'Σ', U'σ'},
        {U'ς', U'σ'}, {U'Ω', U'ω'},   {U'Ё', U'ё'},   {U'Я', U'я'},   {U'Ѣ', U'ѣ'},
        {U'Ӂ', U'ӂ'}, {U'Ａ', U'ａ'}, {U'Ｚ', U'ｚ'}, {U'日', U'日'}, {0xDC80, 0xDC80},
    };
    for (const auto& [upper, lower] : cases)
        EXPECT_EQ(fold_case(upper), lower) << static_cast<unsigned>(upper);
    // On ASCII it agrees with ascii_lower.
    for (int c = 0; c < 0x80; ++c)
        EXPECT_EQ(fold_case(static_cast<char32_t>(c)),
                  static_cast<char32_t>(ascii_lower(static_cast<char>(c))))
            << c;
}

TEST(Utf8, AsciiLowerLeavesOtherBytesAlone) {
    EXPECT_EQ(ascii_lower("Content-Type: TEXT/Plain"), "content-type: text/plain");
    EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89"); // "ÉTÉ": only the T
    EXPECT_TRUE(ascii_iequals("UTF-8", "utf-8"));
    EXPECT_TRUE(ascii_iequals("", ""));
    EXPECT_FALSE(ascii_iequals("utf-8", "utf-16"));
    EXPECT_FALSE(ascii_iequals("utf8", "utf-8"));
    EXPECT_FALSE(ascii_iequals("\xC3\x89", "\xC3\xA9")); // É and é: not ASCII
}

TEST(Utf8, AsciiUpperLeavesOtherBytesAlone) {
    EXPECT_EQ(ascii_upper("uid fetch Body.Peek[]"), "UID FETCH BODY.PEEK[]");
    EXPECT_EQ(ascii_upper("\xC3\xA9t\xC3\xA9"), "\xC3\xA9T\xC3\xA9"); // "été": only the t
    for (int c = 0; c < 0x80; ++c)
        EXPECT_EQ(ascii_lower(ascii_upper(static_cast<char>(c))), ascii_lower(static_cast<char>(c)))
            << c;
}

} // namespace
} // namespace crm
