#pragma once
// The collector's query API (hosts, findings, one host's facts and epochs,
// the correlation analysis), served from the store for the operator CLI.

#include <cstdint>
#include <memory>

#include "collector/service/analysis_cache.h"
#include "collector/store/store.h"
#include "fscanary/v1/query.grpc.pb.h"

namespace fscanary::collector {

// Lists are served a page at a time (docs/SECURITY.md): a query for every
// finding of a large fleet cannot make the collector build one huge answer.
struct QueryLimits {
  // Entries per page when the request asks for none, and the most it may.
  uint32_t default_page_size = 1000;
  uint32_t max_page_size = 10000;
};

// Analyses are served from `analyses`, shared by every QueryService of the
// process (the main and the admin listener).
class QueryService final : public v1::Query::Service {
 public:
  QueryService(store::Store& store, std::shared_ptr<AnalysisCache> analyses,
               QueryLimits limits = {})
      : store_(store), analyses_(std::move(analyses)), limits_(limits) {}

  grpc::Status ListHosts(grpc::ServerContext* context, const v1::ListHostsRequest* request,
                         v1::ListHostsResponse* response) override;
  grpc::Status ListFindings(grpc::ServerContext* context, const v1::ListFindingsRequest* request,
                            v1::ListFindingsResponse* response) override;
  grpc::Status GetHost(grpc::ServerContext* context, const v1::GetHostRequest* request,
                       v1::GetHostResponse* response) override;
  grpc::Status Analyze(grpc::ServerContext* context, const v1::AnalyzeRequest* request,
                       v1::AnalyzeResponse* response) override;
  grpc::Status KnownBugs(grpc::ServerContext* context, const v1::KnownBugsRequest* request,
                         v1::KnownBugsResponse* response) override;

 private:
  uint32_t PageSize(uint32_t requested) const;

  store::Store& store_;
  const std::shared_ptr<AnalysisCache> analyses_;
  const QueryLimits limits_;
};

// absl::Status -> grpc::Status, keeping the code (the numbering is the same).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace fscanary::collector
