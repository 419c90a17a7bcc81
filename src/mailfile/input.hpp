#pragma once
// A buffered byte stream over a file that may be gzip-compressed (zlib's transparent gzread),
// with look-ahead for line splitting and Content-Length checks. Private to the mailfile module.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace crm::mailfile::detail {

class Input {
public:
    Input() = default;
    ~Input();
    Input(const Input&) = delete;
    Input& operator=(const Input&) = delete;

    // Opens `path` for reading. On failure returns false and sets error().
    bool open(const std::string& path);
    // Closes the file; a gzip stream that ended early is reported through error().
    void close();

    // Makes at least `want` bytes available after the read position unless the stream ends
    // first; returns the number available. A read error ends the stream and sets error().
    std::size_t fill(std::size_t want);
    // The bytes available after the read position; invalidated by fill(), peek_line(), consume().
    [[nodiscard]] std::string_view available() const {
        return std::string_view(buf_).substr(pos_);
    }
    void consume(std::size_t n);

    // The next line including its '\n', or at most `max` bytes of it, or the rest of the stream
    // when it does not end with '\n'. Empty at the end of the stream. Does not consume.
    std::string_view peek_line(std::size_t max);

    [[nodiscard]] bool at_end() { return fill(1) == 0; }
    // Bytes of the underlying file consumed so far (compressed bytes for gzip).
    [[nodiscard]] std::uint64_t raw_offset() const;
    // Empty while no error occurred.
    [[nodiscard]] const std::string& error() const { return error_; }

private:
    void* gz_ = nullptr; // gzFile, kept opaque so zlib.h stays in input.cpp
    std::string buf_;
    std::size_t pos_ = 0;
    std::size_t scanned_ = 0; // bytes after pos_ known to hold no '\n' (peek_line)
    bool eof_ = false;
    std::string error_;
};

} // namespace crm::mailfile::detail
