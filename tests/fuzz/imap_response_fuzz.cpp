// ResponseParser invariants: any byte stream ends in responses or one sticky error, never a
// crash; the result does not depend on how the stream is split; typed helpers accept whatever
// the parser produced; modified UTF-7 decode/encode round-trips.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "crm/imap/mutf7.hpp"
#include "crm/imap/protocol.hpp"
#include "crm/imap/responses.hpp"

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

crm::imap::ParserLimits small_limits() {
    crm::imap::ParserLimits l;
    l.max_line_length = 4096;
    l.max_literal_size = 1 << 20;
    l.max_response_size = 2 << 20;
    l.max_depth = 16;
    l.max_items = 5000;
    return l;
}

// Feeds `input` in chunks of `chunk` bytes; returns debug strings, "ERR" last on error.
std::vector<std::string> run(std::string_view input, std::size_t chunk) {
    crm::imap::ResponseParser p(small_limits());
    std::vector<std::string> out;
    auto drain = [&]() {
        while (true) {
            auto r = p.next();
            if (!r) {
                out.push_back("ERR");
                check(!p.next().has_value()); // sticky
                return false;
            }
            if (!*r)
                return true;
            const auto& resp = **r;
            out.push_back(crm::imap::debug_string(resp));
            (void)crm::imap::parse_fetch(resp);
            (void)crm::imap::parse_capabilities(resp);
            (void)crm::imap::parse_list(resp);
            (void)crm::imap::parse_search(resp, 1000);
            (void)crm::imap::parse_status(resp);
        }
    };
    for (std::size_t k = 0; k < input.size(); k += chunk) {
        p.feed(input.substr(k, chunk));
        if (!drain())
            return out;
    }
    drain();
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto whole = run(input, input.size() + 1);
    const auto bytewise = run(input, 1);
    const auto odd = run(input, 7);
    check(whole == bytewise);
    check(whole == odd);
    if (auto d = crm::imap::mutf7_decode(input)) {
        auto e = crm::imap::mutf7_encode(*d);
        check(e.has_value());
        auto again = crm::imap::mutf7_decode(*e);
        check(again.has_value() && *again == *d);
    }
    if (auto e = crm::imap::mutf7_encode(input)) {
        auto d = crm::imap::mutf7_decode(*e);
        check(d.has_value() && *d == input);
    }
    return 0;
}
