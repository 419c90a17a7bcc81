#include "mbox.hpp"

#include <charconv>
#include <string_view>

#include <fmt/format.h>

namespace crm::mailfile::detail {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::size_t kMaxPiece = std::size_t{1} << 20; // longest line piece handled at once
constexpr std::size_t kSniff = 64 * 1024;

bool is_blank(std::string_view line) { return line == "\n" || line == "\r\n"; }

bool starts_from(std::string_view s) { return s.starts_with("From "); }

// RFC 4155 mboxrd: a body line ^>+From  was quoted on writing; remove one '>'.
bool is_quoted_from(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && line[i] == '>')
        ++i;
    return i > 0 && line.substr(i).starts_with("From ");
}

bool iequals_prefix(std::string_view line, std::string_view name) {
    if (line.size() < name.size())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        auto a = static_cast<unsigned char>(line[i]);
        auto b = static_cast<unsigned char>(name[i]);
        if ((a | 0x20) != (b | 0x20))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                          s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// Header facts the splitter needs: Content-Length (mboxcl/mboxcl2) and the read flag.
struct HeaderFacts {
    std::optional<std::uint64_t> content_length;
    bool seen = false;
};

void note_header(std::string_view line, HeaderFacts& facts) {
    if (iequals_prefix(line, "Content-Length:")) {
        std::string_view v = trim(line.substr(15));
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec == std::errc() && p == v.data() + v.size() && !v.empty())
            facts.content_length = n;
        else
            facts.content_length.reset(); // unusable: split at From_ lines instead
    } else if (iequals_prefix(line, "Status:") || iequals_prefix(line, "X-Status:")) {
        std::string_view v = line.substr(line.find(':') + 1);
        if (trim(v).find('R') != std::string_view::npos)
            facts.seen = true;
    }
}

// Content-Length is trusted only when what follows the counted bytes is where the next message
// (or the end) must be: EOF, "From ", or one line break followed by "From " or EOF.
bool content_length_fits(std::string_view rest) {
    if (rest.empty() || starts_from(rest))
        return true;
    for (std::string_view eol : {std::string_view("\n"), std::string_view("\r\n")}) {
        if (rest.starts_with(eol)) {
            std::string_view after = rest.substr(eol.size());
            return after.empty() || starts_from(after);
        }
    }
    return false;
}

// Appends to the message unless it would exceed the cap; then the message is dropped and only
// scanned for its end.
struct Sink {
    std::string& bytes;
    std::uint64_t cap;
    bool oversized = false;

    void add(std::string_view s) {
        if (oversized)
            return;
        if (bytes.size() + s.size() > cap) {
            oversized = true;
            std::string().swap(bytes);
            return;
        }
        bytes.append(s);
    }
};

// RFC 5322 §3.6.8 field-name: printable ASCII except ':' and space, then ':'.
bool is_header_line(std::string_view line) {
    std::size_t i = 0;
    while (i < line.size() && line[i] > ' ' && line[i] < 127 && line[i] != ':')
        ++i;
    return i > 0 && i < line.size() && line[i] == ':';
}

} // namespace

bool looks_like_mbox(Input& in) {
    in.fill(kSniff);
    std::string_view s = in.available().substr(0, kSniff);
    if (s.starts_with(kBom))
        s.remove_prefix(kBom.size());
    while (!s.empty() && (s.front() == '\n' || s.front() == '\r'))
        s.remove_prefix(1);
    return starts_from(s);
}

MboxSplitter::MboxSplitter(Input& in, std::string path, std::uint64_t max_message_bytes)
    : in_(in), path_(std::move(path)), cap_(max_message_bytes) {}

void MboxSplitter::skip_preamble() {
    in_.fill(kSniff);
    if (in_.available().starts_with(kBom))
        in_.consume(kBom.size());
    for (;;) {
        std::string_view line = in_.peek_line(kMaxPiece);
        if (line.empty() || !is_blank(line))
            break;
        in_.consume(line.size());
    }
}

