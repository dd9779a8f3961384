// Raw Ingest streams for the end-to-end tests.
#include "tests/e2e/raw_agent.h"

#include <chrono>

#include "io/posix.h"

namespace fscanary::e2e {
namespace {

int64_t Now() { return static_cast<int64_t>(io::WallClockNanos()); }

// Long enough for a busy machine; a test never hangs on a stream.
constexpr auto kStreamDeadline = std::chrono::seconds(60);

}  // namespace

v1::AgentMessage Hello(const std::string& agent_id) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(Now());
  v1::Hello* hello = message.mutable_hello();
  hello->set_agent_id(agent_id);
  hello->set_agent_version("e2e-raw");
  hello->mutable_facts()->set_hostname("raw-client");
  hello->mutable_facts()->set_kernel_release("6.1.0-e2e");
  return message;
}

v1::HostFacts VmFacts(const std::string& kernel, const std::string& scheduler) {
  v1::HostFacts facts;
  facts.set_hostname("raw-client");
  facts.set_kernel_release(kernel);
  v1::BlockDeviceFacts& device = *facts.add_devices();
  device.set_target("t0");
  device.set_name("vda");
  device.set_type("disk");
  device.set_driver("virtio_blk");
  device.set_blk_mq("on");
  device.set_scheduler(scheduler);
  v1::FilesystemFacts& filesystem = *facts.add_filesystems();
  filesystem.set_target("t0");
  filesystem.set_fs_type("ext4");
  filesystem.set_mount_point("/");
  return facts;
}

v1::AgentMessage Hello(const std::string& agent_id, const v1::HostFacts& facts,
                       const std::string& version) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(Now());
  v1::Hello& hello = *message.mutable_hello();
  hello.set_agent_id(agent_id);
  hello.set_agent_version(version);
  *hello.mutable_facts() = facts;
  return message;
}

v1::AgentMessage ReportRecord(uint64_t sequence, uint64_t bytes_verified) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(Now());
  v1::IntervalReport& report = *message.mutable_report();
  report.set_start_unix_nanos(Now() - 1'000'000'000);
  report.set_end_unix_nanos(Now());
  v1::CheckerInterval& interval = *report.add_checkers();
  interval.set_checker("block");
  interval.set_bytes_verified(bytes_verified);
  interval.set_blocks_verified(bytes_verified / 4096);
  return message;
}

v1::AgentMessage Heartbeat() {
  v1::AgentMessage message;
  message.set_created_unix_nanos(Now());
  message.mutable_heartbeat();
  return message;
}

v1::AgentMessage FindingRecord(uint64_t sequence, uint64_t offset) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(Now());
  v1::Finding* finding = message.mutable_finding();
  finding->set_checker("block");
  finding->set_target("scratch");
  finding->set_target_path("/var/lib/fscanary-agent/scratch.img");
  finding->set_kind(v1::CHECKSUM_MISMATCH);
  finding->set_persistent(true);
  finding->set_offset(offset);
  finding->set_block_size(4096);
  finding->set_expected_generation(1);
  finding->set_detected_unix_nanos(Now());
  return message;
}

StreamOutcome Exchange(const Collector& collector, const std::string& token,
                       const std::vector<v1::AgentMessage>& messages) {
  const auto channel = grpc::CreateChannel(collector.address(), grpc::InsecureChannelCredentials());
  const auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
  const auto stream = stub->Stream(&context);
  for (const v1::AgentMessage& message : messages) {
    if (!stream->Write(message)) break;  // the collector ended the stream
  }
  stream->WritesDone();
  StreamOutcome outcome;
  v1::CollectorMessage reply;
  while (stream->Read(&reply)) {
    for (const v1::SequenceRange& range : reply.ack().ranges()) {
      for (uint64_t sequence = range.first(); sequence <= range.last(); ++sequence) {
        outcome.acknowledged.insert(sequence);
      }
    }
    for (const v1::SequenceRange& range : reply.rejection().ranges()) {
      for (uint64_t sequence = range.first(); sequence <= range.last(); ++sequence) {
        outcome.rejected[sequence] = reply.rejection().reason();
      }
    }
  }
  outcome.status = stream->Finish();
  return outcome;
}

HeldStream::HeldStream(const Collector& collector, const std::string& token)
    : channel_(grpc::CreateChannel(collector.address(), grpc::InsecureChannelCredentials())),
      stub_(v1::Ingest::NewStub(channel_)) {
  context_.set_deadline(std::chrono::system_clock::now() + kStreamDeadline);
  if (!token.empty()) context_.AddMetadata("authorization", "Bearer " + token);
  stream_ = stub_->Stream(&context_);
}

HeldStream::~HeldStream() {
  if (finished_) return;
  context_.TryCancel();
  (void)stream_->Finish();
}

grpc::Status HeldStream::Finish() {
  v1::CollectorMessage reply;
  while (stream_->Read(&reply)) {
  }
  finished_ = true;
  return stream_->Finish();
}

}  // namespace fscanary::e2e
