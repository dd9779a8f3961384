// Many simulated agents over real gRPC Ingest streams (the callback API).
#include "tests/bench/loadgen/fleet.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <array>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_format.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "tests/e2e/raw_agent.h"

namespace fscanary::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

Clock::duration Seconds(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// What a fleet of VMs plausibly runs; each agent draws one of each.
constexpr std::array kKernels = {"6.1.0-18-amd64",  "6.1.0-21-amd64",   "6.1.0-25-amd64",
                                 "5.10.0-28-amd64", "6.5.0-35-generic", "5.15.0-105-generic"};
constexpr std::array kSchedulers = {"mq-deadline", "none", "bfq", "kyber"};
constexpr std::array kDrivers = {"virtio_blk", "virtio_scsi", "nvme"};
constexpr std::array kFilesystems = {"ext4", "xfs"};

template <typename Array>
const char* Draw(const Array& values, std::mt19937_64& random) {
  return values[random() % values.size()];
}

v1::AgentMessage PlausibleHello(const std::string& agent_id, std::mt19937_64& random) {
  v1::HostFacts facts = e2e::VmFacts(Draw(kKernels, random), Draw(kSchedulers, random));
  facts.set_hostname(agent_id);
  facts.set_boot_id(absl::StrFormat("%016x%016x", random(), random()));
  facts.set_distro_id("debian");
  facts.set_distro_version("12");
  facts.set_virtualization("kvm");
  facts.mutable_devices(0)->set_driver(Draw(kDrivers, random));
  facts.mutable_filesystems(0)->set_fs_type(Draw(kFilesystems, random));
  return e2e::Hello(agent_id, facts, "loadgen");
}

absl::StatusOr<std::map<std::string, std::string>> ReadTokens(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError("the tokens file " + path + " cannot be read");
  std::map<std::string, std::string> tokens;
  std::string line;
  while (std::getline(file, line)) {
    std::istringstream words(line);
    std::string id;
    std::string token;
    if (!(words >> id) || id.starts_with("#")) continue;
    if (!(words >> token)) return absl::InvalidArgumentError("a line of " + path + " has no token");
    tokens[id] = token;
  }
  return tokens;
}

}  // namespace

std::string AgentId(const std::string& prefix, int index) {
  return absl::StrFormat("%s-%06d", prefix, index + 1);
}

std::string TokensFileText(const std::string& prefix, int agents, uint64_t seed) {
  std::mt19937_64 random(seed ^ 0x746f6b656e73ULL);
  std::string text = "# agent_id token (written by fscanary-loadgen)\n";
  for (int index = 0; index < agents; ++index) {
    text += absl::StrFormat("%s %016x%016x\n", AgentId(prefix, index), random(), random());
  }
  return text;
}

struct Fleet::Atomics {
  std::atomic<uint64_t> records_sent{0}, records_written{0}, records_acknowledged{0},
      duplicate_acks{0}, unexpected_acks{0}, records_rejected{0}, reports{0}, findings{0},
      heartbeats{0}, backlog_bursts{0}, hellos{0}, planned_reconnects{0}, stream_failures{0},
      open_streams{0}, agents_connected{0};
};

struct Record {
  v1::AgentMessage message;
  Clock::time_point made;
};

struct Fleet::Agent {
  int index = 0;
  std::string id;
  std::string token;
  v1::AgentMessage hello;
  int address = 0;
  bool ever_connected = false;  // scheduler thread only

  std::mutex mutex;
  uint64_t next_sequence = 1;
  // Sent and not yet acknowledged: sent again on the next stream.
  std::map<uint64_t, Record> pending;
  std::shared_ptr<Stream> stream;
  Clock::time_point last_sent;
};

// One Ingest stream of one agent. Writes go out one at a time from a queue;
// a hold keeps the call open until the read side ended and no write is in
// flight, so Send() from the scheduler never races OnDone.
class Fleet::Stream : public grpc::ClientBidiReactor<v1::AgentMessage, v1::CollectorMessage> {
 public:
  Stream(Fleet& fleet, Agent& agent) : fleet_(fleet), agent_(agent) {}

  void Start(v1::Ingest::Stub& stub, std::vector<v1::AgentMessage> first) {
    if (!agent_.token.empty()) context_.AddMetadata("authorization", "Bearer " + agent_.token);
    stub.async()->Stream(&context_, this);
    AddHold();
    StartRead(&incoming_);
    {
      std::lock_guard lock(mutex_);
      for (v1::AgentMessage& message : first) queue_.push_back(std::move(message));
    }
    StartCall();
    Kick();
  }

