// Command formatting (RFC 3501 §9: astring, quoted, literal, sequence-set).
#include <ctime>

#include <fmt/format.h>

#include "crm/imap/command.hpp"

namespace crm::imap {
namespace {

// ASTRING-CHAR = ATOM-CHAR / "]": printable ASCII except ( ) { SP % * " \ .
bool astring_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
        return false;
    switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
        return false;
    default:
        return true;
    }
}

// Which forbidden byte (CR, LF, NUL) a non-literal argument holds, if any.
const char* forbidden_in_line(std::string_view s) {
    for (char c : s) {
        if (c == '\r')
            return "CR";
        if (c == '\n')
            return "LF";
        if (c == '\0')
            return "NUL";
    }
    return nullptr;
}

std::unexpected<Error> arg_error(std::string detail) {
    return fail("imap.arg", std::move(detail), ErrorScope::Message, Retry::Never);
}

Result<void> check_tag(std::string_view tag) {
    if (tag.empty())
        return arg_error("empty tag");
    for (char c : tag)
        if (!astring_char(c) || c == '+' || c == ']')
            return arg_error("tag contains a character outside ATOM-CHAR");
    return {};
}

} // namespace

AString quote_astring(std::string_view s) {
    bool atom = !s.empty();
    bool quotable = true;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (!astring_char(c))
            atom = false;
        if (c == '\r' || c == '\n' || c == '\0' || u >= 0x80)
            quotable = false;
    }
    // "NIL" is a valid astring atom, but quoting it avoids servers reading it as nil.
    if (atom && !(s.size() == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' &&
                  (s[2] | 0x20) == 'l'))
        return {AString::Form::Atom, std::string(s)};
    if (quotable) {
        std::string q = "\"";
        for (char c : s) {
            if (c == '"' || c == '\\')
                q += '\\';
            q += c;
        }
        q += '"';
        return {AString::Form::Quoted, std::move(q)};
    }
    return {AString::Form::Literal, std::string(s)};
}

std::string Command::joined() const {
    std::string out;
    for (const auto& p : parts)
        out += p;
    return out;
}

CommandBuilder::CommandBuilder(std::string tag, std::string_view verb)
    : tag_(std::move(tag)), verb_(verb) {}

CommandBuilder::CommandBuilder(std::string_view verb) : verb_(verb) {}

CommandBuilder& CommandBuilder::raw(std::string_view text) {
    args_.push_back({std::string(text), false});
    return *this;
}

CommandBuilder& CommandBuilder::astring(std::string_view s) {
    AString a = quote_astring(s);
    args_.push_back({std::move(a.text), a.needs_literal()});
    return *this;
}

CommandBuilder& CommandBuilder::literal(std::string_view bytes) {
    args_.push_back({std::string(bytes), true});
    return *this;
}

CommandBuilder& CommandBuilder::sequence_set(const std::set<std::uint64_t>& uids) {
    return raw(format_sequence_set(uids));
}

CommandBuilder& CommandBuilder::sequence_set(std::span<const std::uint32_t> sorted_uids) {
    const std::vector<std::uint64_t> v(sorted_uids.begin(), sorted_uids.end());
    return raw(format_sequence_set(std::span<const std::uint64_t>(v)));
}

CommandBuilder& CommandBuilder::range(std::uint64_t first, std::optional<std::uint64_t> last) {
    return raw(last ? fmt::format("{}:{}", first, *last) : fmt::format("{}:*", first));
}

CommandBuilder& CommandBuilder::number(std::uint64_t n) {
    return raw(std::to_string(n));
}

CommandBuilder& CommandBuilder::list(std::initializer_list<std::string_view> atoms) {
    return list(std::span<const std::string_view>(atoms.begin(), atoms.size()));
}

CommandBuilder& CommandBuilder::list(std::span<const std::string_view> atoms) {
    std::string text = "(";
    for (std::size_t k = 0; k < atoms.size(); ++k) {
        if (k)
            text += ' ';
        text += atoms[k];
    }
    text += ')';
    return raw(text);
}

CommandBuilder& CommandBuilder::date(std::int64_t unix_seconds) {
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return raw(fmt::format("{}-{}-{}", tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900));
}

CommandBuilder& CommandBuilder::changed_since(std::uint64_t modseq) {
    return raw(fmt::format("(CHANGEDSINCE {})", modseq));
}

CommandBuilder& CommandBuilder::literal_plus(bool on) {
    literal_plus_ = on;
    return *this;
}

Result<Command> CommandBuilder::build() const {
    return build(tag_);
}

Result<Command> CommandBuilder::build(std::string_view tag) const {
    if (auto ok = check_tag(tag); !ok)
        return std::unexpected(ok.error());
    if (verb_.empty())
        return arg_error("empty command verb");
    if (const char* bad = forbidden_in_line(verb_))
        return arg_error(fmt::format("command verb contains {}", bad));
    Command cmd;
    cmd.tag = std::string(tag);
    std::string cur = cmd.tag + " " + verb_;
    for (std::size_t k = 0; k < args_.size(); ++k) {
        const Arg& a = args_[k];
        cur += ' ';
        if (!a.literal) {
            if (const char* bad = forbidden_in_line(a.text))
                return arg_error(fmt::format("argument {} contains {}", k + 1, bad));
            if (a.text.empty())
                return arg_error(fmt::format("argument {} is empty", k + 1));
            cur += a.text;
            continue;
        }
        if (a.text.find('\0') != std::string::npos)
            return arg_error(fmt::format("literal argument {} contains NUL", k + 1));
        cur += fmt::format("{{{}{}}}\r\n", a.text.size(), literal_plus_ ? "+" : "");
        if (!literal_plus_) {
            // RFC 3501 §7.5: wait for "+" before sending the literal's bytes.
            cmd.parts.push_back(std::move(cur));
            cur.clear();
        }
        cur += a.text;
    }
    cur += "\r\n";
    cmd.parts.push_back(std::move(cur));
    return cmd;
}

CommandBuilder list_mailboxes(bool return_special_use) {
    CommandBuilder b("LIST");
    b.astring("").astring("*");
    if (return_special_use)
        b.raw("RETURN").list({"SPECIAL-USE"});
    return b;
}

std::string format_sequence_set(std::span<const std::uint64_t> sorted) {
    std::string out;
    std::size_t k = 0;
    while (k < sorted.size() && sorted[k] == 0)
        ++k;
    while (k < sorted.size()) {
        const std::uint64_t first = sorted[k];
        std::uint64_t last = first;
        ++k;
        while (k < sorted.size() && (sorted[k] == last || sorted[k] == last + 1))
            last = sorted[k++];
        if (!out.empty())
            out += ',';
        out += std::to_string(first);
        if (last != first)
            out += ':' + std::to_string(last);
    }
    return out;
}

std::string format_sequence_set(const std::set<std::uint64_t>& uids) {
    const std::vector<std::uint64_t> v(uids.begin(), uids.end());
    return format_sequence_set(std::span<const std::uint64_t>(v));
}

std::string Tagger::next() { return "C" + std::to_string(++counter_); }

} // namespace crm::imap
