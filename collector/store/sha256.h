#pragma once
// SHA-256 for the store (OpenSSL's libcrypto, linked PRIVATE): the digest of
// each record in the ledger, and the identity of a kernel config the
// collector computes itself rather than taking the agent's word for it.

#include <string>
#include <string_view>

namespace fscanary::store {

// Lowercase hex, 64 characters. Empty only where libcrypto itself fails
// (cannot allocate, or a FIPS provider without SHA-256).
std::string Sha256Hex(std::string_view data);

}  // namespace fscanary::store
