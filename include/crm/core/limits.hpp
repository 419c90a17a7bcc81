#pragma once
// Limits more than one module enforces.

#include <cstddef>

namespace crm {

// The largest request body the HTTP API reads (a reply with its text); [http]
// max_body_bytes_in_flight must allow at least one.
inline constexpr std::size_t kMaxRequestBody = std::size_t{2} << 20;

} // namespace crm
