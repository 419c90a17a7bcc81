#pragma once
// Streaming readers of local mail stores (Maildir, mbox, gzip mbox, single message files) for
// `crm-mailctl import PATH...`. An adapter: it reads files, it does not parse MIME.
//
// Not thread-safe: one Walker is used by one thread at a time. Memory is bounded by the largest
// message read (each message is at most WalkerOptions::max_message_bytes), plus the list of
// file paths found under the roots.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/core/result.hpp"

namespace crm::mailfile {

// One message as stored, before MIME parsing.
struct RawMessage {
    // The message bytes exactly as stored, except for mbox framing: the From_ line and the blank
    // line that separates a message from the next From_ line are removed, and in From_-split
    // messages one '>' is removed from lines matching ^>+From (mboxrd unquoting).
    std::string bytes;
    // "path" for a file holding one message, "path#N" for the Nth message (1-based) of an mbox.
    std::string origin;
    // Maildir: the file name's info part ":2,<flags>" contains 'S'. mbox: a Status or X-Status
    // header contains 'R'. Unknown: false.
    bool seen = false;
    // Unix seconds: the date of the mbox From_ line (asctime format, read as UTC), or the file's
    // modification time for a file holding one message. Absent when the From_ line has no date.
    std::optional<std::int64_t> received;
};

struct WalkerOptions {
    // A larger message is skipped with an error ("path#N: ...") and reading resumes after it.
    std::uint64_t max_message_bytes = std::uint64_t{100} << 20;
};

// Walks roots in order and yields their messages one at a time.
//
// A root may be
// - a Maildir (a directory with cur/ and/or new/): every file of cur/ and new/ is one message
//   (names starting with '.' are skipped); subdirectories are searched for more Maildirs
//   (Maildir++ `.Folder`, nested folders), tmp/ is skipped, files outside cur/ and new/ are
//   ignored;
// - any other directory: searched recursively; each file is classified as below; names starting
//   with '.' are skipped;
// - a file: an mbox when its first non-empty line (after an optional UTF-8 BOM) starts with
//   "From ", otherwise one message. Files compressed with gzip (magic 1f 8b, whatever their name)
//   are decompressed while streaming. A file in a directory named cur or new is a Maildir
//   message.
// Directory entries are visited in byte order of their names, so the order is deterministic.
// Symbolic links are followed; a directory reached twice (a link loop, overlapping roots) is
// read once.
//
// mbox splitting: a message starts at a line beginning "From " that is the first line, follows
// a blank line, or is followed by a header field line (some archivers omit the blank line);
// mboxo/mboxrd, CRLF and LF. A Content-Length header is honoured when the bytes it counts are
// followed by EOF or by an optional line break and "From " (mboxcl2, bodies with unquoted From
// lines); otherwise the message is split at From_ lines.
//
// The roots are listed (not read) when the Walker is constructed, to give total_bytes_hint().
class Walker {
public:
    explicit Walker(std::vector<std::filesystem::path> roots, WalkerOptions options = {});
    ~Walker();
    Walker(Walker&&) noexcept;
    Walker& operator=(Walker&&) noexcept;
    Walker(const Walker&) = delete;
    Walker& operator=(const Walker&) = delete;

    // Fills `out` with the next message and returns true, or returns false at the end (then `out`
    // is left unchanged). Problems with single files or messages (missing or unreadable paths,
    // read errors, truncated gzip, oversized messages, empty files) never fail the walk: they are
    // appended to errors() and the walk continues. The error value is reserved for conditions
    // that make further reading pointless (code "mailfile.fatal", scope Fatal); none is
    // currently produced.
    [[nodiscard]] Result<bool> next(RawMessage& out);

    // Per-file problems so far, each "path: what" (mbox messages: "path#N: what").
    [[nodiscard]] const std::vector<std::string>& errors() const;
    // Bytes of the files read so far (compressed bytes for gzip files).
    [[nodiscard]] std::uint64_t bytes_read() const;
    // Sum of the sizes of all files found under the roots, for a progress bar.
    [[nodiscard]] std::uint64_t total_bytes_hint() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The date of an mbox From_ line ("From sender Wed Jan  6 12:34:56 2010", optionally with a
// zone "+0100" / "UTC" before or after the year) as Unix seconds, read as UTC unless a numeric
// zone is given. nullopt when the line carries no recognisable date ("From -").
[[nodiscard]] std::optional<std::int64_t> parse_from_line_date(std::string_view from_line);

// True when a Maildir file name has the info part ":2,<flags>" (or "!2," as some systems use)
// and its flags contain 'S' (seen).
[[nodiscard]] bool maildir_name_seen(std::string_view file_name);

} // namespace crm::mailfile
