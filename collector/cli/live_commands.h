#pragma once
// The operator CLI's questions to a running collector (its Query service):
// the hosts, the newest findings, one host in full, the live analysis.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "fscanary/v1/query.pb.h"

namespace fscanary::cli {

struct CollectorConnection {
  // host:port or unix:/path: the collector's listener (an operator token or
  // certificate needed) or its admin listener (none).
  std::string address = "127.0.0.1:7420";
  int timeout_ms = 30'000;
  // PEM CA of the collector's certificate; empty: plaintext.
  std::string ca_file;
  // A file holding only the operator's token, sent as a bearer token.
  std::string token_file;
  // PEM client certificate and key, for a collector under mutual TLS.
  std::string cert_file;
  std::string key_file;
};

absl::Status RunHosts(const CollectorConnection& connection, bool json, std::ostream& out);

struct FindingsRequest {
  std::string host;           // empty: every host
  int64_t since_seconds = 0;  // only findings received in the last N seconds; 0: all
  uint32_t limit = 100;
  bool json = false;
};
absl::Status RunFindings(const CollectorConnection& connection, const FindingsRequest& request,
                         std::ostream& out);

absl::Status RunHost(const CollectorConnection& connection, const std::string& agent_id, bool json,
                     std::ostream& out);

// Per known corruption bug of the collector's table, how many hosts run a
// configuration it needs; with `hosts`, which and why.
absl::Status RunKnownBugs(const CollectorConnection& connection, bool hosts, bool json,
                          std::ostream& out);

// The report of `fscanary analyze --input`, computed by the collector over
// the epochs it holds. Notes go to `err`.
absl::Status RunLiveAnalyze(const CollectorConnection& connection,
                            const v1::AnalyzeRequest& request, std::ostream& out,
                            std::ostream& err);

}  // namespace fscanary::cli
