// Fuzzes the SMTP reply reader (src/smtp/session.hpp): the server's lines as libcurl hands them
// over (CURLINFO_HEADER_IN, in arbitrary chunks) interleaved with the commands libcurl sent.
// Whatever a hostile server sends, the reader keeps its bounds: reply texts and the last line are
// printable ASCII and bounded, codes are three digits, there is never a reply to a command that
// was not sent (RCPT replies <= RCPT commands), and a line never ending stays bounded in memory.
//
// Input: events separated by NUL bytes; an event starting with '>' is a command line libcurl
// wrote (the rest of the event), any other event is a chunk of server bytes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "session.hpp"

namespace {

void check_text(const std::string& t, std::size_t max) {
    if (t.size() > max)
        std::abort();
    for (char c : t)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
            std::abort();
}

void check_reply(const std::optional<crm::smtp::detail::Reply>& r) {
    if (!r)
        return;
    if (r->code < 0 || r->code > 999)
        std::abort();
    check_text(r->text, crm::smtp::detail::kMaxReplyText + 4); // the last may be "\xNN"
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using crm::smtp::detail::Session;
    std::string_view in(reinterpret_cast<const char*>(data), size);
    Session s;
    s.need_auth = !in.empty() && (in.front() & 1);
    s.starttls = !in.empty() && (in.front() & 2);
    std::size_t rcpt_commands = 0, commands = 0;
    while (!in.empty()) {
        auto end = in.find('\0');
        auto ev = in.substr(0, end);
        in.remove_prefix(end == std::string_view::npos ? in.size() : end + 1);
        if (!ev.empty() && ev.front() == '>') {
            ev.remove_prefix(1);
            ++commands;
            if (crm::smtp::detail::verb_of(ev) == crm::smtp::detail::Verb::Rcpt)
                ++rcpt_commands;
            s.on_out(ev);
        } else {
            s.on_in(ev);
        }
        if (s.in_buf.size() > 4096 + 1)
            std::abort();
        if (s.pending.size() > commands)
            std::abort();
    }
    if (s.rcpts.size() > rcpt_commands)
        std::abort();
    for (const auto& r : s.rcpts)
        check_reply(r);
    for (const auto* r : {&s.greeting, &s.auth_reply, &s.mail, &s.data, &s.end_of_data, &s.closing})
        check_reply(*r);
    check_text(s.last_line, 200 * 4);
    return 0;
}