  // False once the stream is closing (the record stays pending).
  bool Send(v1::AgentMessage message) {
    {
      std::lock_guard lock(mutex_);
      if (closing_) return false;
      queue_.push_back(std::move(message));
    }
    Kick();
    return true;
  }

  void Cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    context_.TryCancel();
  }

  void OnWriteDone(bool ok) override {
    bool hello = false;
    bool record = false;
    {
      std::lock_guard lock(mutex_);
      writing_ = false;
      hello = current_.has_hello();
      record = current_.sequence() != 0;
      if (!ok) closing_ = true;
    }
    if (ok && hello) fleet_.counts_->hellos.fetch_add(1);
    if (ok && record) fleet_.counts_->records_written.fetch_add(1);
    Kick();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      {
        std::lock_guard lock(mutex_);
        closing_ = true;
      }
      Kick();
      return;
    }
    if (incoming_.has_ack()) {
      for (const v1::SequenceRange& range : incoming_.ack().ranges()) {
        fleet_.Acknowledged(agent_, this, range.first(), range.last());
      }
    } else if (incoming_.has_rejection()) {
      for (const v1::SequenceRange& range : incoming_.rejection().ranges()) {
        fleet_.Rejected(agent_, this, range.first(), range.last());
      }
    }
    StartRead(&incoming_);
  }

  void OnDone(const grpc::Status& status) override {
    bool cancelled = false;
    {
      std::lock_guard lock(mutex_);
      cancelled = cancelled_;
    }
    (void)status;
    fleet_.StreamEnded(agent_, cancelled);  // may destroy this
  }

 private:
  // Starts the next write, or releases the hold once closing and idle.
  void Kick() {
    bool release = false;
    {
      std::lock_guard lock(mutex_);
      if (writing_) return;
      if (!closing_ && !queue_.empty()) {
        current_ = std::move(queue_.front());
        queue_.pop_front();
        writing_ = true;
      } else if (closing_ && !released_) {
        released_ = true;
        release = true;
      } else {
        return;
      }
    }
    if (release) {
      RemoveHold();
    } else {
      StartWrite(&current_);
    }
  }

  Fleet& fleet_;
  Agent& agent_;
  grpc::ClientContext context_;
  v1::CollectorMessage incoming_;
  std::mutex mutex_;
  std::deque<v1::AgentMessage> queue_;
  v1::AgentMessage current_;
  bool writing_ = false;
  bool closing_ = false;
  bool released_ = false;
  bool cancelled_ = false;
};

Fleet::Fleet(LoadOptions options)
    : options_(std::move(options)), random_(options_.seed), counts_(std::make_unique<Atomics>()) {}

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Start(const LoadOptions& options) {
  if (options.addresses.empty()) return absl::InvalidArgumentError("no collector address");
  std::map<std::string, std::string> tokens;
  if (!options.tokens_file.empty()) {
    absl::StatusOr<std::map<std::string, std::string>> read = ReadTokens(options.tokens_file);
    if (!read.ok()) return read.status();
    tokens = std::move(*read);
  }
  std::unique_ptr<Fleet> fleet(new Fleet(options));
  for (const std::string& address : options.addresses) {
    for (int channel = 0; channel < options.channels_per_address; ++channel) {
      grpc::ChannelArguments arguments;
      // Its own TCP connection per channel, not one shared subchannel.
      arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      arguments.SetInt("fscanary.loadgen.channel", channel);
      arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30'000);
      fleet->channels_.push_back(
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments));
      fleet->stubs_.push_back(std::make_unique<v1::Ingest::Stub>(fleet->channels_.back()));
    }
  }
  std::mt19937_64 facts_random(options.seed);
  for (int index = 0; index < options.agents; ++index) {
    auto agent = std::make_unique<Agent>();
    agent->index = index;
    agent->id = AgentId(options.agent_prefix, index);
    if (!options.tokens_file.empty()) {
      const auto token = tokens.find(agent->id);
      if (token == tokens.end()) {
        return absl::NotFoundError("agent " + agent->id + " is not in " + options.tokens_file);
      }
      agent->token = token->second;
    }
    agent->hello = PlausibleHello(agent->id, facts_random);
    agent->address = index % static_cast<int>(options.addresses.size());
    fleet->agents_.push_back(std::move(agent));
  }
  const Clock::time_point now = Clock::now();
  for (int index = 0; index < options.agents; ++index) {
    fleet->Schedule(EventKind::kConnect, index, now + Seconds(index / options.connect_rate));
  }
  const double agents_per_second = options.agents / 60.0;
  if (options.reconnect_share_per_minute > 0) {
    fleet->Schedule(
        EventKind::kDropSomeone, -1,
        now + fleet->Exponential(agents_per_second * options.reconnect_share_per_minute));
  }
  if (options.backlog_share_per_minute > 0) {
    fleet->Schedule(EventKind::kBacklogSomeone, -1,
                    now + fleet->Exponential(agents_per_second * options.backlog_share_per_minute));
  }
  fleet->scheduler_ = std::thread([raw = fleet.get()] { raw->Loop(); });
  return fleet;
}

