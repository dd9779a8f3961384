// The Query service on the collector's listener answers operators only; its
// admin listener (loopback or unix:) answers anyone who can reach it.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "fscanary/v1/query.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"

namespace fscanary::e2e {
namespace {

constexpr char kAgent[] = "query-agent";
constexpr char kAgentToken[] = "0123456789abcdef-query-agent-token";

// Every Query method once over `address`, with `token` unless empty; the
// status of each, by method.
std::map<std::string, grpc::Status> AskEverything(const std::string& address,
                                                  const std::string& token) {
  const auto stub =
      v1::Query::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  std::map<std::string, grpc::Status> statuses;
  const auto call = [&](const std::string& method, auto invoke) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 20s);
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    statuses[method] = invoke(context);
  };
  call("ListHosts", [&](grpc::ClientContext& context) {
    v1::ListHostsResponse response;
    return stub->ListHosts(&context, v1::ListHostsRequest(), &response);
  });
  call("ListFindings", [&](grpc::ClientContext& context) {
    v1::ListFindingsResponse response;
    return stub->ListFindings(&context, v1::ListFindingsRequest(), &response);
  });
  call("GetHost", [&](grpc::ClientContext& context) {
    v1::GetHostRequest request;
    request.set_agent_id(kAgent);
    v1::GetHostResponse response;
    return stub->GetHost(&context, request, &response);
  });
  call("Analyze", [&](grpc::ClientContext& context) {
    v1::AnalyzeResponse response;
    return stub->Analyze(&context, v1::AnalyzeRequest(), &response);
  });
  return statuses;
}

class QueryCredentialsTest : public E2eTest {
 protected:
  void SetUp() override {
    const std::string tokens = dir_.Join("tokens");
    std::ofstream(tokens) << kAgent << " " << kAgentToken << "\n";
    admin_ = "unix:" + dir_.Join("admin.sock");
    ASSERT_NO_FATAL_FAILURE(StartCollector(
        {.extra_yaml = absl::StrCat("tokens_file: ", tokens, "\nadmin_listen: ", admin_, "\n")}));
    // A host with a finding, so that an answer would hold something.
    const StreamOutcome stored =
        Exchange(*collector_, kAgentToken, {Hello(kAgent), FindingRecord(1, 4096)});
    ASSERT_TRUE(stored.status.ok()) << stored.status.error_message();
    ASSERT_EQ(stored.acknowledged, std::set<uint64_t>{1});
  }

  std::string admin_;
};

TEST_F(QueryCredentialsTest, OnTheListenerWithoutACredentialEveryQueryIsRefused) {
  for (const auto& [method, status] : AskEverything(collector_->address(), "")) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method << ": " << status.error_message();
  }
}

TEST_F(QueryCredentialsTest, AnAgentTokenIsNotAnOperatorCredential) {
  for (const auto& [method, status] : AskEverything(collector_->address(), kAgentToken)) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << status.error_message();
  }
  for (const auto& [method, status] :
       AskEverything(collector_->address(), "0123456789abcdef-a-guessed-token")) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << status.error_message();
  }
}

TEST_F(QueryCredentialsTest, WithTheOperatorTokenEveryQueryIsAnswered) {
  for (const auto& [method, status] : AskEverything(collector_->address(), kOperatorToken)) {
    EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
  }
  const absl::StatusOr<std::vector<v1::StoredFinding>> findings = collector_->ListFindings(kAgent);
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_EQ(findings->size(), 1u);
}

TEST_F(QueryCredentialsTest, TheAdminListenerAnswersWithoutACredential) {
  for (const auto& [method, status] : AskEverything(admin_, "")) {
    EXPECT_TRUE(status.ok()) << method << ": " << status.error_message();
  }
}

}  // namespace
}  // namespace fscanary::e2e
