#pragma once
// Splits an mbox stream into messages. Private to the mailfile module.

#include <cstdint>
#include <string>
#include <vector>

#include "crm/mailfile/reader.hpp"
#include "input.hpp"

namespace crm::mailfile::detail {

// True when the stream's first non-empty line (after an optional UTF-8 BOM) starts with
// "From ". Looks ahead at most 64 KiB; consumes nothing.
[[nodiscard]] bool looks_like_mbox(Input& in);

class MboxSplitter {
public:
    // `in` must be open and outlive the splitter; `path` names the file in origins and errors.
    MboxSplitter(Input& in, std::string path, std::uint64_t max_message_bytes);

    // The next message, or false at the end of the stream. Oversized messages are skipped with
    // an entry in `errors`.
    bool next(RawMessage& out, std::vector<std::string>& errors);

private:
    void skip_preamble();
    // Whether the line after a From_ line of this size (at the read position) is a header field.
    bool next_is_header(std::size_t from_line_size);

    Input& in_;
    std::string path_;
    std::uint64_t cap_;
    std::uint64_t number_ = 0; // messages started so far
    bool started_ = false;
};

} // namespace crm::mailfile::detail
