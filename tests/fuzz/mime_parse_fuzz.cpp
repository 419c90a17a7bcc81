// Fuzz target: mime::parse on arbitrary bytes, with tight limits so deep/huge inputs hit them.
// Aborts when an output string is not valid UTF-8 or a limit is not respected.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "crm/mime/parse.hpp"
#include "fuzz_util.hpp"

namespace {
void check(std::string_view s) {
    if (!crm::fuzz::valid_utf8(s))
        std::abort();
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    crm::mime::ParseLimits limits;
    limits.max_depth = 20;
    limits.max_parts = 200;
    limits.max_header_bytes = 64 * 1024;
    limits.max_decoded_bytes = 1 << 20;
    limits.max_text_bytes = 256 * 1024;
    const auto m =
        crm::mime::parse(std::span<const char>(reinterpret_cast<const char *>(data), size), limits);
    if (m.content_hash.size() != 64 || m.text_body.size() > limits.max_text_bytes ||
        m.html_body.size() > limits.max_text_bytes)
        std::abort();
    std::size_t decoded = 0;
    for (const auto &a : m.attachments) {
        check(a.filename);
        check(a.content_type);
        check(a.content_id);
        decoded += a.content.size();
        if (a.size != a.content.size())
            std::abort();
    }
    if (decoded > limits.max_decoded_bytes)
        std::abort();
    check(m.subject);
    check(m.text_body);
    check(m.html_body);
    check(m.message_id);
    for (const auto &[k, v] : m.headers) {
        check(k);
        check(v);
    }
    for (const auto *list : {&m.from, &m.sender, &m.reply_to, &m.to, &m.cc, &m.bcc})
        for (const auto &a : *list) {
            check(a.name);
            check(a.address);
        }
    for (const auto &w : m.warnings)
        check(w);
    return 0;
}
