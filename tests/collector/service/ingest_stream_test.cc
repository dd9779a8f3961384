// The callback stream under a steady flow of records: reads and commit
// callbacks run on different threads, and every record read must be handed
// on whole, once, whatever they interleave.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "collector/adaptive/hint_board.h"
#include "collector/service/server.h"
#include "collector/store/store.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "metrics/registry.h"
#include "tests/temp_dir.h"

namespace fscanary::collector {
namespace {

constexpr int64_t kNow = 1'700'000'000'000'000'000;

v1::AgentMessage Hello(const std::string& agent_id) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(kNow);
  message.mutable_hello()->set_agent_id(agent_id);
  message.mutable_hello()->set_agent_version("test");
  return message;
}

v1::AgentMessage Report(uint64_t sequence) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(kNow + static_cast<int64_t>(sequence));
  message.mutable_report()->set_start_unix_nanos(kNow - 1'000'000'000);
  message.mutable_report()->set_end_unix_nanos(kNow);
  message.mutable_report()->set_spooled_records(sequence);  // each its own content
  // Long enough to check that the collector's validation of a record takes
  // a while: the time a read's buffer is in use after the read completed.
  for (int checker = 0; checker < 32; ++checker) {
    v1::CheckerInterval* interval = message.mutable_report()->add_checkers();
    interval->set_checker("block");
    interval->set_target(std::string(4000, static_cast<char>('a' + checker % 26)));
  }
  return message;
}

// One agent's stream: every record written, then its acknowledgements, each
// sequence once per time acknowledged.
std::multiset<uint64_t> StreamRecords(v1::Ingest::Stub& stub, const std::string& agent_id,
                                      uint64_t records, grpc::Status& finished) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
  auto stream = stub.Stream(&context);
  std::thread writer([&] {
    if (!stream->Write(Hello(agent_id))) return;
    for (uint64_t sequence = 1; sequence <= records; ++sequence) {
      if (!stream->Write(Report(sequence))) return;
    }
    stream->WritesDone();
  });
  std::multiset<uint64_t> acknowledged;
  v1::CollectorMessage reply;
  while (stream->Read(&reply)) {
    for (const v1::SequenceRange& range : reply.ack().ranges()) {
      for (uint64_t sequence = range.first(); sequence <= range.last(); ++sequence) {
        acknowledged.insert(sequence);
      }
    }
  }
  writer.join();
  finished = stream->Finish();
  return acknowledged;
}

TEST(IngestStream, EveryRecordOfFastStreamsIsStoredAndAcknowledgedOnce) {
  testing::TempDir dir;
  auto opened = store::OpenSqliteStore({.path = dir.Join("collector.db"),
                                        .synchronous = store::SqliteOptions::Synchronous::kNormal});
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<store::Store> store = *std::move(opened);
  metrics::Registry registry;
  // Two records in flight per stream, many streams: each stream's reads
  // keep meeting commits that finish on the committer's thread and start the
  // next read themselves.
  ServerOptions options{.listen = "127.0.0.1:0", .max_records_in_flight = 2};
  auto started = CollectorServer::Start(options, *store, registry);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<CollectorServer> server = *std::move(started);
  auto stub = v1::Ingest::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                                      grpc::InsecureChannelCredentials()));

  constexpr int kAgents = 12;
  constexpr uint64_t kRecords = 300;
  std::vector<std::multiset<uint64_t>> acknowledged(kAgents);
  std::vector<grpc::Status> finished(kAgents);
  std::vector<std::thread> agents;
  for (int agent = 0; agent < kAgents; ++agent) {
    agents.emplace_back([&, agent] {
      acknowledged[agent] =
          StreamRecords(*stub, "vm-" + std::to_string(agent), kRecords, finished[agent]);
    });
  }
  for (std::thread& agent : agents) agent.join();

  for (int agent = 0; agent < kAgents; ++agent) {
    const std::string agent_id = "vm-" + std::to_string(agent);
    EXPECT_TRUE(finished[agent].ok()) << agent_id << ": " << finished[agent].error_message();
    EXPECT_EQ(acknowledged[agent].size(), kRecords) << agent_id << ", counting repeats";
    EXPECT_EQ(std::set<uint64_t>(acknowledged[agent].begin(), acknowledged[agent].end()).size(),
              kRecords)
        << agent_id;
    const absl::StatusOr<uint64_t> highest = store->MaxSequence(agent_id);
    ASSERT_TRUE(highest.ok()) << highest.status();
    EXPECT_EQ(*highest, kRecords) << agent_id;
  }
  const absl::StatusOr<store::StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->reports, kAgents * kRecords);
}

TEST(IngestStream, AnAgentSendingOnlyHeartbeatsHearsOfItsBoost) {
  testing::TempDir dir;
  auto opened = store::OpenSqliteStore({.path = dir.Join("collector.db")});
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<store::Store> store = *std::move(opened);
  metrics::Registry registry;
  adaptive::HintBoard board(std::chrono::minutes(5));
  ServerOptions options{.listen = "127.0.0.1:0", .hints = &board};
  auto started = CollectorServer::Start(options, *store, registry);
  ASSERT_TRUE(started.ok()) << started.status();
  std::unique_ptr<CollectorServer> server = *std::move(started);
  auto stub = v1::Ingest::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                                      grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  auto stream = stub->Stream(&context);
  ASSERT_TRUE(stream->Write(Hello("vm-1")));
  v1::AgentMessage heartbeat;
  heartbeat.set_created_unix_nanos(kNow);
  heartbeat.mutable_heartbeat();
  // The first turn tells the agent where it stands: no boost.
  ASSERT_TRUE(stream->Write(heartbeat));
  v1::CollectorMessage reply;
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(reply.has_hint());
  EXPECT_EQ(reply.hint().boost_factor(), 1);

  board.Publish({{"vm-1", 4}});
  ASSERT_TRUE(stream->Write(heartbeat));
  ASSERT_TRUE(stream->Read(&reply));
  ASSERT_TRUE(reply.has_hint());
  EXPECT_EQ(reply.hint().boost_factor(), 4);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace fscanary::collector
