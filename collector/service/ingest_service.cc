#include "collector/service/ingest_service.h"

#include "collector/service/ingest_stream.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {

IngestService::IngestService(Shared shared, metrics::Registry& registry) : shared_(shared) {
  auto rejected = registry.AddCounter("fscanary_collector_rejected_messages_total",
                                      "Messages from agents refused, by reason.");
  if (rejected.ok()) rejected_ = *rejected;
  // Every reason starts at zero, so rate() sees the first rejection.
  for (const char* reason : {"unauthenticated", "no_hello", "agent_id", "sequence", "missing_body",
                             "string", "range", "size", "duplicate_hello", "kernel_config"}) {
    if (rejected_ != nullptr) (void)rejected_->Add({{"reason", reason}});
  }
}

grpc::ServerBidiReactor<v1::AgentMessage, v1::CollectorMessage>* IngestService::Stream(
    grpc::CallbackServerContext* context) {
  return new IngestStream(*this, context);
}

grpc::Status IngestService::Reject(std::string_view reason, grpc::StatusCode code,
                                   const std::string& detail) {
  if (rejected_ != nullptr) {
    if (auto counter = rejected_->Add({{"reason", std::string(reason)}}); counter.ok()) {
      (*counter)->Increment();
    }
  }
  spdlog::warn("rejected agent message ({}): {}", reason, detail);
  return grpc::Status(code, detail);
}

}  // namespace fscanary::collector
