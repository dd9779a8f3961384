#include "collector/cli/live_commands.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <ctime>
#include <ostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "collector/cli/collector_channel.h"
#include "collector/cli/terminal_text.h"
#include "collector/fleet/host_attributes.h"
#include "fscanary/v1/query.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

namespace fscanary::cli {
namespace {

absl::Status FromGrpc(const grpc::Status& status, const CollectorConnection& connection) {
  if (status.ok()) return absl::OkStatus();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(
        absl::StrCat("collector ", connection.address,
                     " is not reachable: ", TerminalSafe(status.error_message())));
  }
  return absl::Status(
      static_cast<absl::StatusCode>(status.error_code()),
      absl::StrCat("collector ", connection.address, ": ", TerminalSafe(status.error_message())));
}

// Calls one unary Query method with the connection's deadline.
template <typename Request, typename Response, typename Method>
absl::Status Call(const CollectorConnection& connection, Method method, const Request& request,
                  Response& response) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = OpenChannel(connection);
  if (!channel.ok()) return channel.status();
  v1::Query::Stub stub(*channel);
  grpc::ClientContext context;
  if (absl::Status token = AddToken(connection, context); !token.ok()) return token;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(connection.timeout_ms));
  return FromGrpc((stub.*method)(&context, request, &response), connection);
}

absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string text;
  const auto converted = google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!converted.ok()) return absl::InternalError(std::string(converted.message()));
  out << text;
  if (text.empty() || text.back() != '\n') out << "\n";
  return absl::OkStatus();
}

std::string Time(int64_t unix_nanos) {
  if (unix_nanos == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixNanos(unix_nanos),
                          absl::UTCTimeZone());
}

std::string Bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrCat(bytes, " B") : absl::StrFormat("%.1f %s", value, units[unit]);
}

// Where a finding is: a path in a metadata tree, a device the kernel named,
// or a byte offset in a block target.
std::string WhereOf(const v1::Finding& finding) {
  if (!finding.path().empty()) return TerminalSafe(finding.path());
  if (finding.kind() == v1::KERNEL_REPORTED) return TerminalSafe(finding.device());
  return absl::StrCat(finding.offset());
}

void PrintFindingLine(const v1::StoredFinding& stored, std::ostream& out) {
  const v1::Finding& finding = stored.finding();
  out << absl::StrFormat(
      "%-20s  %-24s  %-18s  %-10s  %-8s  %-12s  %s\n", Time(stored.received_unix_nanos()),
      TerminalSafe(stored.agent_id()), fleet::KindName(finding.kind()),
      finding.persistent() ? "persistent" : "transient", TerminalSafe(finding.target()),
      TerminalSafe(finding.checker()), WhereOf(finding));
}

void PrintFindingsHeader(std::ostream& out) {
  out << absl::StrFormat("%-20s  %-24s  %-18s  %-10s  %-8s  %-12s  %s\n", "RECEIVED", "HOST",
                         "KIND", "", "TARGET", "CHECKER", "WHERE");
}

}  // namespace

absl::Status RunHosts(const CollectorConnection& connection, bool json, std::ostream& out) {
  // The collector answers a page at a time; every page, as one list.
  v1::ListHostsResponse response;
  v1::ListHostsRequest page_request;
  do {
    v1::ListHostsResponse page;
    if (absl::Status called = Call(connection, &v1::Query::Stub::ListHosts, page_request, page);
        !called.ok()) {
      return called;
    }
    page_request.set_page_token(page.next_page_token());
    for (v1::HostSummary& host : *page.mutable_hosts()) *response.add_hosts() = std::move(host);
  } while (!page_request.page_token().empty());
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("%-24s  %-20s  %-24s  %-9s  %-20s  %8s  %12s  %s\n", "HOST", "HOSTNAME",
                         "KERNEL", "CONNECTED", "LAST SEEN", "FINDINGS", "VERIFIED", "EPOCHS");
  for (const v1::HostSummary& host : response.hosts()) {
    out << absl::StrFormat("%-24s  %-20s  %-24s  %-9s  %-20s  %8d  %12s  %d\n",
                           TerminalSafe(host.agent_id()), TerminalSafe(host.hostname()),
                           TerminalSafe(host.kernel_release()), host.connected() ? "yes" : "no",
                           Time(host.last_seen_unix_nanos()), host.findings(),
                           Bytes(host.bytes_verified()), host.epochs());
  }
  out << response.hosts_size() << " hosts\n";
  return absl::OkStatus();
}

