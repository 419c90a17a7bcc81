#pragma once
// Command side (RFC 3501 §6, §9): argument quoting, command formatting that cannot be used for
// CRLF injection, sequence sets and tags. Pure.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"

namespace crm::imap {

// How one astring argument goes on the wire.
struct AString {
    enum class Form { Atom, Quoted, Literal };
    Form form = Form::Atom;
    std::string text; // Atom: the atom; Quoted: "..." with \" and \\ escaped; Literal: raw bytes
    [[nodiscard]] bool needs_literal() const { return form == Form::Literal; }
    bool operator==(const AString&) const = default;
};

// Atom when every byte is an ASTRING-CHAR (and non-empty), quoted string when it is 7-bit
// without CR/LF/NUL, otherwise a literal (8-bit, CR, LF, NUL: the caller sends {n}).
[[nodiscard]] AString quote_astring(std::string_view s);

// A formatted command split where a synchronising literal needs the server's "+" continuation:
// send parts[0], wait for "+", send parts[1], ... Every part but the last ends with "{n}\r\n";
// the last ends with "\r\n". With non-synchronising literals (LITERAL+ / LITERAL-, RFC 7888)
// there is exactly one part.
struct Command {
    std::string tag;
    std::vector<std::string> parts;
    // The whole command concatenated (only meaningful to send when parts.size() == 1).
    [[nodiscard]] std::string joined() const;
};

// Builds "tag VERB arg arg ...\r\n". Arguments not sent as literals may not contain CR, LF or
// NUL: build() then fails with "imap.arg" (naming the argument index, not its contents), so
// no caller-supplied text can inject a second command.
class CommandBuilder {
  public:
    CommandBuilder(std::string tag, std::string_view verb); // verb like "UID FETCH"
    // Without a tag: the Session that sends the command tags it (build(tag)).
    explicit CommandBuilder(std::string_view verb);

    // Raw protocol text as is: "(UID FLAGS BODY.PEEK[])", "1:*". Must not contain CR/LF/NUL.
    CommandBuilder& raw(std::string_view text);
    // A user/server-derived string (mailbox name, search text): quote_astring decides the form.
    CommandBuilder& astring(std::string_view s);
    // Always a literal (message bytes for APPEND). RFC 3501 literals may not contain NUL, so
    // build() fails "imap.arg" on one (literal8 / RFC 3516 BINARY is not supported here).
    CommandBuilder& literal(std::string_view bytes);
    // Sequence set from UIDs (see format_sequence_set).
    CommandBuilder& sequence_set(const std::set<std::uint64_t>& uids);
    CommandBuilder& sequence_set(std::span<const std::uint32_t> sorted_uids);
    // "first:last", or "first:*" without `last` (RFC 3501 §9 seq-range).
    CommandBuilder& range(std::uint64_t first, std::optional<std::uint64_t> last);
    CommandBuilder& number(std::uint64_t n);
    // A parenthesised list of atoms: "(UID FLAGS)", "(CONDSTORE)".
    CommandBuilder& list(std::initializer_list<std::string_view> atoms);
    CommandBuilder& list(std::span<const std::string_view> atoms);
    // RFC 3501 §9 date ("2-Dec-2026") of the UTC day holding `unix_seconds` (SEARCH SINCE).
    CommandBuilder& date(std::int64_t unix_seconds);
    // RFC 7162 §3.1.4 FETCH modifier "(CHANGEDSINCE n)".
    CommandBuilder& changed_since(std::uint64_t modseq);
    // Use {n+} (LITERAL+) so the command is one part.
    CommandBuilder& literal_plus(bool on = true);

    [[nodiscard]] Result<Command> build() const;
    // The same with `tag` instead of the constructor's.
    [[nodiscard]] Result<Command> build(std::string_view tag) const;
    // The command word(s), for error messages: "UID FETCH".
    [[nodiscard]] const std::string& verb() const { return verb_; }

  private:
    struct Arg {
        std::string text;
        bool literal = false;
    };
    std::string tag_;
    std::string verb_;
    std::vector<Arg> args_;
    bool literal_plus_ = false;
};

// LIST "" "*" (every mailbox), with RETURN (SPECIAL-USE) (RFC 5258, RFC 6154) when the server
// has LIST-EXTENDED and SPECIAL-USE.
[[nodiscard]] CommandBuilder list_mailboxes(bool return_special_use);

// Sorted ascending UIDs (duplicates allowed, 0 skipped) -> "1:5,7,9:12". Empty -> "".
[[nodiscard]] std::string format_sequence_set(std::span<const std::uint64_t> sorted_uids);
[[nodiscard]] std::string format_sequence_set(const std::set<std::uint64_t>& uids);

// Command tags "C1", "C2", ... One Tagger per connection. libcurl uses tags of the form
// letter + at least three zero-padded digits ("A001", "B002") during CONNECT_ONLY login; ours
// never have a leading zero, and curl's counter stays far below 100 during login, so a
// late curl reply can never match one of ours.
class Tagger {
  public:
    [[nodiscard]] std::string next();
    [[nodiscard]] std::uint64_t issued() const { return counter_; }

  private:
    std::uint64_t counter_ = 0;
};

} // namespace crm::imap
