// Fuzz target: mime::sanitize_html on arbitrary bytes. The first byte picks options (remote
// images, a small max_depth, a cid resolver). Aborts when the output is not valid UTF-8, holds a
// <script tag, holds anything the independent checker (mime::unsafe_html_construct) reads as
// able to run or load, or changes when sanitised again (idempotence).
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "crm/mime/sanitize.hpp"
#include "fuzz_util.hpp"

namespace {
bool has_script_tag(std::string_view s) {
    static constexpr std::string_view kScript = "<script";
    for (std::size_t i = 0; i + kScript.size() <= s.size(); ++i) {
        std::size_t k = 0;
        while (k < kScript.size() &&
               (s[i + k] | 0x20) == kScript[k]) // ASCII case folding; '<' | 0x20 == '<'
            ++k;
        if (k == kScript.size())
            return true;
    }
    return false;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::uint8_t flags = data[0];
    const std::string_view in(reinterpret_cast<const char *>(data + 1), size - 1);
    crm::mime::SanitizeOptions opts;
    opts.allow_remote_images = (flags & 1U) != 0;
    if ((flags & 2U) != 0)
        opts.max_depth = 8;
    if ((flags & 4U) != 0)
        opts.resolve_cid = [](std::string_view cid) -> std::optional<std::string> {
            if (cid.empty())
                return std::nullopt;
            return std::string("data:image/gif;base64,R0lGODlhAQABAAAAACw=");
        };
    const auto once = crm::mime::sanitize_html(in, opts);
    if (!crm::fuzz::valid_utf8(once.html) || has_script_tag(once.html))
        std::abort();
    if (crm::mime::unsafe_html_construct(once.html, opts.allow_remote_images))
        std::abort();
    const auto twice = crm::mime::sanitize_html(once.html, opts);
    if (twice.html != once.html)
        std::abort();
    return 0;
}
