#pragma once
// CRM records as imported (CSV) and stored. Addresses and domains canonical where marked.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crm/core/ids.hpp"
#include "crm/core/result.hpp"

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

// The CRM's own records as crm-mailctl imports them (CSV). Upserts keyed by id; the id given is
// kept. Implemented by the store.
class CrmRecords {
  public:
    virtual ~CrmRecords() = default;
    virtual Result<void> upsert_user(const UserRecord& u, std::int64_t now) = 0;
    virtual Result<void> upsert_company(const CompanyRecord& c, std::int64_t now) = 0;
    virtual Result<void> upsert_contact(const ContactRecord& c, std::int64_t now) = 0;
    virtual Result<void> upsert_deal(const DealInput& d, std::int64_t now) = 0;
    virtual Result<std::vector<UserId>> users() = 0;
};

} // namespace crm
