// Raw Ingest streams for the end-to-end tests: messages built by hand, sent
// over gRPC to the real collector with any token, without the agent's rules.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fscanary/v1/ingest.grpc.pb.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::e2e {

v1::AgentMessage Hello(const std::string& agent_id);
// A VM's facts: `kernel`, one virtio disk under `scheduler`, ext4 on it.
v1::HostFacts VmFacts(const std::string& kernel, const std::string& scheduler);
v1::AgentMessage Hello(const std::string& agent_id, const v1::HostFacts& facts,
                       const std::string& version = "e2e-raw");
// An interval report numbered `sequence`: the block checker verified
// `bytes_verified` over the last second.
v1::AgentMessage ReportRecord(uint64_t sequence, uint64_t bytes_verified);
v1::AgentMessage Heartbeat();
// A checksum-mismatch finding at `offset` numbered `sequence`.
v1::AgentMessage FindingRecord(uint64_t sequence, uint64_t offset);

struct StreamOutcome {
  grpc::Status status;
  std::set<uint64_t> acknowledged;
  // Sequence -> the Rejection's reason.
  std::map<uint64_t, std::string> rejected;
};

// One Ingest stream: sends `messages` (with `token` unless empty),
// half-closes, reads every acknowledgement and rejection, and returns how the
// collector ended it.
StreamOutcome Exchange(const Collector& collector, const std::string& token,
                       const std::vector<v1::AgentMessage>& messages);

// A stream held open: what Send() writes goes out, and it stays open until
// the collector ends it (Finish) or it is destroyed (which cancels it).
class HeldStream {
 public:
  HeldStream(const Collector& collector, const std::string& token);
  ~HeldStream();
  bool Send(const v1::AgentMessage& message) { return stream_->Write(message); }
  // Waits for the collector to end the stream; its status.
  grpc::Status Finish();

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::CollectorMessage>> stream_;
  bool finished_ = false;
};

}  // namespace fscanary::e2e
