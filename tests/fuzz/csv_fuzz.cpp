// Fuzz target: the CRM CSV importer (app::parse_csv and the four record readers) on arbitrary
// bytes. Aborts when a reader crashes, names a line the text does not have, returns a user or
// contact address that is not canonical, or when parse_csv does not read back what it read,
// written again in RFC 4180 form (every field quoted, quotes doubled).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "crm/app/csv.hpp"
#include "crm/match/address.hpp"

namespace {

void check(bool ok) {
    if (!ok)
        std::abort();
}

std::string quoted(const std::vector<crm::app::CsvRecord>& records) {
    std::string out;
    for (const auto& r : records) {
        for (std::size_t i = 0; i < r.fields.size(); ++i) {
            if (i)
                out += ',';
            out += '"';
            for (char c : r.fields[i]) {
                if (c == '"')
                    out += '"';
                out += c;
            }
            out += '"';
        }
        out += "\r\n";
    }
    return out;
}

template <class T> void lines_in_range(const crm::app::CsvImport<T>& imp, std::size_t lines) {
    for (const auto& p : imp.problems)
        check(p.line >= 1 && p.line <= lines && !p.what.empty());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) +
                              static_cast<std::size_t>(std::count(text.begin(), text.end(), '\r')) + 1;
    auto records = crm::app::parse_csv(text);
    if (records) {
        for (const auto& r : *records)
            check(r.line >= 1 && r.line <= lines);
        // Written again with every field quoted, the same records come back (BOM and line
        // numbers aside).
        const std::string again = quoted(*records);
        auto back = crm::app::parse_csv(again);
        check(back.has_value());
        std::vector<std::vector<std::string>> a, b;
        for (const auto& r : *records)
            a.push_back(r.fields);
        for (const auto& r : *back)
            b.push_back(r.fields);
        // parse_csv may skip blank lines: compare the non-empty records.
        auto empty = [](const std::vector<std::string>& f) {
            return f.empty() || (f.size() == 1 && f[0].empty());
        };
        std::erase_if(a, empty);
        std::erase_if(b, empty);
        check(a == b);
    }
    if (auto users = crm::app::users_from_csv(text)) {
        lines_in_range(*users, lines);
        for (const auto& u : users->rows)
            check(crm::match::canonical_address(u.canonical_email) == u.canonical_email);
    }
    if (auto companies = crm::app::companies_from_csv(text))
        lines_in_range(*companies, lines);
    if (auto contacts = crm::app::contacts_from_csv(text)) {
        lines_in_range(*contacts, lines);
        for (const auto& c : contacts->rows)
            for (const auto& e : c.emails)
                check(crm::match::canonical_address(e.first) == e.first);
    }
    if (auto deals = crm::app::deals_from_csv(text))
        lines_in_range(*deals, lines);
    return 0;
}
