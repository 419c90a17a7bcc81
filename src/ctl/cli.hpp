#pragma once
// A small argument parser for crm-mailctl: subcommands, --flag VALUE / --flag=VALUE, repeated
// flags, positionals, --help. Usage errors exit 2.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm::ctl {

struct UsageError {
    std::string message;
};

class Args {
  public:
    // `value_flags`: flags that take a value; `bool_flags`: switches.
    Args(std::vector<std::string> argv, const std::vector<std::string>& value_flags,
         const std::vector<std::string>& bool_flags);
    [[nodiscard]] bool has(const std::string& flag) const { return flags_.contains(flag); }
    [[nodiscard]] std::optional<std::string> value(const std::string& flag) const;
    [[nodiscard]] std::vector<std::string> values(const std::string& flag) const;
    [[nodiscard]] const std::vector<std::string>& positionals() const { return pos_; }

  private:
    std::map<std::string, std::vector<std::string>> flags_;
    std::vector<std::string> pos_;
};

// Text from mail, servers or the CRM made safe to print on a terminal: control characters (C0
// and DEL, and the C1 range U+0080-U+009F, which UTF-8 terminals obey too: U+009B is CSI)
// become U+FFFD, so escape sequences in a subject or a server's error cannot reach the admin's
// terminal. `multiline` keeps line feeds and tabs (message bodies).
[[nodiscard]] std::string printable(std::string_view text, bool multiline = false);

// Parses a positive id or throws UsageError naming the argument.
long long parse_id(const std::string& what, const std::string& text);

// A time as "YYYY-MM-DD HH:MM" (UTC); "-" when there is none.
[[nodiscard]] std::string fmt_date(std::optional<std::int64_t> t);

// --limit N and --cursor C of a listing that pages (as the API's lists do: the same cursors).
struct PageArgs {
    std::size_t limit = 100;
    std::string cursor; // empty: the first page
};
// nullopt when neither flag is given (the whole list). Throws UsageError for a --limit that is
// not 1..500.
[[nodiscard]] std::optional<PageArgs> page_args(const Args& a);

// The last line of a page: "N of TOTAL <noun>s", and "; more: --cursor C" when there is more.
void print_page_footer(std::size_t shown, std::int64_t total, std::string_view noun,
                       const std::optional<std::string>& next);

// Throws UsageError ("expected <what>") unless there are exactly `n` positional arguments.
void expect_args(const std::vector<std::string>& pos, std::size_t n, const char* what);

} // namespace crm::ctl
