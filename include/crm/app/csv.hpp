#pragma once
// CRM records from CSV (RFC 4180: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM).
// A header row names the columns, in any order; unknown columns are ignored. Pure.

#include <string>
#include <string_view>
#include <vector>

#include "crm/core/crm_records.hpp"
#include "crm/core/result.hpp"
#include "crm/match/address.hpp"

namespace crm::app {

// A bad row: its 1-based line number in the file and what is wrong.
struct CsvProblem {
    std::size_t line = 0;
    std::string what;
};

template <class T> struct CsvImport {
    std::vector<T> rows;
    std::vector<CsvProblem> problems;
};

// Splits CSV text into records of fields, each with the line it starts on. Errors:
// "csv.syntax" (unterminated quote) naming the line.
struct CsvRecord {
    std::size_t line = 0;
    std::vector<std::string> fields;
};
Result<std::vector<CsvRecord>> parse_csv(std::string_view text);

// Each returns the valid rows and a problem per bad row; a missing required column is an
// error ("csv.header"). Addresses and domains are canonicalised with `policy`.
Result<CsvImport<UserRecord>> users_from_csv(std::string_view text,
                                             const match::AddressPolicy& policy = {});
Result<CsvImport<CompanyRecord>> companies_from_csv(std::string_view text,
                                                    const match::AddressPolicy& policy = {});
Result<CsvImport<ContactRecord>> contacts_from_csv(std::string_view text,
                                                   const match::AddressPolicy& policy = {});
Result<CsvImport<DealInput>> deals_from_csv(std::string_view text);

} // namespace crm::app
