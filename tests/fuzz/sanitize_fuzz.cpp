// Fuzzes the HTML sanitiser: whatever the input, the output parsed again the browser's way
// (gumbo, HTML5) holds nothing that could run or load (mime::unsafe_html_construct), with remote
// images blocked and allowed.
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>

#include "crm/mime/sanitize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    for (bool remote : {false, true}) {
        crm::mime::SanitizeOptions o;
        o.allow_remote_images = remote;
        o.resolve_cid = [](std::string_view cid) -> std::optional<std::string> {
            if (cid.starts_with("ok"))
                return std::string("/api/v1/messages/1/attachments/0?inline=1");
            return std::nullopt;
        };
        auto out = crm::mime::sanitize_html(in, o);
        if (auto bad = crm::mime::unsafe_html_construct(out.html, remote)) {
            std::fprintf(stderr, "unsafe output: %s\n%s\n", bad->c_str(), out.html.c_str());
            std::abort();
        }
    }
    return 0;
}
