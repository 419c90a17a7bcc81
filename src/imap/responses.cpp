// Typed views of parsed responses.
#include <algorithm>
#include <array>
#include <type_traits>

#include "crm/core/utf8.hpp"
#include "crm/imap/mutf7.hpp"
#include "crm/imap/responses.hpp"

namespace crm::imap {
namespace {

// astring contents including all-digit atoms the lexer turned into numbers.
std::optional<std::string> astring_of(const Value& v) {
    if (v.is_number())
        return std::to_string(v.number);
    if (auto t = v.as_text())
        return std::string(*t);
    return std::nullopt;
}

std::optional<std::vector<std::string>> string_list(const Value& v) {
    if (!v.is_list())
        return std::nullopt;
    std::vector<std::string> out;
    out.reserve(v.list.size());
    for (const auto& item : v.list) {
        auto s = astring_of(item);
        if (!s)
            return std::nullopt;
        out.push_back(std::move(*s));
    }
    return out;
}

// "(n)" as RFC 7162 MODSEQ sends it; a bare number is accepted too.
std::optional<std::uint64_t> paren_number(const Value& v) {
    if (v.is_list())
        return v.list.size() == 1 ? v.list[0].as_number() : std::nullopt;
    return v.as_number();
}

std::optional<std::uint64_t> sequence_value(const Value& v) {
    return v.is_number() ? std::optional<std::uint64_t>(v.number) : std::nullopt;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    // Howard Hinnant's algorithm (proleptic Gregorian).
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<unsigned> digits_at(std::string_view s, std::size_t pos, std::size_t n) {
    if (pos + n > s.size())
        return std::nullopt;
    unsigned v = 0;
    for (std::size_t k = pos; k < pos + n; ++k) {
        if (s[k] < '0' || s[k] > '9')
            return std::nullopt;
        v = v * 10 + static_cast<unsigned>(s[k] - '0');
    }
    return v;
}

} // namespace

std::optional<std::int64_t> parse_internaldate(std::string_view s) {
    // date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE,
    // here without quotes: "17-Jul-1996 02:44:25 -0700"; date-day-fixed may be " 7".
    if (s.size() == 26 && s.front() == ' ')
        s.remove_prefix(1);
    std::size_t p = 0; // index of the '-' after the day
    unsigned day = 0;
    if (s.size() == 26 || s.size() == 25) {
        p = s.size() - 24;
        auto d = digits_at(s, 0, p);
        if (!d)
            return std::nullopt;
        day = *d;
    } else {
        return std::nullopt;
    }
    if (s[p] != '-')
        return std::nullopt;
    static constexpr std::array<std::string_view, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::string_view mon = s.substr(p + 1, 3);
    unsigned month = 0;
    for (unsigned k = 0; k < 12; ++k)
        if (ascii_iequals(mon, kMonths[k]))
            month = k + 1;
    if (month == 0 || s[p + 4] != '-')
        return std::nullopt;
    const auto year = digits_at(s, p + 5, 4);
    if (!year || s[p + 9] != ' ')
        return std::nullopt;
    const auto hh = digits_at(s, p + 10, 2);
    const auto mm = digits_at(s, p + 13, 2);
    const auto ss = digits_at(s, p + 16, 2);
    if (!hh || !mm || !ss || s[p + 12] != ':' || s[p + 15] != ':' || s[p + 18] != ' ')
        return std::nullopt;
    const char sign = s[p + 19];
    const auto zh = digits_at(s, p + 20, 2);
    const auto zm = digits_at(s, p + 22, 2);
    if ((sign != '+' && sign != '-') || !zh || !zm)
        return std::nullopt;
    static constexpr std::array<unsigned, 12> kDays = {31, 29, 31, 30, 31, 30,
                                                       31, 31, 30, 31, 30, 31};
    const bool leap = (*year % 4 == 0 && *year % 100 != 0) || *year % 400 == 0;
    if (day < 1 || day > kDays[month - 1] || (month == 2 && day == 29 && !leap) || *hh > 23 ||
        *mm > 59 || *ss > 60 || *zh > 23 || *zm > 59)
        return std::nullopt;
    const std::int64_t local = days_from_civil(*year, month, day) * 86400 + *hh * 3600LL +
                               *mm * 60LL + *ss;
    const std::int64_t offset = (*zh * 3600LL + *zm * 60LL) * (sign == '-' ? -1 : 1);
    return local - offset;
}

namespace {

// Resp is Response (take the section bytes) or const Response (copy them).
template <class Resp> std::optional<FetchData> fetch_of(Resp& r) {
    constexpr bool take = !std::is_const_v<Resp>;
    if (r.kind != Response::Kind::Untagged || r.status_or_keyword != "FETCH" || !r.number ||
        r.data.size() != 1 || !r.data[0].is_list())
        return std::nullopt;
    auto& items = r.data[0].list;
    if (items.size() % 2 != 0)
        return std::nullopt;
    FetchData f;
    f.seq = *r.number;
    for (std::size_t k = 0; k < items.size(); k += 2) {
        const Value& key = items[k];
        auto& val = items[k + 1];
        if (!key.is_atom())
            return std::nullopt;
        const std::string name = ascii_upper(key.bytes);
        if (name == "UID") {
            if (!(f.uid = sequence_value(val)))
                return std::nullopt;
        } else if (name == "FLAGS") {
            if (!(f.flags = string_list(val)))
                return std::nullopt;
        } else if (name == "INTERNALDATE") {
            const auto t = val.as_text();
            if (!t || !(f.internaldate = parse_internaldate(*t)))
                return std::nullopt;
        } else if (name == "RFC822.SIZE") {
            if (!(f.rfc822_size = val.as_number()))
                return std::nullopt;
        } else if (name == "MODSEQ") {
            if (!(f.modseq = paren_number(val)))
                return std::nullopt;
        } else if (name == "X-GM-MSGID") {
            if (!(f.x_gm_msgid = val.as_number()))
                return std::nullopt;
        } else if (name == "X-GM-THRID") {
            if (!(f.x_gm_thrid = val.as_number()))
                return std::nullopt;
        } else if (name == "X-GM-LABELS") {
            auto labels = string_list(val);
            if (!labels)
                return std::nullopt;
            for (auto& l : *labels)
                if (auto d = mutf7_decode(l))
                    l = std::move(*d);
            f.x_gm_labels = std::move(labels);
        } else if (name == "BODY[]" || name == "BODY.PEEK[]" || name == "BINARY[]" ||
                   name == "BINARY.PEEK[]" || name == "RFC822") {
            if (val.is_nil())
                continue;
            if (!val.is_string())
                return std::nullopt;
            if constexpr (take)
                f.body = std::move(val.bytes);
            else
                f.body = val.bytes;
        } else if (name.starts_with("BODY[") || name.starts_with("BINARY[") ||
                   name.starts_with("RFC822.")) {
            if (val.is_string()) {
                if constexpr (take)
                    f.sections.emplace_back(name, std::move(val.bytes));
                else
                    f.sections.emplace_back(name, val.bytes);
            }
        }
        // ENVELOPE, BODYSTRUCTURE, BINARY.SIZE and unknown items are ignored here.
    }
    return f;
}

} // namespace

std::optional<FetchData> parse_fetch(const Response& r) { return fetch_of(r); }

std::optional<FetchData> take_fetch(Response& r) { return fetch_of(r); }

bool Capabilities::has(std::string_view name) const {
    return std::any_of(atoms.begin(), atoms.end(),
                       [&](const std::string& a) { return ascii_iequals(a, name); });
}

std::optional<Capabilities> parse_capabilities(const Response& r) {
    const std::vector<Value>* src = nullptr;
    if (r.kind == Response::Kind::Untagged && r.status_or_keyword == "CAPABILITY")
        src = &r.data;
    else if (r.code_atom == "CAPABILITY")
        src = &r.code_args;
    if (src == nullptr)
        return std::nullopt;
    Capabilities caps;
    for (const auto& v : *src)
        if (auto s = astring_of(v))
            caps.atoms.push_back(ascii_upper(*s));
    return caps;
}

bool ListEntry::selectable() const {
    return std::none_of(flags.begin(), flags.end(), [](const std::string& f) {
        return ascii_iequals(f, "\\Noselect") || ascii_iequals(f, "\\NonExistent");
    });
}

std::optional<ListEntry> parse_list(const Response& r) {
    const auto& k = r.status_or_keyword;
    if (r.kind != Response::Kind::Untagged || (k != "LIST" && k != "LSUB" && k != "XLIST") ||
        r.data.size() < 3 || !r.data[0].is_list())
        return std::nullopt;
    ListEntry e;
    for (const auto& f : r.data[0].list) {
        if (!f.is_atom())
            return std::nullopt;
        e.flags.push_back(f.bytes);
    }
    if (r.data[1].is_nil()) {
        e.delimiter = std::nullopt;
    } else if (r.data[1].is_string() && r.data[1].bytes.size() == 1) {
        e.delimiter = r.data[1].bytes[0];
    } else {
        return std::nullopt;
    }
    auto name = astring_of(r.data[2]);
    if (!name)
        return std::nullopt;
    e.raw_name = *name;
    // RFC 3501 §5.1: INBOX is case-insensitive.
    if (ascii_iequals(e.raw_name, "INBOX"))
        e.raw_name = "INBOX";
    auto decoded = mutf7_decode(e.raw_name);
    e.name = decoded ? std::move(*decoded) : e.raw_name;
    // RFC 6154 attributes, plus XLIST/Gmail legacy spellings.
    struct Use {
        std::string_view flag;
        SpecialUse use;
    };
    static constexpr std::array<Use, 12> kUses = {{{"\\All", SpecialUse::All},
                                                   {"\\AllMail", SpecialUse::All},
                                                   {"\\Archive", SpecialUse::Archive},
                                                   {"\\Drafts", SpecialUse::Drafts},
                                                   {"\\Flagged", SpecialUse::Flagged},
                                                   {"\\Starred", SpecialUse::Flagged},
                                                   {"\\Junk", SpecialUse::Junk},
                                                   {"\\Spam", SpecialUse::Junk},
                                                   {"\\Sent", SpecialUse::Sent},
                                                   {"\\Trash", SpecialUse::Trash},
                                                   {"\\Important", SpecialUse::Important},
                                                   {"\\Bin", SpecialUse::Trash}}};
    for (const auto& f : e.flags)
        for (const auto& u : kUses)
            if (e.special_use == SpecialUse::None && ascii_iequals(f, u.flag))
                e.special_use = u.use;
    return e;
}

std::optional<std::vector<SeqRange>> parse_sequence_set(std::string_view s) {
    if (s.empty())
        return std::nullopt;
    std::vector<SeqRange> out;
    auto number = [](std::string_view t) -> std::optional<std::uint64_t> {
        if (t.empty() || t.size() > 20)
            return std::nullopt;
        std::uint64_t n = 0;
        for (char c : t) {
            if (c < '0' || c > '9')
                return std::nullopt;
            const auto d = static_cast<std::uint64_t>(c - '0');
            if (n > (UINT64_MAX - d) / 10)
                return std::nullopt;
            n = n * 10 + d;
        }
        if (n == 0)
            return std::nullopt;
        return n;
    };
    std::size_t p = 0;
    while (true) {
        const std::size_t comma = s.find(',', p);
        const std::string_view part =
            s.substr(p, comma == std::string_view::npos ? std::string_view::npos : comma - p);
        const std::size_t colon = part.find(':');
        if (colon == std::string_view::npos) {
            auto n = number(part);
            if (!n)
                return std::nullopt;
            out.push_back({*n, *n});
        } else {
            auto a = number(part.substr(0, colon));
            auto b = number(part.substr(colon + 1));
            if (!a || !b)
                return std::nullopt;
            out.push_back({std::min(*a, *b), std::max(*a, *b)});
        }
        if (comma == std::string_view::npos)
            break;
        p = comma + 1;
    }
    return out;
}

std::vector<std::uint64_t> expand_sequence_set(const std::vector<SeqRange>& ranges,
                                               std::size_t cap, bool* truncated) {
    std::vector<std::uint64_t> out;
    if (truncated != nullptr)
        *truncated = false;
    for (const auto& rg : ranges) {
        for (std::uint64_t n = rg.first;; ++n) {
            if (out.size() >= cap) {
                if (truncated != nullptr)
                    *truncated = true;
                return out;
            }
            out.push_back(n);
            if (n == rg.last)
                break;
        }
    }
    return out;
}

namespace {

// A sequence set arrives as an atom "2,10:11" or, when it is a single number, as a Number.
std::optional<std::vector<SeqRange>> sequence_set_of(const Value& v) {
    if (v.is_number()) {
        if (v.number == 0)
            return std::nullopt;
        return std::vector<SeqRange>{{v.number, v.number}};
    }
    if (auto t = v.as_text())
        return parse_sequence_set(*t);
    return std::nullopt;
}

} // namespace

bool Vanished::contains(std::uint64_t uid) const {
    return std::any_of(uids.begin(), uids.end(),
                       [&](const SeqRange& r) { return r.first <= uid && uid <= r.last; });
}

std::optional<Vanished> parse_vanished(const Response& r) {
    if (r.kind != Response::Kind::Untagged || ascii_upper(r.status_or_keyword) != "VANISHED")
        return std::nullopt;
    Vanished out;
    std::size_t k = 0;
    if (k < r.data.size() && r.data[k].is_list()) {
        const auto& tags = r.data[k].list;
        out.earlier = tags.size() == 1 && tags[0].is_atom("EARLIER");
        ++k;
    }
    if (k + 1 != r.data.size())
        return std::nullopt;
    auto set = sequence_set_of(r.data[k]);
    if (!set)
        return std::nullopt;
    out.uids = std::move(*set);
    return out;
}

std::optional<SearchResult> parse_search(const Response& r, std::size_t max_numbers) {
    if (r.kind != Response::Kind::Untagged)
        return std::nullopt;
    SearchResult out;
    if (r.status_or_keyword == "SEARCH" || r.status_or_keyword == "SORT") {
        for (const auto& v : r.data) {
            if (v.is_number()) {
                if (out.numbers.size() >= max_numbers) {
                    out.truncated = true;
                    continue;
                }
                out.numbers.push_back(v.number);
            } else if (v.is_list() && v.list.size() == 2 && v.list[0].is_atom("MODSEQ")) {
                if (!(out.modseq = v.list[1].as_number()))
                    return std::nullopt;
            } else {
                return std::nullopt;
            }
        }
        return out;
    }
    if (r.status_or_keyword != "ESEARCH")
        return std::nullopt;
    // RFC 4731: esearch-response = "ESEARCH" [search-correlator] [SP "UID"]
    //                              *(SP search-return-data)
    std::size_t k = 0;
    if (k < r.data.size() && r.data[k].is_list()) {
        const auto& c = r.data[k].list;
        if (c.size() != 2 || !c[0].is_atom("TAG"))
            return std::nullopt;
        auto t = astring_of(c[1]);
        if (!t)
            return std::nullopt;
        out.tag = std::move(*t);
        ++k;
    }
    if (k < r.data.size() && r.data[k].is_atom("UID")) {
        out.uid = true;
        ++k;
    }
    for (; k < r.data.size(); k += 2) {
        if (k + 1 >= r.data.size() || !r.data[k].is_atom())
            return std::nullopt;
        const std::string name = ascii_upper(r.data[k].bytes);
        const Value& v = r.data[k + 1];
        if (name == "MIN") {
            if (!(out.min = v.as_number()))
                return std::nullopt;
        } else if (name == "MAX") {
            if (!(out.max = v.as_number()))
                return std::nullopt;
        } else if (name == "COUNT") {
            if (!(out.count = v.as_number()))
                return std::nullopt;
        } else if (name == "MODSEQ") {
            if (!(out.modseq = v.as_number()))
                return std::nullopt;
        } else if (name == "ALL") {
            auto set = sequence_set_of(v);
            if (!set)
                return std::nullopt;
            bool truncated = false;
            out.numbers = expand_sequence_set(*set, max_numbers, &truncated);
            out.truncated = truncated;
        }
        // Other return data (PARTIAL, RELEVANCY ...) are skipped with their value.
    }
    return out;
}

std::optional<StatusData> parse_status(const Response& r) {
    if (r.kind != Response::Kind::Untagged || r.status_or_keyword != "STATUS" ||
        r.data.size() != 2 || !r.data[1].is_list())
        return std::nullopt;
    StatusData s;
    auto name = astring_of(r.data[0]);
    if (!name)
        return std::nullopt;
    s.mailbox = std::move(*name);
    const auto& items = r.data[1].list;
    if (items.size() % 2 != 0)
        return std::nullopt;
    for (std::size_t k = 0; k < items.size(); k += 2) {
        if (!items[k].is_atom())
            return std::nullopt;
        const auto n = items[k + 1].as_number();
        if (!n)
            return std::nullopt;
        const std::string key = ascii_upper(items[k].bytes);
        if (key == "MESSAGES")
            s.messages = n;
        else if (key == "RECENT")
            s.recent = n;
        else if (key == "UIDNEXT")
            s.uidnext = n;
        else if (key == "UIDVALIDITY")
            s.uidvalidity = n;
        else if (key == "UNSEEN")
            s.unseen = n;
        else if (key == "HIGHESTMODSEQ")
            s.highestmodseq = n;
    }
    return s;
}

} // namespace crm::imap