Fleet::~Fleet() {
  Shutdown(Clock::now() + std::chrono::seconds(10));
  {
    std::lock_guard lock(events_mutex_);
    stopping_ = true;
  }
  events_wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

Clock::duration Fleet::Exponential(double per_second) {
  std::exponential_distribution<double> gap(per_second);
  return Seconds(gap(random_));
}

void Fleet::Schedule(EventKind kind, int agent, Clock::time_point at) {
  {
    std::lock_guard lock(events_mutex_);
    events_.push(Event{.at = at, .kind = kind, .agent = agent});
  }
  events_wake_.notify_one();
}

void Fleet::Loop() {
  std::unique_lock lock(events_mutex_);
  while (!stopping_) {
    if (events_.empty()) {
      events_wake_.wait(lock);
      continue;
    }
    const Event next = events_.top();
    if (next.at > Clock::now()) {
      events_wake_.wait_until(lock, next.at);
      continue;
    }
    events_.pop();
    lock.unlock();
    Handle(next);
    lock.lock();
  }
}

void Fleet::Handle(const Event& event) {
  const Clock::time_point now = Clock::now();
  const bool loading = !load_stopped_.load();
  switch (event.kind) {
    case EventKind::kConnect: {
      if (shutting_down_.load()) return;
      Agent& agent = *agents_[event.agent];
      Connect(agent);
      if (!agent.ever_connected) {
        agent.ever_connected = true;
        counts_->agents_connected.fetch_add(1);
        // Reports start at a random phase, so the fleet's load is smooth.
        std::uniform_real_distribution<double> phase(0, options_.report_interval_seconds);
        Schedule(EventKind::kReport, event.agent, now + Seconds(phase(random_)));
        Schedule(EventKind::kHeartbeat, event.agent,
                 now + Seconds(options_.heartbeat_interval_seconds));
        state_changed_.notify_all();
      }
      return;
    }
    case EventKind::kReport:
      if (!loading) return;
      SendReports(*agents_[event.agent], 1, event.at);
      Schedule(EventKind::kReport, event.agent,
               event.at + Seconds(options_.report_interval_seconds));
      return;
    case EventKind::kHeartbeat:
      if (shutting_down_.load()) return;
      SendHeartbeat(*agents_[event.agent]);
      Schedule(EventKind::kHeartbeat, event.agent,
               now + Seconds(options_.heartbeat_interval_seconds / 3));
      return;
    case EventKind::kDropSomeone:
    case EventKind::kBacklogSomeone: {
      if (!loading) return;
      Agent& agent = *agents_[random_() % agents_.size()];
      const bool drop = event.kind == EventKind::kDropSomeone;
      if (agent.ever_connected) {
        if (drop) {
          Drop(agent);
        } else {
          counts_->backlog_bursts.fetch_add(1);
          SendReports(agent, options_.backlog_records, event.at);
        }
      }
      const double share =
          drop ? options_.reconnect_share_per_minute : options_.backlog_share_per_minute;
      Schedule(event.kind, -1, now + Exponential(agents_.size() / 60.0 * share));
      return;
    }
  }
}

void Fleet::Connect(Agent& agent) {
  const int channel =
      agent.address * options_.channels_per_address + agent.index % options_.channels_per_address;
  auto stream = std::make_shared<Stream>(*this, agent);
  std::vector<v1::AgentMessage> first = {agent.hello};
  {
    std::lock_guard lock(agent.mutex);
    // The spool's backlog, in sequence order, after the Hello. Its records
    // keep the time they were first due: the time lost on a failed stream and
    // waiting to reconnect is part of their latency (the slow tail).
    for (auto& [sequence, record] : agent.pending) first.push_back(record.message);
    agent.stream = stream;
    agent.last_sent = Clock::now();
  }
  counts_->open_streams.fetch_add(1);
  stream->Start(*stubs_[channel], std::move(first));
}

void Fleet::SendReports(Agent& agent, int count, Clock::time_point made) {
  std::bernoulli_distribution finding(options_.finding_share);
  std::uniform_int_distribution<uint64_t> bytes(1 << 20, 64 << 20);
  std::vector<v1::AgentMessage> messages;
  for (int i = 0; i < count; ++i) {
    const bool with_finding = finding(random_);
    std::lock_guard lock(agent.mutex);
    const uint64_t sequence = agent.next_sequence++;
    messages.push_back(e2e::ReportRecord(sequence, bytes(random_)));
    agent.pending[sequence] = Record{.message = messages.back(), .made = made};
    counts_->reports.fetch_add(1);
    if (with_finding) {
      const uint64_t finding_sequence = agent.next_sequence++;
      messages.push_back(e2e::FindingRecord(finding_sequence, 4096 * (random_() % 4096)));
      agent.pending[finding_sequence] = Record{.message = messages.back(), .made = made};
      counts_->findings.fetch_add(1);
    }
  }
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(agent.mutex);
    stream = agent.stream;
    agent.last_sent = Clock::now();
  }
  counts_->records_sent.fetch_add(messages.size());
  // Without an open stream the records wait for the next one, as in a spool.
  if (stream == nullptr) return;
  for (v1::AgentMessage& message : messages) {
    if (!stream->Send(std::move(message))) return;
  }
}

