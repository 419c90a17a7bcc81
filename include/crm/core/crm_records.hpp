#pragma once
// CRM records as imported (CSV) and stored. Addresses and domains canonical where marked.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"

namespace crm {

struct UserRecord {
    UserId id = 0;
    std::string name;
    std::string email;           // as entered
    std::string canonical_email; // canonical
    std::string role;            // salesperson | admin
};
struct CompanyRecord {
    CompanyId id = 0;
    std::string name;
    std::vector<std::string> domains; // canonical
};
struct ContactRecord {
    ContactId id = 0;
    std::string name;
    std::vector<std::pair<std::string, std::string>> emails; // {canonical, as entered}
    std::optional<CompanyId> company;
};
struct DealInput {
    DealId id = 0;
    std::string name;
    std::optional<CompanyId> company;
    std::vector<ContactId> contacts;
    std::optional<UserId> owner;
    std::string stage;
    std::string status; // open | won | lost
    std::string value;  // decimal string
    std::string currency;
    bool shared = false; // visible to every salesperson, not only its owner
};

} // namespace crm
