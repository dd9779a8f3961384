#include "collector/service/stream_limits.h"

#include <grpcpp/server_context.h>

namespace fscanary::collector {
namespace {

// How often the watchdog looks: a timeout fires at most this late.
constexpr auto kWatchdogTick = std::chrono::milliseconds(200);

int64_t ToNs(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

}  // namespace

StreamLimits::StreamLimits(StreamLimitOptions options, metrics::Registry& registry)
    : options_(options) {
  if (auto refused = registry.AddCounter(
          "fscanary_collector_streams_refused_total",
          "Ingest streams refused or ended for a limit: max_streams, max_streams_per_agent, "
          "hello_timeout, idle_timeout.");
      refused.ok()) {
    refused_ = *refused;
    for (const char* reason :
         {"max_streams", "max_streams_per_agent", "hello_timeout", "idle_timeout"}) {
      (void)refused_->Add({{"reason", reason}});
    }
  }
  if (auto open = registry.AddGauge("fscanary_collector_streams_open",
                                    "Ingest streams open now, Hello said or not.");
      open.ok()) {
    if (auto gauge = (*open)->Add({}); gauge.ok()) open_ = *gauge;
  }
  watchdog_ = std::thread([this] { Watch(); });
}

StreamLimits::~StreamLimits() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
}

int64_t StreamLimits::NowNs() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void StreamLimits::Count(metrics::Family<metrics::Counter>* family, const std::string& reason) {
  if (family == nullptr) return;
  if (auto counter = family->Add({{"reason", reason}}); counter.ok()) (*counter)->Increment();
}

absl::StatusOr<std::unique_ptr<StreamLimits::Ticket>> StreamLimits::Open(
    grpc::ServerContextBase& context) {
  auto entry = std::make_unique<Entry>();
  entry->context = &context;
  entry->deadline_ns = NowNs() + ToNs(options_.hello_timeout);
  {
    std::lock_guard lock(mutex_);
    if (entries_.size() >= options_.max_streams) {
      Count(refused_, "max_streams");
      return absl::ResourceExhaustedError("the collector holds its max_streams (" +
                                          std::to_string(options_.max_streams) +
                                          ") open streams; try again later");
    }
    entries_.insert(entry.get());
  }
  if (open_ != nullptr) open_->Increment();
  return std::unique_ptr<Ticket>(new Ticket(*this, std::move(entry)));
}

void StreamLimits::Release(Entry* entry, const std::string& agent_id) {
  {
    std::lock_guard lock(mutex_);
    entries_.erase(entry);
    if (!agent_id.empty()) {
      if (auto it = per_agent_.find(agent_id); it != per_agent_.end() && --it->second == 0) {
        per_agent_.erase(it);
      }
    }
  }
  if (open_ != nullptr) open_->Decrement();
}

void StreamLimits::Watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const int64_t now = NowNs();
    for (Entry* entry : entries_) {
      if (!entry->expired.empty() || now < entry->deadline_ns.load()) continue;
      entry->expired = entry->said_hello.load() ? "idle_timeout" : "hello_timeout";
      Count(refused_, entry->expired);
      // Under mutex_: the stream's Ticket (and its context) cannot go away
      // while it is cancelled.
      entry->context->TryCancel();
    }
    wake_.wait_for(lock, kWatchdogTick, [this] { return stopping_; });
  }
}

StreamLimits::Ticket::~Ticket() { limits_.Release(entry_.get(), agent_id_); }

absl::Status StreamLimits::Ticket::Claim(const std::string& agent_id) {
  if (!agent_id_.empty()) {
    if (agent_id == agent_id_) return absl::OkStatus();
    return absl::InternalError("a stream claimed for " + agent_id_ + " cannot carry " + agent_id);
  }
  std::lock_guard lock(limits_.mutex_);
  uint32_t& streams = limits_.per_agent_[agent_id];
  if (streams >= limits_.options_.max_streams_per_agent) {
    if (streams == 0) limits_.per_agent_.erase(agent_id);
    limits_.Count(limits_.refused_, "max_streams_per_agent");
    return absl::ResourceExhaustedError("agent " + agent_id + " holds its max_streams_per_agent (" +
                                        std::to_string(limits_.options_.max_streams_per_agent) +
                                        ") open streams");
  }
  ++streams;
  agent_id_ = agent_id;
  return absl::OkStatus();
}

void StreamLimits::Ticket::SaidHello() {
  entry_->said_hello = true;
  Heard();
}

void StreamLimits::Ticket::Heard() {
  if (!entry_->said_hello.load()) return;  // the Hello deadline stands until the Hello
  entry_->deadline_ns = limits_.NowNs() + ToNs(limits_.options_.idle_timeout);
}

std::string StreamLimits::Ticket::expired() const {
  std::lock_guard lock(limits_.mutex_);
  return entry_->expired;
}

}  // namespace fscanary::collector
