#pragma once
// An in-process Ingest service on 127.0.0.1 that records what the agent
// sends and answers only what the test tells it to: forged acknowledgements,
// rejections, anything a wrong or lying collector could send.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fscanary/v1/ingest.grpc.pb.h"

namespace fscanary::transport::testing {

class FakeCollector final : public v1::Ingest::Service {
 public:
  FakeCollector();
  ~FakeCollector() override;
  FakeCollector(const FakeCollector&) = delete;
  FakeCollector& operator=(const FakeCollector&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Waits (up to 30 s) until the records received, by sequence, satisfy `done`.
  bool WaitForRecords(const std::function<bool(const std::multiset<uint64_t>&)>& done);
  bool WaitForSequences(std::initializer_list<uint64_t> sequences);
  std::multiset<uint64_t> received() const;

  // Writes to the open stream; false when none is open.
  bool Send(const v1::CollectorMessage& message);
  bool Ack(uint64_t first, uint64_t last);
  bool Reject(uint64_t first, uint64_t last, const std::string& reason, const std::string& detail);

  grpc::Status Stream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream) override;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream_ = nullptr;
  std::multiset<uint64_t> received_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Checks `done` every 2 ms until it holds (false after 30 s): for counters
// that a thread of the code under test moves with no event to wait on.
bool Eventually(const std::function<bool()>& done);

}  // namespace fscanary::transport::testing
