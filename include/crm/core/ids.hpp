#pragma once
#include <cstdint>

namespace crm {
using UserId = std::int64_t;
using CompanyId = std::int64_t;
using ContactId = std::int64_t;
using DealId = std::int64_t;
using ThreadId = std::int64_t;
using MessageRowId = std::int64_t;
using AccountId = std::int64_t;
} // namespace crm