void Fleet::SendHeartbeat(Agent& agent) {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(agent.mutex);
    if (Clock::now() - agent.last_sent < Seconds(options_.heartbeat_interval_seconds)) return;
    stream = agent.stream;
    agent.last_sent = Clock::now();
  }
  if (stream != nullptr && stream->Send(e2e::Heartbeat())) counts_->heartbeats.fetch_add(1);
}

void Fleet::Drop(Agent& agent) {
  std::shared_ptr<Stream> stream;
  {
    std::lock_guard lock(agent.mutex);
    stream = agent.stream;
  }
  if (stream == nullptr) return;
  counts_->planned_reconnects.fetch_add(1);
  stream->Cancel();  // StreamEnded reconnects it
}

void Fleet::StreamEnded(Agent& agent, bool cancelled_by_us) {
  std::shared_ptr<Stream> ended;
  {
    std::lock_guard lock(agent.mutex);
    ended = std::move(agent.stream);
  }
  counts_->open_streams.fetch_sub(1);
  if (!cancelled_by_us) counts_->stream_failures.fetch_add(1);
  {
    std::lock_guard lock(state_mutex_);
    state_changed_.notify_all();
  }
  if (!shutting_down_.load()) {
    // Next address; a failure waits a little longer than a planned drop.
    agent.address = (agent.address + 1) % static_cast<int>(options_.addresses.size());
    thread_local std::mt19937_64 random(std::random_device{}());
    std::uniform_real_distribution<double> delay(cancelled_by_us ? 0.1 : 0.5,
                                                 cancelled_by_us ? 1.0 : 2.0);
    Schedule(EventKind::kConnect, agent.index, Clock::now() + Seconds(delay(random)));
  }
  // `ended` (this stream) is destroyed here, after its last callback.
}

