// Fuzz target: the header-level parsers (address lists, message ids, encoded words, HTML text).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crm/mime/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char *>(data), size);
    std::vector<std::string> warnings;
    const auto addrs = crm::mime::parse_address_list(in, &warnings);
    for (const auto &a : addrs)
        if (a.address.empty() || a.address.find('@') == std::string::npos)
            std::abort();
    for (const auto &id : crm::mime::parse_message_ids(in))
        if (id.empty() || id.find('<') != std::string::npos)
            std::abort();
    (void)crm::mime::decode_header_text(in);
    (void)crm::mime::html_to_text(in);
    return 0;
}
