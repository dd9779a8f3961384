// Heartbeats move an agent's liveness in memory and reach the store in one
// transaction for all agents, not in a durable transaction each.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "collector/service/server.h"
#include "collector/store/store.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "metrics/registry.h"
#include "tests/temp_dir.h"

namespace fscanary::collector {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000'000;

v1::AgentMessage Hello(int64_t now) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(now);
  message.mutable_hello()->set_agent_id("vm-1");
  message.mutable_hello()->set_agent_version("test");
  return message;
}

v1::AgentMessage Report(uint64_t sequence, int64_t now) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(now);
  message.mutable_report()->set_start_unix_nanos(now - 1'000'000'000);
  message.mutable_report()->set_end_unix_nanos(now);
  return message;
}

class LivenessTest : public ::testing::Test {
 protected:
  void Start(std::chrono::milliseconds flush_interval) {
    auto opened = store::OpenSqliteStore({.path = db_});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
    ServerOptions options{.listen = "127.0.0.1:0"};
    options.liveness_flush_interval = flush_interval;
    auto started = CollectorServer::Start(options, *store_, registry_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  using Stream = grpc::ClientReaderWriter<v1::AgentMessage, v1::CollectorMessage>;

  // A stream that said Hello and had a record acknowledged: every message
  // written before the record was read by then.
  std::unique_ptr<Stream> OpenStream(grpc::ClientContext& context, int heartbeats) {
    stub_ = v1::Ingest::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                                    grpc::InsecureChannelCredentials()));
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    std::unique_ptr<Stream> stream = stub_->Stream(&context);
    EXPECT_TRUE(stream->Write(Hello(kNow)));
    for (int i = 0; i < heartbeats; ++i) EXPECT_TRUE(stream->Write(Heartbeat()));
    EXPECT_TRUE(stream->Write(Report(1, kNow)));
    v1::CollectorMessage reply;
    EXPECT_TRUE(stream->Read(&reply));
    EXPECT_EQ(reply.ack().ranges_size(), 1) << reply.ShortDebugString();
    return stream;
  }

  // OpenStream, then a clean end.
  void StreamAndClose(int heartbeats) {
    grpc::ClientContext context;
    std::unique_ptr<Stream> stream = OpenStream(context, heartbeats);
    stream->WritesDone();
    v1::CollectorMessage reply;
    while (stream->Read(&reply)) {
    }
    EXPECT_TRUE(stream->Finish().ok());
  }

  static v1::AgentMessage Heartbeat() {
    v1::AgentMessage heartbeat;
    heartbeat.set_created_unix_nanos(kNow);
    heartbeat.mutable_heartbeat();
    return heartbeat;
  }

  int64_t WalBytes() {
    std::error_code error;
    const auto size = std::filesystem::file_size(db_ + "-wal", error);
    return error ? 0 : static_cast<int64_t>(size);
  }

  fscanary::testing::TempDir dir_;
  const std::string db_ = dir_.Join("collector.db");
  std::unique_ptr<store::Store> store_;
  metrics::Registry registry_;
  std::unique_ptr<CollectorServer> server_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
};

TEST_F(LivenessTest, AThousandHeartbeatsCostNoTransactionEach) {
  ASSERT_NO_FATAL_FAILURE(Start(std::chrono::hours(1)));
  StreamAndClose(0);
  const int64_t without = WalBytes();
  StreamAndClose(1000);
  const int64_t with = WalBytes();
  // A transaction appends at least one 4 KiB page to the WAL: a thousand of
  // them would add megabytes; the second stream adds what the first did.
  EXPECT_LT(with - without, 2 * without + 64 * 1024) << "WAL bytes " << without << " -> " << with;
}

TEST_F(LivenessTest, HeartbeatsOfAnOpenStreamReachTheStoreAtTheNextFlush) {
  ASSERT_NO_FATAL_FAILURE(Start(std::chrono::milliseconds(50)));
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = OpenStream(context, 0);  // the Hello is stored
  const auto last_seen = [&] {
    auto hosts = store_->ListHosts();
    return hosts.ok() && hosts->hosts_size() == 1 ? hosts->hosts(0).last_seen_unix_nanos() : -1;
  };
  const int64_t at_hello = last_seen();
  ASSERT_GT(at_hello, 0);

  ASSERT_TRUE(stream->Write(Heartbeat()));
  // The stream stays open: only the flush can move last_seen.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (last_seen() == at_hello && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(last_seen(), at_hello);
  context.TryCancel();
  (void)stream->Finish();
}

}  // namespace
}  // namespace fscanary::collector
