#pragma once
// IMAP4rev1 (RFC 3501) response syntax: the value model and an incremental, literal-aware
// response parser. Pure: no sockets, no I/O, no clocks. The network half of the `imap` module
// feeds it whatever bytes the connection delivered.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"

namespace crm::imap {

// One element of response data: NIL, an atom (including flags like \Seen, sequence sets like
// "1:5,7" and fetch item names like "BODY[HEADER.FIELDS (FROM)]<0>"), a number (RFC 3501
// number / number64 as uint64), a string (quoted or literal, bytes kept exactly) or a
// parenthesised list.
struct Value {
    enum class Kind { Nil, Atom, Number, String, List };

    Kind kind = Kind::Nil;
    std::uint64_t number = 0; // Kind::Number
    std::string bytes;        // Kind::Atom text, Kind::String contents (unescaped)
    std::vector<Value> list;  // Kind::List
    bool literal = false;     // Kind::String: it arrived as {n} / ~{n} literal

    [[nodiscard]] static Value nil() { return {}; }
    [[nodiscard]] static Value atom(std::string text);
    [[nodiscard]] static Value num(std::uint64_t n);
    [[nodiscard]] static Value string(std::string bytes, bool literal = false);
    [[nodiscard]] static Value make_list(std::vector<Value> items);

    [[nodiscard]] bool is_nil() const { return kind == Kind::Nil; }
    [[nodiscard]] bool is_atom() const { return kind == Kind::Atom; }
    [[nodiscard]] bool is_number() const { return kind == Kind::Number; }
    [[nodiscard]] bool is_string() const { return kind == Kind::String; }
    [[nodiscard]] bool is_list() const { return kind == Kind::List; }

    // The text of an atom or string (RFC 3501 astring / nstring contents); nullopt for NIL,
    // numbers and lists. The view borrows from this Value.
    [[nodiscard]] std::optional<std::string_view> as_text() const;
    // The number, also when a server sent it as an all-digit atom/quoted string; else nullopt.
    [[nodiscard]] std::optional<std::uint64_t> as_number() const;
    // Atom comparison, ASCII case-insensitive (keywords, item names); false for non-atoms.
    [[nodiscard]] bool is_atom(std::string_view upper_keyword) const;

    bool operator==(const Value& other) const;
};

struct Response {
    enum class Kind { Tagged, Untagged, Continuation };

    Kind kind = Kind::Untagged;
    std::string tag;               // Tagged only, exactly as sent
    std::string status_or_keyword; // upper-cased: OK NO BAD BYE PREAUTH, EXISTS FETCH LIST ...
    std::optional<std::uint64_t> number; // "* 23 EXISTS", "* 5 FETCH (...)"
    std::string code_atom;               // upper-cased resp-text-code atom: "UIDVALIDITY"
    std::vector<Value> code_args;        // [UIDVALIDITY 3857529045] -> {Number 3857529045}
    std::string text;                    // human-readable resp-text (or continuation text)
    std::vector<Value> data;             // untagged data after the keyword

    // Status responses: tagged, or untagged OK/NO/BAD/BYE/PREAUTH.
    [[nodiscard]] bool is_status() const;
    [[nodiscard]] bool is_ok() const { return is_status() && status_or_keyword == "OK"; }
    // The first code argument as a number: [UIDVALIDITY n], [UIDNEXT n], [HIGHESTMODSEQ n].
    [[nodiscard]] std::optional<std::uint64_t> code_number() const;

    bool operator==(const Response& other) const = default;
};

// Debug rendering (tests, developer logs). It includes string and literal contents, so it is
// NOT safe for production logs; Error details from the parser are.
[[nodiscard]] std::string debug_string(const Value& v);
[[nodiscard]] std::string debug_string(const Response& r);

// Named limits; exceeding one is a protocol error (the connection is then dead).
struct ParserLimits {
    std::size_t max_line_length = 64 * 1024;               // bytes between CRLFs outside literals
    std::uint64_t max_literal_size = 256ULL * 1024 * 1024; // one {n} literal
    std::uint64_t max_response_size = 512ULL * 1024 * 1024; // one response incl. its literals
    std::size_t max_depth = 64;    // nesting of parenthesised lists (and code lists)
    std::size_t max_items = 100000; // Values in one response (and literals per response)
};

// Incremental response parser. feed() any split of the byte stream (one byte at a time works);
// next() returns complete responses in order, nullopt when more bytes are needed, or an Error
// {code "imap.protocol", scope Account, retry Backoff} whose detail names the problem, the
// stream byte offset and an escaped excerpt of the offending line (never literal contents).
//
// Framing happens in feed(): a line that grows past max_line_length without LF, or a literal
// announcing more than max_literal_size, is detected as soon as the bytes arrive, the unframed
// bytes are dropped, and everything fed afterwards is ignored, so memory stays bounded by the
// limits. Responses framed before the error are still returned by next() first; then the error;
// after that next() keeps returning the same error (the connection is considered dead).
//
// Lenient in what it accepts: bare LF as line end, literal8 ~{n} and non-synchronising {n+}
// literals, 8-bit bytes in quoted strings and text, repeated spaces, free-form code arguments.
// Rejects: NUL outside literals, unbalanced parentheses, a tagged line without OK/NO/BAD,
// malformed literal markers, oversized anything.
//
// Not thread-safe; owned by one connection strand. Work is linear in the bytes fed: consumed
// bytes are skipped with an offset and the buffer is compacted when at least half is consumed.
class ResponseParser {
  public:
    explicit ResponseParser(ParserLimits limits = {});

    void feed(std::string_view bytes);
    [[nodiscard]] Result<std::optional<Response>> next();

    // Bytes currently held (buffered responses and the partial one). For tests and metrics.
    [[nodiscard]] std::size_t buffered_bytes() const { return buf_.size() - head_; }
    // An error was detected (next() may still return earlier complete responses before it).
    [[nodiscard]] bool failed() const { return error_.has_value(); }

  private:
    void frame();
    void fail_framing(std::string what, std::size_t at);
    void compact();

    ParserLimits limits_;
    std::string buf_;
    std::size_t head_ = 0;           // start of the first unreturned frame in buf_
    std::deque<std::size_t> frames_; // lengths of complete frames starting at head_
    std::size_t frame_start_ = 0;    // start of the frame being framed
    std::size_t line_start_ = 0;     // start of the current line segment
    std::size_t scan_ = 0;           // framing progress
    std::uint64_t literal_left_ = 0; // bytes of the current literal still to come
    bool in_literal_ = false;
    std::size_t literals_in_frame_ = 0;
    std::uint64_t consumed_ = 0;     // stream offset of buf_[0]
    std::optional<Error> error_;     // framing or parse error; sticky
};

// Protocol error in the form the parser returns (also used by the typed helpers' callers).
[[nodiscard]] Error protocol_error(std::string detail);

} // namespace crm::imap
