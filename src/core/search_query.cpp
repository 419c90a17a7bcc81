// The search query language (see search_query.hpp).
#include "crm/core/search_query.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <fmt/format.h>

#include "crm/core/utf8.hpp"

namespace crm {

namespace {

constexpr std::size_t kMaxQueryBytes = 1000;
constexpr std::size_t kMaxParts = 50;
constexpr std::string_view kKnownOperators =
    "from:, to:, subject:, filename:, deal:, has:, is:, before:, after:";

// Characters (code points) before byte `offset`, plus one: the position people count.
std::size_t position_of(std::string_view text, std::size_t offset) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < offset && i < text.size();) {
        i += decode_utf8_at(text, i).size;
        ++chars;
    }
    return chars + 1;
}

bool is_space_at(std::string_view s, std::size_t i, std::size_t* size) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        *size = 1;
        return true;
    }
    // U+3000 IDEOGRAPHIC SPACE, which Chinese and Japanese input methods type.
    if (s.substr(i, 3) == "\xE3\x80\x80") {
        *size = 3;
        return true;
    }
    return false;
}

struct Parser {
    std::string_view text;
    std::size_t i = 0;

    QueryError error_at(std::size_t offset, std::string message) const {
        return QueryError{position_of(text, offset), std::move(message)};
    }

    bool at_space(std::size_t* size) const { return is_space_at(text, i, size); }

    void skip_spaces() {
        std::size_t n = 0;
        while (i < text.size() && at_space(&n))
            i += n;
    }

    // A value: "a phrase" (its closing quote required) or a bare run up to the next space.
    std::expected<std::string, QueryError> value(bool* quoted) {
        *quoted = i < text.size() && text[i] == '"';
        if (*quoted) {
            const std::size_t open = i;
            const auto close = text.find('"', i + 1);
            if (close == std::string_view::npos)
                return std::unexpected(error_at(open, "this quote is never closed"));
            std::string v(text.substr(i + 1, close - i - 1));
            i = close + 1;
            return v;
        }
        const std::size_t start = i;
        std::size_t n = 0;
        while (i < text.size() && !at_space(&n))
            i += decode_utf8_at(text, i).size;
        return std::string(text.substr(start, i - start));
    }
};

bool blank(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

} // namespace

namespace {

// Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

} // namespace

std::optional<std::int64_t> parse_day(std::string_view s) {
    if (s.size() != 10 || (s[4] != '-' && s[4] != '/') || s[7] != s[4])
        return std::nullopt;
    auto num = [&](std::size_t from, std::size_t len) -> std::optional<unsigned> {
        unsigned v = 0;
        auto [end, ec] = std::from_chars(s.data() + from, s.data() + from + len, v);
        if (ec != std::errc() || end != s.data() + from + len)
            return std::nullopt;
        return v;
    };
    const auto y = num(0, 4), m = num(5, 2), d = num(8, 2);
    if (!y || !m || !d || *y < 1970 || *m < 1 || *m > 12 || *d < 1)
        return std::nullopt;
    static constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
    if (*d > kDays[*m - 1] + (*m == 2 && leap ? 1 : 0))
        return std::nullopt;
    return days_from_civil(*y, *m, *d) * 86400;
}

bool SearchQuery::has_text() const {
    return std::any_of(terms.begin(), terms.end(), [](const SearchTerm& t) { return !t.negated; });
}