bool MboxSplitter::next_is_header(std::size_t from_line_size) {
    constexpr std::size_t kLook = 1024;
    in_.fill(from_line_size + kLook);
    std::string_view after = in_.available().substr(from_line_size);
    return is_header_line(after.substr(0, std::min(after.size(), kLook)));
}

bool MboxSplitter::next(RawMessage& out, std::vector<std::string>& errors) {
    if (!started_) {
        skip_preamble();
        started_ = true;
    }
    for (;;) {
        std::string_view from_line = in_.peek_line(kMaxPiece);
        if (from_line.empty())
            return false;
        // Invariant: positioned at a From_ line (looks_like_mbox checked the first one, and every
        // message below ends at one or at EOF).
        ++number_;
        std::optional<std::int64_t> received = parse_from_line_date(from_line);
        bool line_start = from_line.ends_with('\n');
        in_.consume(from_line.size());
        while (!line_start) { // a From_ line longer than kMaxPiece: skip its rest
            std::string_view piece = in_.peek_line(kMaxPiece);
            if (piece.empty())
                break;
            line_start = piece.ends_with('\n');
            in_.consume(piece.size());
        }

        std::string bytes;
        Sink sink{bytes, cap_};
        HeaderFacts facts;
        std::string pending; // a blank line held back: it is dropped if a From_ line follows
        bool ended = false;  // the next From_ line was reached during the header

        // Header section, up to the blank line. No header line can start "From " (a field name
        // has no space), so such a line starts the next message even without a blank line.
        line_start = true;
        for (;;) {
            std::string_view line = in_.peek_line(kMaxPiece);
            if (line.empty()) {
                ended = true;
                break;
            }
            if (line_start && starts_from(line)) {
                ended = true;
                break;
            }
            if (line_start && is_blank(line)) {
                pending.assign(line);
                in_.consume(line.size());
                break;
            }
            if (line_start)
                note_header(line, facts);
            sink.add(line);
            line_start = line.ends_with('\n');
            in_.consume(line.size());
        }

        bool done = ended;
        const std::uint64_t used = bytes.size() + pending.size();
        if (!done && facts.content_length && !sink.oversized && used <= cap_ &&
            *facts.content_length <= cap_ - used) {
            auto n = static_cast<std::size_t>(*facts.content_length);
            std::size_t have = in_.fill(n + 8);
            if (have >= n && content_length_fits(in_.available().substr(n))) {
                sink.add(pending);
                pending.clear();
                sink.add(in_.available().substr(0, n));
                in_.consume(n);
                std::string_view rest = in_.available();
                if (rest.starts_with("\n"))
                    in_.consume(1);
                else if (rest.starts_with("\r\n"))
                    in_.consume(2);
                done = true;
            }
        }

        // Body split at From_ lines that follow a blank line (or a message without a body).
        line_start = true;
        while (!done) {
            std::string_view line = in_.peek_line(kMaxPiece);
            if (line.empty())
                break; // EOF: a held-back final blank line is mbox framing, dropped
            if (line_start && starts_from(line)) {
                // RFC 4155 wants a blank line before a From_ line, but real archives (MimeKit's
                // Netscape mbox) omit it; a header line right after still marks a new message.
                if (!pending.empty() || next_is_header(line.size()))
                    break;
                line = in_.peek_line(kMaxPiece); // the look-ahead may have moved the buffer
            }
            if (!pending.empty()) {
                sink.add(pending);
                pending.clear();
            }
            if (line_start && is_blank(line)) {
                pending.assign(line);
            } else if (line_start && is_quoted_from(line)) {
                sink.add(line.substr(1));
            } else {
                sink.add(line);
            }
            line_start = line.ends_with('\n');
            in_.consume(line.size());
        }

        if (sink.oversized) {
            errors.push_back(fmt::format("{}#{}: message larger than {} bytes, skipped", path_,
                                         number_, cap_));
            continue;
        }
        out.bytes = std::move(bytes);
        out.origin = fmt::format("{}#{}", path_, number_);
        out.seen = facts.seen;
        out.received = received;
        return true;
    }
}

} // namespace crm::mailfile::detail