absl::Status RunFindings(const CollectorConnection& connection, const FindingsRequest& request,
                         std::ostream& out) {
  v1::ListFindingsRequest query;
  query.set_agent_id(request.host);
  query.set_limit(request.limit);
  if (request.since_seconds > 0) {
    query.set_since_unix_nanos(absl::ToUnixNanos(absl::Now()) -
                               request.since_seconds * 1'000'000'000);
  }
  // Pages until `limit` findings (a collector from before pagination
  // answers `limit` in one).
  v1::ListFindingsResponse response;
  do {
    query.set_page_size(request.limit - static_cast<uint32_t>(response.findings_size()));
    v1::ListFindingsResponse page;
    if (absl::Status called = Call(connection, &v1::Query::Stub::ListFindings, query, page);
        !called.ok()) {
      return called;
    }
    query.set_page_token(page.next_page_token());
    for (v1::StoredFinding& stored : *page.mutable_findings()) {
      *response.add_findings() = std::move(stored);
    }
  } while (!query.page_token().empty() &&
           static_cast<uint32_t>(response.findings_size()) < request.limit);
  if (request.json) return PrintJson(response, out);
  PrintFindingsHeader(out);
  for (const v1::StoredFinding& stored : response.findings()) PrintFindingLine(stored, out);
  out << response.findings_size() << " findings\n";
  return absl::OkStatus();
}

absl::Status RunHost(const CollectorConnection& connection, const std::string& agent_id, bool json,
                     std::ostream& out) {
  v1::GetHostRequest request;
  request.set_agent_id(agent_id);
  v1::GetHostResponse response;
  if (absl::Status called = Call(connection, &v1::Query::Stub::GetHost, request, response);
      !called.ok()) {
    return called;
  }
  if (json) return PrintJson(response, out);
  const v1::HostSummary& host = response.host();
  out << "host " << TerminalSafe(host.agent_id()) << " (" << TerminalSafe(host.hostname())
      << "), agent " << TerminalSafe(host.agent_version()) << ", "
      << (host.connected() ? "connected" : "not connected") << ", last seen "
      << Time(host.last_seen_unix_nanos()) << "\n";
  out << "verified " << Bytes(host.bytes_verified()) << ", " << host.findings() << " findings\n";
  for (const v1::CheckerHealth& checker : response.checkers()) {
    out << "checker " << TerminalSafe(checker.checker()) << " on " << TerminalSafe(checker.target())
        << ": ";
    if (checker.consecutive_failures() == 0) {
      out << "healthy";
    } else {
      out << "FAILING (" << checker.consecutive_failures() << " steps in a row; healthy last "
          << (checker.last_healthy_unix_nanos() == 0 ? "never"
                                                     : Time(checker.last_healthy_unix_nanos()))
          << ")";
    }
    out << ", " << checker.failed_steps() << " failed steps";
    if (!checker.last_error().empty())
      out << "; last error: " << TerminalSafe(checker.last_error());
    out << "\n";
  }
  for (const v1::HostEpoch& epoch : response.epochs()) {
    const v1::HostFacts& facts = epoch.facts();
    out << "\nepoch " << epoch.epoch() << ": " << Time(epoch.start_unix_nanos()) << " .. "
        << (epoch.end_unix_nanos() == 0 ? "now" : Time(epoch.end_unix_nanos())) << ", verified "
        << Bytes(epoch.bytes_verified()) << ", " << epoch.findings() << " findings\n";
    out << "  kernel " << TerminalSafe(facts.kernel_release()) << " ("
        << facts.kernel_config().size() << " config options"
        << (facts.kernel_config_sha256().empty() ? "" : ", sha256 ")
        << TerminalSafe(facts.kernel_config_sha256().substr(0, 12)) << "), "
        << TerminalSafe(facts.distro_pretty()) << ", virtualization "
        << TerminalSafe(facts.virtualization()) << "\n";
    for (const v1::BlockDeviceFacts& device : facts.devices()) {
      out << absl::StrFormat(
          "  device %-8s %-9s driver=%s blk_mq=%s scheduler=%s nr_hw_queues=%d nr_requests=%d "
          "write_cache=%s merges=%s max_sectors_kb=%d target=%s\n",
          TerminalSafe(device.name()), TerminalSafe(device.type()), TerminalSafe(device.driver()),
          TerminalSafe(device.blk_mq()), TerminalSafe(device.scheduler()), device.nr_hw_queues(),
          device.nr_requests(), TerminalSafe(device.write_cache()), TerminalSafe(device.merges()),
          device.max_sectors_kb(), TerminalSafe(device.target()));
    }
    for (const v1::FilesystemFacts& filesystem : facts.filesystems()) {
      out << "  filesystem " << TerminalSafe(filesystem.fs_type()) << " on "
          << TerminalSafe(filesystem.mount_point()) << " ("
          << TerminalSafe(filesystem.mount_options())
          << ") target=" << TerminalSafe(filesystem.target()) << "\n";
    }
  }
  if (response.findings_size() > 0) {
    out << "\n";
    PrintFindingsHeader(out);
    for (const v1::StoredFinding& stored : response.findings()) {
      PrintFindingLine(stored, out);
      const std::string& summary = stored.finding().evidence_summary();
      if (!summary.empty()) out << "    " << TerminalSafe(summary) << "\n";
      if (!stored.finding().evidence_path().empty()) {
        out << "    evidence on the host: " << TerminalSafe(stored.finding().evidence_path())
            << "\n";
      }
    }
  }
  return absl::OkStatus();
}

absl::Status RunKnownBugs(const CollectorConnection& connection, bool hosts, bool json,
                          std::ostream& out) {
  v1::KnownBugsResponse response;
  if (absl::Status called =
          Call(connection, &v1::Query::Stub::KnownBugs, v1::KnownBugsRequest(), response);
      !called.ok()) {
    return called;
  }
  if (json) return PrintJson(response, out);
  out << absl::StrFormat("%-34s  %8s  %8s  %-12s  %s\n", "BUG", "AFFECTED", "POSSIBLY", "FIXED BY",
                         "TITLE");
  for (const v1::KnownBugExposure& bug : response.bugs()) {
    out << absl::StrFormat("%-34s  %8d  %8d  %-12s  %s\n", TerminalSafe(bug.bug()), bug.affected(),
                           bug.possibly_affected(), TerminalSafe(bug.fix_commit().substr(0, 12)),
                           TerminalSafe(bug.title()));
    if (!hosts) continue;
    for (const v1::KnownBugHost& host : bug.hosts()) {
      out << "    " << TerminalSafe(host.agent_id()) << " " << TerminalSafe(host.verdict());
      const char* separator = ": ";
      for (const std::string& why : host.why()) {
        out << separator << TerminalSafe(why);
        separator = "; ";
      }
      out << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status RunLiveAnalyze(const CollectorConnection& connection,
                            const v1::AnalyzeRequest& request, std::ostream& out,
                            std::ostream& err) {
  v1::AnalyzeResponse response;
  if (absl::Status called = Call(connection, &v1::Query::Stub::Analyze, request, response);
      !called.ok()) {
    return called;
  }
  if (request.json()) {
    for (const std::string& note : response.notes()) {
      err << "note: " << TerminalSafe(note) << "\n";
    }
    // JSON: the encoder escaped every control character already.
    out << response.report();
  } else {
    // The text report quotes attribute values agents sent.
    out << TerminalSafeLines(response.report());
  }
  out.flush();
  return absl::OkStatus();
}

}  // namespace fscanary::cli