std::expected<SearchQuery, QueryError> parse_search_query(std::string_view text) {
    if (text.size() > kMaxQueryBytes)
        return std::unexpected(
            QueryError{position_of(text, kMaxQueryBytes),
                       fmt::format("the query is longer than {} bytes; search for fewer words",
                                   kMaxQueryBytes)});
    if (!is_valid_utf8(text) || text.find('\0') != std::string_view::npos)
        return std::unexpected(QueryError{1, "the query is not valid UTF-8 text"});
    SearchQuery q;
    Parser p{text};
    std::size_t parts = 0;
    for (p.skip_spaces(); p.i < text.size(); p.skip_spaces()) {
        const std::size_t start = p.i;
        if (++parts > kMaxParts)
            return std::unexpected(
                p.error_at(start, fmt::format("the query has more than {} parts; search for fewer",
                                              kMaxParts)));
        bool negated = false;
        if (text[p.i] == '-' && p.i + 1 < text.size()) {
            std::size_t n = 0;
            const std::size_t save = p.i++;
            if (p.at_space(&n)) {
                p.i = save; // a lone "-" is a word
            } else {
                negated = true;
            }
        }
        // An operator: lower-case ASCII letters, then ':'.
        std::string op;
        {
            std::size_t j = p.i;
            while (j < text.size() && text[j] >= 'a' && text[j] <= 'z')
                ++j;
            if (j > p.i && j < text.size() && text[j] == ':') {
                op = std::string(text.substr(p.i, j - p.i));
                p.i = j + 1;
            }
        }
        const std::size_t value_at = p.i;
        bool quoted = false;
        auto v = p.value(&quoted);
        if (!v)
            return std::unexpected(v.error());
        if (op.empty()) {
            if (quoted && blank(*v))
                return std::unexpected(p.error_at(start, "an empty phrase (\"\") finds nothing"));
            if (!quoted && v->empty())
                continue;
            q.terms.push_back({SearchTerm::Field::Any, std::move(*v), negated});
            continue;
        }
        if (blank(*v))
            return std::unexpected(
                p.error_at(value_at, fmt::format("{}: needs a value right after the colon", op)));
        auto text_term = [&](SearchTerm::Field f) {
            q.terms.push_back({f, std::move(*v), negated});
        };
        auto no_negation = [&]() -> std::optional<QueryError> {
            if (negated)
                return p.error_at(start, fmt::format("{}: cannot be negated with -", op));
            return std::nullopt;
        };
        if (op == "from") {
            text_term(SearchTerm::Field::From);
        } else if (op == "to") {
            text_term(SearchTerm::Field::To);
        } else if (op == "subject") {
            text_term(SearchTerm::Field::Subject);
        } else if (op == "filename") {
            text_term(SearchTerm::Field::Filename);
        } else if (op == "deal") {
            if (auto e = no_negation())
                return std::unexpected(*e);
            DealId id = 0;
            auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), id);
            if (ec != std::errc() || end != v->data() + v->size() || id <= 0)
                return std::unexpected(p.error_at(
                    value_at, fmt::format("deal: takes a deal's number (deal:1001), not {}", *v)));
            q.deal = id;
        } else if (op == "has") {
            if (auto e = no_negation())
                return std::unexpected(*e);
            if (*v != "attachment")
                return std::unexpected(
                    p.error_at(value_at, fmt::format("has:{} is unknown; has:attachment is", *v)));
            q.has_attachment = true;
        } else if (op == "is") {
            if (auto e = no_negation())
                return std::unexpected(*e);
            if (*v == "unread" || *v == "read")
                q.unread = *v == "unread";
            else if (*v == "unsorted")
                q.unsorted = true;
            else
                return std::unexpected(p.error_at(
                    value_at,
                    fmt::format("is:{} is unknown; is:unread, is:read and is:unsorted are", *v)));
        } else if (op == "before" || op == "after") {
            if (auto e = no_negation())
                return std::unexpected(*e);
            auto day = parse_day(*v);
            if (!day)
                return std::unexpected(p.error_at(
                    value_at,
                    fmt::format("{}: takes a day as YYYY-MM-DD (from 1970), not {}", op, *v)));
            (op == "before" ? q.before : q.after) = *day;
        } else {
            return std::unexpected(p.error_at(
                start, fmt::format("{}: is not an operator (known: {}); put the text in quotes to "
                                   "search for it",
                                   op, kKnownOperators)));
        }
    }
    const bool filters =
        q.deal || q.has_attachment || q.after || q.before || q.unread || q.unsorted;
    if (q.terms.empty() && !filters)
        return std::unexpected(QueryError{1, "the query is empty: type a word to search for"});
    if (!q.has_text() && !filters)
        return std::unexpected(QueryError{
            1, "a query of excluded words (-word) only would list everything else: add a word "
               "or a filter"});
    return q;
}

} // namespace crm
