#include "crm/app/csv.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "crm/core/utf8.hpp"

namespace crm::app {

namespace {

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos)
        return {};
    auto e = s.find_last_not_of(" \t");
    return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_ws(std::string_view s) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',' || s[i] == ';'))
            ++i;
        auto j = i;
        while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != ',' && s[j] != ';')
            ++j;
        if (j > i)
            out.emplace_back(s.substr(i, j - i));
        i = j;
    }
    return out;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
    std::int64_t v = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || v <= 0)
        return std::nullopt;
    return v;
}

// Header-indexed access to one record.
class Table {
  public:
    static Result<Table> make(std::string_view text, std::initializer_list<const char*> required) {
        auto recs = parse_csv(text);
        if (!recs)
            return std::unexpected(recs.error());
        Table t;
        t.records_ = std::move(*recs);
        if (t.records_.empty())
            return fail("csv.header", "the file is empty: a header row is required");
        for (std::size_t i = 0; i < t.records_[0].fields.size(); ++i)
            t.cols_[ascii_lower(trim(t.records_[0].fields[i]))] = i;
        std::vector<std::string> missing;
        for (const char* r : required)
            if (!t.cols_.contains(r))
                missing.emplace_back(r);
        if (!missing.empty())
            return fail("csv.header", fmt::format("line 1: missing column(s): {}",
                                                  fmt::join(missing, ", ")));
        return t;
    }
    [[nodiscard]] std::size_t size() const { return records_.size(); }
    [[nodiscard]] std::size_t line(std::size_t r) const { return records_[r].line; }
    [[nodiscard]] bool blank(std::size_t r) const {
        return std::all_of(records_[r].fields.begin(), records_[r].fields.end(),
                           [](const std::string& f) { return trim(f).empty(); });
    }
    [[nodiscard]] std::string get(std::size_t r, const char* col) const {
        auto it = cols_.find(col);
        if (it == cols_.end() || it->second >= records_[r].fields.size())
            return {};
        return trim(records_[r].fields[it->second]);
    }

  private:
    std::vector<CsvRecord> records_;
    std::map<std::string, std::size_t> cols_;
};

// Runs `row` over every data record, collecting problems with line numbers.
template <class T, class F>
Result<CsvImport<T>> each_row(std::string_view text, std::initializer_list<const char*> required,
                              F&& row) {
    auto t = Table::make(text, required);
    if (!t)
        return std::unexpected(t.error());
    CsvImport<T> out;
    for (std::size_t r = 1; r < t->size(); ++r) {
        if (t->blank(r))
            continue;
        std::string problem;
        auto rec = row(*t, r, problem);
        if (rec)
            out.rows.push_back(std::move(*rec));
        else
            out.problems.push_back({t->line(r), problem});
    }
    return out;
}

} // namespace

Result<std::vector<CsvRecord>> parse_csv(std::string_view text) {
    std::vector<CsvRecord> out;
    std::size_t i = 0, line = 1;
    if (text.starts_with("\xEF\xBB\xBF"))
        i = 3;
    while (i < text.size()) {
        CsvRecord rec;
        rec.line = line;
        std::string field;
        bool in_quotes = false, quoted = false;
        std::size_t quote_line = line;
        for (;;) {
            if (i >= text.size()) {
                if (in_quotes)
                    return fail("csv.syntax",
                                fmt::format("line {}: unterminated quoted field", quote_line));
                rec.fields.push_back(std::move(field));
                break;
            }
            char c = text[i++];
            if (in_quotes) {
                if (c == '"') {
                    if (i < text.size() && text[i] == '"') {
                        field += '"';
                        ++i;
                    } else {
                        in_quotes = false;
                    }
                } else {
                    if (c == '\n')
                        ++line;
                    field += c;
                }
            } else if (c == '"' && !quoted && trim(field).empty()) {
                in_quotes = quoted = true;
                quote_line = line;
                field.clear();
            } else if (c == ',') {
                rec.fields.push_back(std::move(field));
                field.clear();
                quoted = false;
            } else if (c == '\r' && i < text.size() && text[i] == '\n') {
                continue;
            } else if (c == '\n') {
                ++line;
                rec.fields.push_back(std::move(field));
                break;
            } else {
                field += c;
            }
        }
        out.push_back(std::move(rec));
    }
    return out;
}

Result<CsvImport<UserRecord>> users_from_csv(std::string_view text,
                                             const match::AddressPolicy& policy) {
    return each_row<UserRecord>(
        text, {"id", "name", "email", "role"},
        [&](const Table& t, std::size_t r, std::string& problem) -> std::optional<UserRecord> {
            UserRecord u;
            auto id = parse_id(t.get(r, "id"));
            if (!id) {
                problem = fmt::format("id: '{}' is not a positive whole number", t.get(r, "id"));
                return std::nullopt;
            }
            u.id = *id;
            u.name = t.get(r, "name");
            u.email = t.get(r, "email");
            u.role = ascii_lower(t.get(r, "role"));
            if (u.role != "salesperson" && u.role != "admin") {
                problem = fmt::format("role: '{}' must be salesperson or admin", u.role);
                return std::nullopt;
            }
            auto c = match::canonical_address(u.email, policy);
            if (!c) {
                problem = fmt::format("email: '{}' is not a valid address", u.email);
                return std::nullopt;
            }
            u.canonical_email = *c;
            return u;
        });
}