void Fleet::Acknowledged(Agent& agent, const Stream* stream, uint64_t first, uint64_t last) {
  const Clock::time_point now = Clock::now();
  std::vector<uint32_t> micros;
  uint64_t before_window = 0;
  uint64_t after_window = 0;
  const Clock::rep window_start = window_start_.load();
  const Clock::rep window_end = window_end_.load();
  uint64_t acknowledged = 0;
  uint64_t duplicate = 0;
  uint64_t unexpected = 0;
  {
    std::lock_guard lock(agent.mutex);
    if (agent.stream.get() != stream) return;  // a stream already replaced
    if (last < first || last >= agent.next_sequence) {
      unexpected += last < first ? 1 : last - std::max(first, agent.next_sequence) + 1;
      if (last < first) last = first - 1;
      last = std::min(last, agent.next_sequence - 1);
    }
    for (uint64_t sequence = first; sequence <= last; ++sequence) {
      const auto record = agent.pending.find(sequence);
      if (record == agent.pending.end()) {
        ++duplicate;  // sent and acknowledged before: this stream said it twice
        continue;
      }
      const Clock::rep made = record->second.made.time_since_epoch().count();
      if (made < window_start) {
        ++before_window;
      } else if (made > window_end) {
        ++after_window;
      } else {
        micros.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - record->second.made)
                .count()));
      }
      agent.pending.erase(record);
      ++acknowledged;
    }
  }
  counts_->records_acknowledged.fetch_add(acknowledged);
  counts_->duplicate_acks.fetch_add(duplicate);
  counts_->unexpected_acks.fetch_add(unexpected);
  std::lock_guard lock(latency_mutex_);
  latencies_.micros.insert(latencies_.micros.end(), micros.begin(), micros.end());
  latencies_.before_window += before_window;
  latencies_.after_window += after_window;
}

void Fleet::EndWindow() { window_end_.store(Clock::now().time_since_epoch().count()); }

void Fleet::StartWindow() {
  std::lock_guard lock(latency_mutex_);
  window_start_.store(Clock::now().time_since_epoch().count());
  latencies_.before_window += latencies_.micros.size();
  latencies_.micros.clear();
}

void Fleet::Rejected(Agent& agent, const Stream* stream, uint64_t first, uint64_t last) {
  uint64_t rejected = 0;
  {
    std::lock_guard lock(agent.mutex);
    if (agent.stream.get() != stream) return;
    for (uint64_t sequence = first; sequence <= last && sequence < agent.next_sequence;
         ++sequence) {
      rejected += agent.pending.erase(sequence);
    }
  }
  counts_->records_rejected.fetch_add(rejected);
}

bool Fleet::WaitConnected(Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    const FleetCounts counts = Counts();
    if (counts_->agents_connected.load() == agents_.size() && counts.hellos >= agents_.size()) {
      return true;
    }
    std::unique_lock lock(state_mutex_);
    state_changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return false;
}

void Fleet::StopLoad() { load_stopped_.store(true); }

bool Fleet::Drain(Clock::time_point deadline) {
  while (Clock::now() < deadline) {
    if (Counts().records_pending == 0) return true;
    std::unique_lock lock(state_mutex_);
    state_changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
  return Counts().records_pending == 0;
}

void Fleet::Shutdown(Clock::time_point deadline) {
  if (shutting_down_.exchange(true)) return;
  // The scheduler stops first, so no stream starts while the others are cancelled.
  {
    std::lock_guard lock(events_mutex_);
    stopping_ = true;
  }
  events_wake_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
  for (const std::unique_ptr<Agent>& agent : agents_) {
    std::shared_ptr<Stream> stream;
    {
      std::lock_guard lock(agent->mutex);
      stream = agent->stream;
    }
    if (stream != nullptr) stream->Cancel();
  }
  while (counts_->open_streams.load() > 0 && Clock::now() < deadline) {
    std::unique_lock lock(state_mutex_);
    state_changed_.wait_for(lock, std::chrono::milliseconds(20));
  }
}

FleetCounts Fleet::Counts() const {
  FleetCounts counts{
      .records_sent = counts_->records_sent.load(),
      .records_written = counts_->records_written.load(),
      .records_acknowledged = counts_->records_acknowledged.load(),
      .duplicate_acks = counts_->duplicate_acks.load(),
      .unexpected_acks = counts_->unexpected_acks.load(),
      .records_rejected = counts_->records_rejected.load(),
      .reports = counts_->reports.load(),
      .findings = counts_->findings.load(),
      .heartbeats = counts_->heartbeats.load(),
      .backlog_bursts = counts_->backlog_bursts.load(),
      .hellos = counts_->hellos.load(),
      .planned_reconnects = counts_->planned_reconnects.load(),
      .stream_failures = counts_->stream_failures.load(),
      .open_streams = counts_->open_streams.load(),
  };
  counts.records_pending =
      counts.records_sent -
      std::min(counts.records_sent, counts.records_acknowledged + counts.records_rejected);
  return counts;
}

LatencySamples Fleet::TakeLatencies() {
  std::lock_guard lock(latency_mutex_);
  return std::exchange(latencies_, LatencySamples{});
}

}  // namespace fscanary::loadgen
