#include "collector/service/query_service.h"

#include "collector/analysis/analysis.h"
#include "collector/analysis/report.h"
#include "collector/fleet/host_attributes.h"

namespace fscanary::collector {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

namespace {

template <typename Response>
grpc::Status Answer(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status QueryService::ListHosts(grpc::ServerContext*, const v1::ListHostsRequest*,
                                     v1::ListHostsResponse* response) {
  return Answer(store_.ListHosts(), response);
}

grpc::Status QueryService::ListFindings(grpc::ServerContext*,
                                        const v1::ListFindingsRequest* request,
                                        v1::ListFindingsResponse* response) {
  if (request->limit() > 100000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit above 100000");
  }
  return Answer(store_.ListFindings(*request), response);
}

grpc::Status QueryService::GetHost(grpc::ServerContext*, const v1::GetHostRequest* request,
                                   v1::GetHostResponse* response) {
  if (request->agent_id().empty() || request->agent_id().size() > 128) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "agent_id must be 1-128 bytes");
  }
  return Answer(store_.GetHost(request->agent_id()), response);
}

namespace {

absl::StatusOr<analysis::AnalysisOptions> AnalysisOptionsOf(const v1::AnalyzeRequest& request) {
  analysis::AnalysisOptions options;
  if (!request.kind().empty()) options.kind = request.kind();
  if (request.max_order() != 0) {
    if (request.max_order() > 4) return absl::InvalidArgumentError("max_order must be 1 to 4");
    options.max_order = static_cast<int>(request.max_order());
  }
  if (request.min_events() != 0) options.min_events = request.min_events();
  if (request.min_hosts() != 0) options.min_event_hosts = request.min_hosts();
  if (request.min_epochs() != 0) options.min_epochs = request.min_epochs();
  if (request.min_support() != 0) {
    if (!(request.min_support() > 0 && request.min_support() < 1)) {
      return absl::InvalidArgumentError("min_support must be in (0, 1)");
    }
    options.min_support = request.min_support();
  }
  if (request.top() != 0) {
    if (request.top() > 1000) return absl::InvalidArgumentError("top must be 1 to 1000");
    options.max_suspects = request.top();
  }
  if (request.alpha() != 0) {
    if (!(request.alpha() >= 1e-12 && request.alpha() <= 0.5)) {
      return absl::InvalidArgumentError("alpha must be in [1e-12, 0.5]");
    }
    options.productive_alpha = request.alpha();
  }
  if (request.exposure() == "seconds") {
    options.exposure = analysis::ExposureUnit::kSeconds;
  } else if (!request.exposure().empty() && request.exposure() != "bytes") {
    return absl::InvalidArgumentError("exposure must be \"bytes\" or \"seconds\"");
  }
  return options;
}

}  // namespace

grpc::Status QueryService::Analyze(grpc::ServerContext*, const v1::AnalyzeRequest* request,
                                   v1::AnalyzeResponse* response) {
  absl::StatusOr<analysis::AnalysisOptions> options = AnalysisOptionsOf(*request);
  if (!options.ok()) return ToGrpcStatus(options.status());
  absl::StatusOr<std::vector<store::EpochRecord>> epochs = store_.ListEpochs();
  if (!epochs.ok()) return ToGrpcStatus(epochs.status());
  absl::StatusOr<fleet::BuiltFleet> built = fleet::BuildFleet(*epochs);
  if (!built.ok()) return ToGrpcStatus(built.status());
  absl::StatusOr<analysis::AnalysisResult> result = analysis::AnalyzeFleet(built->fleet, *options);
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_report(request->json() ? analysis::FormatJson(*result)
                                       : analysis::FormatText(*result));
  for (const std::string& note : result->notes) response->add_notes(note);
  for (const std::string& skipped : built->skipped) {
    response->add_notes("left out of the analysis: " + skipped);
  }
  response->set_hosts(result->hosts);
  response->set_epochs(result->epochs);
  response->set_events(result->events);
  return grpc::Status::OK;
}

}  // namespace fscanary::collector
