#include "input.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

namespace crm::mailfile::detail {

namespace {
constexpr std::size_t kChunk = 64 * 1024;

gzFile as_gz(void* p) { return static_cast<gzFile>(p); }
} // namespace

Input::~Input() { close(); }

bool Input::open(const std::string& path) {
    close();
    buf_.clear();
    pos_ = scanned_ = 0;
    eof_ = false;
    error_.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_ = std::strerror(errno);
        return false;
    }
    gzFile gz = gzdopen(fd, "rb");
    if (gz == nullptr) {
        error_ = "cannot open stream (out of memory)";
        ::close(fd);
        return false;
    }
    gzbuffer(gz, kChunk);
    gz_ = gz;
    return true;
}

void Input::close() {
    if (gz_ == nullptr)
        return;
    int rc = gzclose_r(as_gz(gz_));
    gz_ = nullptr;
    // Z_BUF_ERROR: the last read stopped in the middle of a gzip stream (truncated file).
    if (rc == Z_BUF_ERROR && error_.empty())
        error_ = "truncated gzip stream";
    else if (rc != Z_OK && error_.empty())
        error_ = "error closing file";
}

std::size_t Input::fill(std::size_t want) {
    while (buf_.size() - pos_ < want && !eof_ && gz_ != nullptr) {
        // Drop consumed bytes before growing, so the buffer stays near the look-ahead needed.
        if (pos_ > 0 && pos_ >= buf_.size() / 2) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
        std::size_t old = buf_.size();
        buf_.resize(old + kChunk);
        int n = gzread(as_gz(gz_), buf_.data() + old, static_cast<unsigned>(kChunk));
        if (n <= 0) {
            buf_.resize(old);
            eof_ = true;
            int errnum = Z_OK;
            const char* msg = gzerror(as_gz(gz_), &errnum);
            if (errnum == Z_ERRNO)
                error_ = std::strerror(errno);
            else if (errnum == Z_BUF_ERROR)
                error_ = "truncated gzip stream";
            else if (errnum != Z_OK) {
                // zlib prefixes the message with the stream's name ("<fd:3>: "); the caller
                // names the file itself.
                std::string_view text = msg != nullptr ? msg : "error";
                if (auto colon = text.find(": "); text.starts_with("<fd:") && colon != text.npos)
                    text.remove_prefix(colon + 2);
                error_ = "gzip: " + std::string(text);
            }
            break;
        }
        buf_.resize(old + static_cast<std::size_t>(n));
    }
    return buf_.size() - pos_;
}

void Input::consume(std::size_t n) {
    pos_ += n;
    if (pos_ > buf_.size())
        pos_ = buf_.size();
    scanned_ = 0;
}

std::string_view Input::peek_line(std::size_t max) {
    for (;;) {
        std::string_view avail = available();
        std::size_t nl = avail.find('\n', scanned_);
        if (nl != std::string_view::npos && nl < max)
            return avail.substr(0, nl + 1);
        if (avail.size() >= max)
            return avail.substr(0, max);
        scanned_ = avail.size();
        std::size_t before = avail.size();
        if (fill(before + kChunk) == before)
            return available(); // end of stream: the rest, or empty
    }
}

std::uint64_t Input::raw_offset() const {
    if (gz_ == nullptr)
        return 0;
    z_off_t off = gzoffset(as_gz(gz_));
    return off < 0 ? 0 : static_cast<std::uint64_t>(off);
}

} // namespace crm::mailfile::detail
