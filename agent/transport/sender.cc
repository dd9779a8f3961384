#include "agent/transport/sender.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <random>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agent/transport/failover.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::transport {
namespace {

std::string GrpcCodeName(grpc::StatusCode code) {
  // gRPC's codes are absl's, number for number.
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError("cannot read " + path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(
    const SenderOptions& options) {
  if (options.tls_ca_file.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  auto ca = ReadFile(options.tls_ca_file);
  if (!ca.ok()) return ca.status();
  ssl.pem_root_certs = *ca;
  if (!options.tls_cert_file.empty()) {
    auto cert = ReadFile(options.tls_cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadFile(options.tls_key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *cert;
    ssl.pem_private_key = *key;
  }
  return grpc::SslCredentials(ssl);
}

int64_t NowNanos() { return static_cast<int64_t>(io::WallClockNanos()); }

std::vector<spool::SequenceRange> Ranges(
    const google::protobuf::RepeatedPtrField<v1::SequenceRange>& ranges) {
  std::vector<spool::SequenceRange> out;
  out.reserve(ranges.size());
  for (const v1::SequenceRange& range : ranges) out.emplace_back(range.first(), range.last());
  return out;
}

// "1-3,7", the first few ranges only: a log line stays a line.
std::string DescribeRanges(std::span<const spool::SequenceRange> ranges) {
  constexpr size_t kMaxRanges = 8;
  std::string text;
  for (size_t i = 0; i < ranges.size() && i < kMaxRanges; ++i) {
    const auto [first, last] = ranges[i];
    if (!text.empty()) text += ",";
    text += first == last ? absl::StrCat(first) : absl::StrCat(first, "-", last);
  }
  if (ranges.size() > kMaxRanges) absl::StrAppend(&text, ",... (", ranges.size(), " ranges)");
  return text;
}

// Collector text, for a log line and a file: printable, bounded.
std::string InertText(std::string_view text) {
  constexpr size_t kMaxBytes = 1024;
  const std::string_view kept = text.substr(0, kMaxBytes);
  return absl::CHexEscape(absl::string_view(kept.data(), kept.size())) +
         (text.size() > kMaxBytes ? "..." : "");
}

}  // namespace

std::string_view RejectionReason(std::string_view reason) {
  // Known words only: the reason becomes a metric label.
  return reason == kConflict ? kConflict : kOtherReason;
}

void Sender::HandleAck(const v1::Ack& ack, InFlight& in_flight) {
  const InFlight::Taken taken = in_flight.Take(Ranges(ack.ranges()));
  if (taken.ignored_ranges > 0) {
    ignored_ += taken.ignored_ranges;
    spdlog::warn(
        "collector acknowledged records not in flight on this stream ({}): ignored, nothing "
        "removed from the spool",
        DescribeRanges(Ranges(ack.ranges())));
  }
  if (taken.records == 0) return;
  if (absl::Status acked = spool_.Acknowledge(taken.ranges); !acked.ok()) {
    spdlog::error("spool: {}", std::string(acked.message()));
  }
  acknowledged_ += taken.records;
}

void Sender::HandleRejection(const v1::Rejection& rejection, InFlight& in_flight) {
  const InFlight::Taken taken = in_flight.Take(Ranges(rejection.ranges()));
  if (taken.ignored_ranges > 0) {
    ignored_ += taken.ignored_ranges;
    spdlog::warn("collector rejected records not in flight on this stream ({}): ignored",
                 DescribeRanges(Ranges(rejection.ranges())));
  }
  if (taken.records == 0) return;
  Quarantine(taken.ranges, RejectionReason(rejection.reason()),
             absl::StrCat("rejected by the collector: ", InertText(rejection.reason()), ": ",
                          InertText(rejection.detail())));
}

void Sender::Quarantine(std::span<const spool::SequenceRange> ranges, std::string_view reason,
                        const std::string& why) {
  const absl::StatusOr<uint64_t> moved = spool_.Quarantine(ranges, why + "\n");
  if (!moved.ok()) {
    // Kept in the spool: the next stream sends them again, and they are
    // rejected (and quarantined) again.
    spdlog::error("records {} ({}) could not be quarantined, kept in the spool: {}",
                  DescribeRanges(ranges), why, std::string(moved.status().message()));
    return;
  }
  {
    std::lock_guard lock(mutex_);
    rejected_[std::string(reason)] += *moved;
  }
  spdlog::error("records {} quarantined, never sent again ({}); see the spool's quarantine/",
                DescribeRanges(ranges), why);
}

void Sender::LogReadErrors() {
  const spool::SpoolStats stats = spool_.Stats();
  if (stats.read_errors == read_errors_logged_) return;
  read_errors_logged_ = stats.read_errors;
  spdlog::warn("spool: a record could not be read ({}); kept, tried again later",
               stats.last_read_error);
}

std::map<std::string, uint64_t> Sender::rejected() const {
  std::lock_guard lock(mutex_);
  return rejected_;
}

Sender::Sender(SenderOptions options, spool::Spool& spool, HelloBuilder hello)
    : options_(std::move(options)), spool_(spool), hello_(std::move(hello)) {}

Sender::~Sender() { Stop(); }

void Sender::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Sender::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  spool_.Wake();
  if (thread_.joinable()) thread_.join();
}

void Sender::Notify() {
  {
    std::lock_guard lock(mutex_);
    notified_ = true;
  }
  wake_.notify_all();
}

bool Sender::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void Sender::Run() {
  std::mt19937_64 random(io::RandomU64());
  const std::vector<std::string> addresses =
      options_.addresses.empty() ? std::vector<std::string>{options_.address} : options_.addresses;
  Failover failover(addresses.size(), options_.backoff_initial_ms, options_.backoff_max_ms);
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    const std::string& address = addresses[failover.current()];
    const uint64_t acknowledged_before = acknowledged_.load();
    const absl::Status status = RunStream(address);
    connected_ = false;
    ++progress_;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // A stream that got records acknowledged was healthy: start over gently.
    const int backoff_ms = failover.StreamEnded(acknowledged_.load() != acknowledged_before);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const int wait_ms = static_cast<int>(backoff_ms * jitter(random));
    if (addresses.size() > 1) {
      spdlog::warn("collector stream to {} ended ({}); connecting to {} in {} ms", address,
                   std::string(status.message()), addresses[failover.current()], wait_ms);
    } else {
      spdlog::warn("collector stream ended ({}); reconnecting in {} ms",
                   std::string(status.message()), wait_ms);
    }
    // Not woken by new records: only Stop() shortens the wait.
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
  }
}

absl::Status Sender::RunStream(const std::string& address) {
  auto credentials = Credentials(options_);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options_.keepalive_time_ms);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options_.keepalive_timeout_ms);
  arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options_.backoff_initial_ms);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options_.backoff_max_ms);
  if (!options_.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(options_.tls_server_name);
  }
  const auto channel = grpc::CreateCustomChannel(address, *credentials, arguments);
  const auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  context.set_wait_for_ready(false);
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::CollectorMessage>> stream =
      stub->Stream(&context);

  v1::AgentMessage hello;
  hello.set_created_unix_nanos(NowNanos());
  *hello.mutable_hello() = hello_();
  if (!stream->Write(hello)) {
    return absl::UnavailableError("could not send the hello (" + stream->Finish().error_message() +
                                  ")");
  }

  InFlight in_flight;
  std::atomic<bool> reader_done{false};
  // When the collector last answered for records (an ack or a rejection),
  // or when records began waiting for one.
  std::atomic<uint64_t> answered_ns{io::MonotonicNanos()};
  std::thread reader([&] {
    v1::CollectorMessage reply;
    while (stream->Read(&reply)) {
      connected_ = true;
      if (reply.has_ack() || reply.has_rejection()) answered_ns = io::MonotonicNanos();
      if (reply.has_ack()) {
        HandleAck(reply.ack(), in_flight);
      } else if (reply.has_rejection()) {
        HandleRejection(reply.rejection(), in_flight);
      } else if (reply.has_hint()) {
        if (options_.on_hint) options_.on_hint(reply.hint());
        continue;
      } else {
        continue;
      }
      ++progress_;
      Notify();
      spool_.Wake();
    }
    reader_done = true;
    Notify();
    spool_.Wake();
  });

  const uint64_t heartbeat_ns = static_cast<uint64_t>(options_.heartbeat_interval_ms) * 1'000'000;
  const uint64_t ack_timeout_ns =
      options_.ack_timeout_ms > 0 ? static_cast<uint64_t>(options_.ack_timeout_ms) * 1'000'000
                                  : std::max<uint64_t>(4 * heartbeat_ns, uint64_t{30'000'000'000});
  bool stalled = false;
  connected_ = true;
  ++progress_;
  spool::SendCursor cursor;
  uint64_t next_heartbeat = io::MonotonicNanos() + heartbeat_ns;
  bool write_failed = false;
  while (!reader_done && !write_failed && !stopping()) {
    const size_t outstanding = in_flight.size();
    size_t sent = 0;
    if (outstanding < options_.window) {
      for (const spool::Record& record : spool_.Pending(options_.window - outstanding, cursor)) {
        cursor.Advance(record);
        v1::AgentMessage message;
        if (!message.ParseFromString(record.payload)) {
          // Cannot happen for records this agent wrote; never block the queue
          // on one, and never lose it either.
          const spool::SequenceRange unparseable[] = {{record.sequence, record.sequence}};
          Quarantine(unparseable, kUnparseable,
                     "the spooled record does not parse as a fscanary.v1.AgentMessage");
          continue;
        }
        message.set_sequence(record.sequence);
        if (in_flight.size() == 0) answered_ns = io::MonotonicNanos();
        in_flight.Add(record.sequence);
        if (!stream->Write(message)) {
          write_failed = true;
          break;
        }
        ++sent;
        ++progress_;
      }
    }
    const uint64_t now = io::MonotonicNanos();
    if (now >= next_heartbeat) {
      v1::AgentMessage heartbeat;
      heartbeat.set_created_unix_nanos(NowNanos());
      const spool::SpoolStats stats = spool_.Stats();
      heartbeat.mutable_heartbeat()->set_spooled_records(stats.records);
      heartbeat.mutable_heartbeat()->set_spooled_bytes(stats.bytes);
      if (!stream->Write(heartbeat)) write_failed = true;
      next_heartbeat = now + heartbeat_ns;
      ++progress_;
    }
    LogReadErrors();
    if (in_flight.size() > 0 && now - std::min(now, answered_ns.load()) >= ack_timeout_ns) {
      stalled = true;
      break;
    }
    if (sent > 0 || write_failed) continue;
    const uint64_t wake_at = in_flight.size() > 0
                                 ? std::min(next_heartbeat, answered_ns.load() + ack_timeout_ns)
                                 : next_heartbeat;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::nanoseconds(wake_at - std::min(now, wake_at));
    if (outstanding < options_.window) {
      // New records, an ack that opened the window, the stream's end or Stop() wake it.
      spool_.WaitForRecords(cursor, deadline);
    } else {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, deadline, [this] { return stopping_ || notified_; });
      notified_ = false;
    }
  }
  // Cancel only a stream the collector has not ended itself: cancelling would
  // replace the collector's reason (unauthenticated, invalid argument) with
  // CANCELLED, and the operator would not see why the agent cannot deliver.
  const bool ended_by_collector = reader_done.load();
  if (!ended_by_collector) context.TryCancel();
  reader.join();
  const grpc::Status finish = stream->Finish();
  if (stalled) {
    return absl::UnavailableError(absl::StrCat(
        "no acknowledgement for ", absl::FormatDuration(absl::Nanoseconds(ack_timeout_ns)),
        " while records waited: the collector is stalled; trying the next one"));
  }
  const std::string reason =
      finish.error_message().empty() ? "stream closed" : finish.error_message();
  return absl::UnavailableError(
      ended_by_collector
          ? "collector ended the stream: " + GrpcCodeName(finish.error_code()) + ": " + reason
          : reason);
}

}  // namespace fscanary::transport
