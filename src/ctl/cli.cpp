#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <ctime>

#include <fmt/format.h>

namespace crm::ctl {

Args::Args(std::vector<std::string> argv, const std::vector<std::string>& value_flags,
           const std::vector<std::string>& bool_flags) {
    auto known = [](const std::vector<std::string>& v, const std::string& f) {
        return std::find(v.begin(), v.end(), f) != v.end();
    };
    bool only_pos = false;
    for (std::size_t i = 0; i < argv.size(); ++i) {
        const std::string& a = argv[i];
        if (only_pos || a.size() < 2 || a[0] != '-') {
            pos_.push_back(a);
            continue;
        }
        if (a == "--") {
            only_pos = true;
            continue;
        }
        std::string name = a, val;
        bool has_val = false;
        if (auto eq = a.find('='); eq != std::string::npos) {
            name = a.substr(0, eq);
            val = a.substr(eq + 1);
            has_val = true;
        }
        if (known(bool_flags, name)) {
            if (has_val)
                throw UsageError{name + " takes no value"};
            flags_[name].emplace_back();
        } else if (known(value_flags, name)) {
            if (!has_val) {
                if (i + 1 >= argv.size())
                    throw UsageError{name + " needs a value"};
                val = argv[++i];
            }
            flags_[name].push_back(val);
        } else {
            throw UsageError{"unknown option " + name};
        }
    }
}

std::optional<std::string> Args::value(const std::string& flag) const {
    auto it = flags_.find(flag);
    if (it == flags_.end() || it->second.empty())
        return std::nullopt;
    return it->second.back();
}

std::vector<std::string> Args::values(const std::string& flag) const {
    auto it = flags_.find(flag);
    return it == flags_.end() ? std::vector<std::string>{} : it->second;
}

std::string printable(std::string_view text, bool multiline) {
    constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
            static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
            out += kReplacement; // a C1 control in UTF-8
            ++i;
        } else if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7F ||
                   (c >= 0x80 && c <= 0x9F && (i == 0 || static_cast<unsigned char>(text[i - 1]) < 0x80))) {
            out += kReplacement; // C0, DEL, or a raw C1 byte outside a UTF-8 sequence
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

long long parse_id(const std::string& what, const std::string& text) {
    long long v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || v <= 0)
        throw UsageError{what + ": '" + text + "' is not a positive whole number"};
    return v;
}

std::optional<PageArgs> page_args(const Args& a) {
    const auto limit = a.value("--limit");
    const auto cursor = a.value("--cursor");
    if (!limit && !cursor)
        return std::nullopt;
    PageArgs p;
    if (limit) {
        const auto n = parse_id("--limit", *limit);
        if (n > 500)
            throw UsageError{"--limit: at most 500, not " + *limit};
        p.limit = static_cast<std::size_t>(n);
    }
    p.cursor = cursor.value_or("");
    return p;
}

void print_page_footer(std::size_t shown, std::int64_t total, std::string_view noun,
                       const std::optional<std::string>& next) {
    fmt::print("{} of {} {}{}", shown, total, noun, total == 1 ? "" : "s");
    if (next)
        fmt::print("; more: --cursor {}", *next);
    fmt::print("\n");
}

std::string fmt_date(std::optional<std::int64_t> t) {
    if (!t)
        return "-";
    std::time_t tt = static_cast<std::time_t>(*t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

void expect_args(const std::vector<std::string>& pos, std::size_t n, const char* what) {
    if (pos.size() != n)
        throw UsageError{fmt::format("expected {}", what)};
}

} // namespace crm::ctl
