#pragma once
// SHA-256 (OpenSSL's libcrypto): the kernel config's identity, record digests.

#include <string>
#include <string_view>

namespace fscanary::digest {

// Lowercase hex, 64 characters. Empty in the one case libcrypto fails (it
// cannot allocate, or a FIPS provider without SHA-256): a fact left unknown.
std::string Sha256Hex(std::string_view data);

}  // namespace fscanary::digest
