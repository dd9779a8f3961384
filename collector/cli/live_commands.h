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
  // host:port or unix:/path. Plaintext: the collector's admin listener, or
  // its main listener on loopback without TLS.
  std::string address = "127.0.0.1:7420";
  int timeout_ms = 30'000;
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

// The report of `fscanary analyze --input`, computed by the collector over
// the epochs it holds. Notes go to `err`.
absl::Status RunLiveAnalyze(const CollectorConnection& connection,
                            const v1::AnalyzeRequest& request, std::ostream& out,
                            std::ostream& err);

}  // namespace fscanary::cli
