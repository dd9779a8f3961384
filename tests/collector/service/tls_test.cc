// The agent's sender and the collector's server over TLS and mutual TLS:
// records arrive over an encrypted stream, under mutual TLS an agent is only
// who its certificate says, and only an operator's certificate may query.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <thread>

#include "agent/spool/spool.h"
#include "agent/transport/sender.h"
#include "collector/service/server.h"
#include "collector/store/store.h"
#include "fscanary/v1/query.grpc.pb.h"
#include "metrics/registry.h"
#include "tests/temp_dir.h"

namespace fscanary::collector {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A CA, a server certificate for 127.0.0.1 and client certificates, made with
// the openssl command (package openssl) in `dir`.
class Certificates {
 public:
  explicit Certificates(const std::string& dir) : dir_(dir) {}

  bool Make() {
    return Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
               "-subj /CN=fscanary-test-ca -keyout ca.key -out ca.pem") &&
           Leaf("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost") &&
           Leaf("vm-1", "vm-1", "") && Leaf("intruder", "intruder", "") &&
           Leaf("operator", "ops-alice", "");
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  bool Leaf(const std::string& name, const std::string& common_name, const std::string& san) {
    std::string extensions;
    if (!san.empty()) {
      std::ofstream(Path(name + ".ext")) << san << "\n";
      extensions = " -extfile " + name + ".ext";
    }
    return Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" +
               common_name + " -keyout " + name + ".key -out " + name + ".csr") &&
           Run("openssl x509 -req -in " + name +
               ".csr -CA ca.pem -CAkey ca.key -CAcreateserial "
               "-days 2 -out " +
               name + ".pem" + extensions);
  }
  bool Run(const std::string& command) {
    return std::system(("cd " + dir_ + " && " + command + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string dir_;
};

std::string Payload(uint64_t created_ns) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(created_ns);
  v1::IntervalReport& report = *message.mutable_report();
  report.set_start_unix_nanos(created_ns - 1'000'000'000);
  report.set_end_unix_nanos(created_ns);
  report.add_checkers()->set_bytes_verified(4096);
  return message.SerializeAsString();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "the openssl command is not installed";
    }
    ASSERT_TRUE(certificates_.Make()) << "openssl could not make the test certificates";
    auto opened = store::OpenSqliteStore({.path = dir_.Join("collector.db")});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = *std::move(opened);
  }

  void StartServer(bool mutual) {
    ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.tls = {.cert = certificates_.Path("server.pem"),
                   .key = certificates_.Path("server.key"),
                   .client_ca = mutual ? certificates_.Path("ca.pem") : ""};
    options.credentials.require_auth = mutual;
    options.credentials.operator_identities = {"ops-alice"};
    auto started = CollectorServer::Start(options, *store_, registry_);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  // Runs an agent named `agent_id` presenting `client` (empty: no certificate)
  // with one record spooled; returns whether the record was acknowledged
  // within `wait`.
  bool Deliver(const std::string& agent_id, const std::string& client, milliseconds wait) {
    auto spool = spool::Spool::Open({.directory = dir_.Join("spool-" + agent_id + client)},
                                    [](std::span<const spool::Record> routine) {
                                      return std::string(routine.front().payload);
                                    });
    EXPECT_TRUE(spool.ok()) << spool.status();
    if (!spool.ok()) return false;
    EXPECT_TRUE(
        (*spool)->Append(spool::RecordClass::kRoutine, Payload(1'700'000'000'000'000'000)).ok());
    transport::SenderOptions options{.address = "127.0.0.1:" + std::to_string(server_->port()),
                                     .tls_ca_file = certificates_.Path("ca.pem"),
                                     .backoff_initial_ms = 50,
                                     .backoff_max_ms = 200};
    if (!client.empty()) {
      options.tls_cert_file = certificates_.Path(client + ".pem");
      options.tls_key_file = certificates_.Path(client + ".key");
    }
    transport::Sender sender(options, **spool, [agent_id] {
      v1::Hello hello;
      hello.set_agent_id(agent_id);
      hello.set_agent_version("test");
      return hello;
    });
    sender.Start();
    const auto deadline = steady_clock::now() + wait;
    while (steady_clock::now() < deadline && (*spool)->Stats().records > 0) {
      std::this_thread::sleep_for(milliseconds(20));
    }
    const bool delivered = (*spool)->Stats().records == 0;
    sender.Stop();
    return delivered;
  }

  // ListHosts over TLS presenting `client`'s certificate.
  grpc::Status QueryAs(const std::string& client) {
    grpc::SslCredentialsOptions tls{.pem_root_certs = Read(certificates_.Path("ca.pem")),
                                    .pem_private_key = Read(certificates_.Path(client + ".key")),
                                    .pem_cert_chain = Read(certificates_.Path(client + ".pem"))};
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                       grpc::SslCredentials(tls));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::ListHostsResponse response;
    return v1::Query::NewStub(channel)->ListHosts(&context, v1::ListHostsRequest(), &response);
  }

  static std::string Read(const std::string& path) {
    std::ifstream file(path);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

  uint64_t StoredSequence(const std::string& agent_id) { return *store_->MaxSequence(agent_id); }

  fscanary::testing::TempDir dir_;
  Certificates certificates_{dir_.path()};
  std::unique_ptr<store::Store> store_;
  metrics::Registry registry_;
  std::unique_ptr<CollectorServer> server_;
};

TEST_F(TlsTest, RecordsArriveOverTls) {
  StartServer(/*mutual=*/false);
  EXPECT_TRUE(Deliver("vm-1", "", std::chrono::seconds(20)));
  EXPECT_EQ(StoredSequence("vm-1"), 1u);
}

TEST_F(TlsTest, UnderMutualTlsTheCertificateNamesTheAgent) {
  StartServer(/*mutual=*/true);
  EXPECT_TRUE(Deliver("vm-1", "vm-1", std::chrono::seconds(20)));
  EXPECT_EQ(StoredSequence("vm-1"), 1u);
}

TEST_F(TlsTest, UnderMutualTlsAnAgentClaimingAnotherIdIsRefused) {
  StartServer(/*mutual=*/true);
  EXPECT_FALSE(Deliver("vm-1", "intruder", std::chrono::seconds(3)));
  EXPECT_EQ(StoredSequence("vm-1"), 0u);
}

TEST_F(TlsTest, UnderMutualTlsAnAgentWithoutACertificateCannotConnect) {
  StartServer(/*mutual=*/true);
  EXPECT_FALSE(Deliver("vm-1", "", std::chrono::seconds(3)));
  EXPECT_EQ(StoredSequence("vm-1"), 0u);
}

TEST_F(TlsTest, UnderMutualTlsOnlyAnOperatorCertificateMayQuery) {
  StartServer(/*mutual=*/true);
  EXPECT_TRUE(QueryAs("operator").ok());
  const grpc::Status agent = QueryAs("vm-1");
  EXPECT_EQ(agent.error_code(), grpc::StatusCode::PERMISSION_DENIED) << agent.error_message();
}

}  // namespace
}  // namespace fscanary::collector
