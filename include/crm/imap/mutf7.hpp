#pragma once
// Modified UTF-7 for mailbox names (RFC 3501 §5.1.3). Pure.

#include <string>
#include <string_view>

#include "crm/core/result.hpp"

namespace crm::imap {

// UTF-8 -> modified UTF-7: printable ASCII as is except '&' -> "&-", everything else as
// "&" modified-BASE64(UTF-16BE) "-". Errors "imap.mutf7" on invalid UTF-8 (overlong, surrogate
// code points, > U+10FFFF, truncated).
[[nodiscard]] Result<std::string> mutf7_encode(std::string_view utf8);

// Modified UTF-7 -> UTF-8. Errors "imap.mutf7" on: bytes outside printable ASCII, unterminated
// or empty-but-not-"&-" shifts, characters outside the modified BASE64 alphabet, non-zero
// padding bits, lone or reversed UTF-16 surrogates, and shifted printable ASCII (RFC 3501
// forbids encoding those).
[[nodiscard]] Result<std::string> mutf7_decode(std::string_view mutf7);

} // namespace crm::imap
