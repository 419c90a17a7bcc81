// parse_config invariants on any bytes: no crash or sanitizer report; every problem has a
// non-negative position and formats; a config is returned exactly when there is no error, and
// then it satisfies the documented guarantees (ports set, poll interval above the minimum).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crm/settings/config.hpp"

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto out = crm::settings::parse_config(input, "fuzz.toml");
    bool any_error = false;
    for (const auto& p : out.problems) {
        check(p.line >= 0 && p.column >= 0);
        check(p.file == "fuzz.toml");
        check(!p.message.empty());
        check(crm::settings::format_problem(p).starts_with("fuzz.toml"));
        any_error = any_error || !p.warning;
    }
    check(out.config.has_value() == !any_error);
    check(std::is_sorted(out.problems.begin(), out.problems.end(),
                         [](const auto& a, const auto& b) { return a.line < b.line; }));
    if (out.config) {
        for (const auto& a : out.config->accounts) {
            check(!a.name.empty() && a.owner_id > 0);
            check(a.imap.port != 0 && !a.imap.host.empty());
            check(a.poll_interval >= crm::settings::kMinPollInterval);
            if (a.smtp)
                check(a.smtp->port != 0);
        }
    }
    return 0;
}