Result<CsvImport<CompanyRecord>> companies_from_csv(std::string_view text,
                                                    const match::AddressPolicy& policy) {
    return each_row<CompanyRecord>(
        text, {"id", "name"},
        [&](const Table& t, std::size_t r, std::string& problem) -> std::optional<CompanyRecord> {
            CompanyRecord c;
            auto id = parse_id(t.get(r, "id"));
            if (!id) {
                problem = fmt::format("id: '{}' is not a positive whole number", t.get(r, "id"));
                return std::nullopt;
            }
            c.id = *id;
            c.name = t.get(r, "name");
            if (c.name.empty()) {
                problem = "name: empty";
                return std::nullopt;
            }
            for (const auto& d : split_ws(t.get(r, "domains"))) {
                auto cd = match::canonical_domain(d);
                if (!cd) {
                    problem = fmt::format("domains: '{}' is not a valid domain", d);
                    return std::nullopt;
                }
                if (match::is_free_mail_domain(*cd, policy)) {
                    problem = fmt::format("domains: '{}' is a free-mail domain and cannot "
                                          "identify a company",
                                          d);
                    return std::nullopt;
                }
                c.domains.push_back(*cd);
            }
            return c;
        });
}

Result<CsvImport<ContactRecord>> contacts_from_csv(std::string_view text,
                                                   const match::AddressPolicy& policy) {
    return each_row<ContactRecord>(
        text, {"id", "name", "emails"},
        [&](const Table& t, std::size_t r, std::string& problem) -> std::optional<ContactRecord> {
            ContactRecord c;
            auto id = parse_id(t.get(r, "id"));
            if (!id) {
                problem = fmt::format("id: '{}' is not a positive whole number", t.get(r, "id"));
                return std::nullopt;
            }
            c.id = *id;
            c.name = t.get(r, "name");
            for (const auto& e : split_ws(t.get(r, "emails"))) {
                auto ce = match::canonical_address(e, policy);
                if (!ce) {
                    problem = fmt::format("emails: '{}' is not a valid address", e);
                    return std::nullopt;
                }
                c.emails.emplace_back(*ce, e);
            }
            if (auto co = t.get(r, "company_id"); !co.empty()) {
                auto cid = parse_id(co);
                if (!cid) {
                    problem = fmt::format("company_id: '{}' is not a positive whole number", co);
                    return std::nullopt;
                }
                c.company = *cid;
            }
            return c;
        });
}

Result<CsvImport<DealInput>> deals_from_csv(std::string_view text) {
    return each_row<DealInput>(
        text, {"id", "name"},
        [&](const Table& t, std::size_t r, std::string& problem) -> std::optional<DealInput> {
            DealInput d;
            auto id = parse_id(t.get(r, "id"));
            if (!id) {
                problem = fmt::format("id: '{}' is not a positive whole number", t.get(r, "id"));
                return std::nullopt;
            }
            d.id = *id;
            d.name = t.get(r, "name");
            if (d.name.empty()) {
                problem = "name: empty";
                return std::nullopt;
            }
            auto opt_id = [&](const char* col, std::optional<std::int64_t>& dst) {
                auto v = t.get(r, col);
                if (v.empty())
                    return true;
                auto x = parse_id(v);
                if (!x) {
                    problem = fmt::format("{}: '{}' is not a positive whole number", col, v);
                    return false;
                }
                dst = *x;
                return true;
            };
            if (!opt_id("company_id", d.company) || !opt_id("owner_id", d.owner))
                return std::nullopt;
            for (const auto& c : split_ws(t.get(r, "contact_ids"))) {
                auto x = parse_id(c);
                if (!x) {
                    problem = fmt::format("contact_ids: '{}' is not a positive whole number", c);
                    return std::nullopt;
                }
                d.contacts.push_back(*x);
            }
            d.stage = t.get(r, "stage");
            d.status = ascii_lower(t.get(r, "status"));
            if (d.status.empty())
                d.status = "open";
            if (d.status != "open" && d.status != "won" && d.status != "lost") {
                problem = fmt::format("status: '{}' must be open, won or lost", d.status);
                return std::nullopt;
            }
            d.value = t.get(r, "value");
            if (d.value.empty())
                d.value = "0";
            bool dot = false, ok = !d.value.empty();
            for (char ch : d.value) {
                if (ch == '.' && !dot)
                    dot = true;
                else if (ch < '0' || ch > '9')
                    ok = false;
            }
            if (!ok) {
                problem = fmt::format("value: '{}' is not a decimal number", d.value);
                return std::nullopt;
            }
            d.currency = t.get(r, "currency");
            for (auto& ch : d.currency)
                if (ch >= 'a' && ch <= 'z')
                    ch = static_cast<char>(ch - 'a' + 'A');
            if (!d.currency.empty() &&
                (d.currency.size() != 3 ||
                 !std::all_of(d.currency.begin(), d.currency.end(),
                              [](char ch) { return ch >= 'A' && ch <= 'Z'; }))) {
                problem = fmt::format("currency: '{}' is not an ISO 4217 code", d.currency);
                return std::nullopt;
            }
            const auto shared = ascii_lower(t.get(r, "shared"));
            if (shared == "1" || shared == "true" || shared == "yes")
                d.shared = true;
            else if (!shared.empty() && shared != "0" && shared != "false" && shared != "no") {
                problem = fmt::format("shared: '{}' must be true or false", shared);
                return std::nullopt;
            }
            return d;
        });
}

} // namespace crm::app
