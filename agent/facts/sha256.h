#pragma once
// SHA-256 (OpenSSL's libcrypto), for the kernel config's identity.

#include <string>
#include <string_view>

namespace fscanary::facts {

// Lowercase hex, 64 characters. Empty in the one case libcrypto fails (it
// cannot allocate, or a FIPS provider without SHA-256): a fact left unknown.
std::string Sha256Hex(std::string_view data);

}  // namespace fscanary::facts
