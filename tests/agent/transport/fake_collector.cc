#include "tests/agent/transport/fake_collector.h"

#include <thread>

namespace fscanary::transport::testing {
namespace {

constexpr auto kTimeout = std::chrono::seconds(30);

}  // namespace

FakeCollector::FakeCollector() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
}

FakeCollector::~FakeCollector() { server_->Shutdown(std::chrono::system_clock::now()); }

grpc::Status FakeCollector::Stream(
    grpc::ServerContext* /*context*/,
    grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream) {
  {
    std::lock_guard lock(mutex_);
    stream_ = stream;
  }
  v1::AgentMessage message;
  while (stream->Read(&message)) {
    if (message.sequence() == 0) continue;  // hello, heartbeat
    std::lock_guard lock(mutex_);
    received_.insert(message.sequence());
    changed_.notify_all();
  }
  std::lock_guard lock(mutex_);
  stream_ = nullptr;
  return grpc::Status::OK;
}

bool FakeCollector::WaitForRecords(
    const std::function<bool(const std::multiset<uint64_t>&)>& done) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, kTimeout, [&] { return done(received_); });
}

bool FakeCollector::WaitForSequences(std::initializer_list<uint64_t> sequences) {
  return WaitForRecords([&](const std::multiset<uint64_t>& received) {
    for (const uint64_t sequence : sequences) {
      if (!received.contains(sequence)) return false;
    }
    return true;
  });
}

std::multiset<uint64_t> FakeCollector::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

bool FakeCollector::Send(const v1::CollectorMessage& message) {
  std::lock_guard lock(mutex_);
  return stream_ != nullptr && stream_->Write(message);
}

bool FakeCollector::Ack(uint64_t first, uint64_t last) {
  v1::CollectorMessage message;
  v1::SequenceRange* range = message.mutable_ack()->add_ranges();
  range->set_first(first);
  range->set_last(last);
  return Send(message);
}

bool FakeCollector::Reject(uint64_t first, uint64_t last, const std::string& reason,
                           const std::string& detail) {
  v1::CollectorMessage message;
  v1::SequenceRange* range = message.mutable_rejection()->add_ranges();
  range->set_first(first);
  range->set_last(last);
  message.mutable_rejection()->set_reason(reason);
  message.mutable_rejection()->set_detail(detail);
  return Send(message);
}

bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace fscanary::transport::testing
