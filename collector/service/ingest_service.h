#pragma once
// The collector's side of the agent stream: admits it within the stream
// limits, binds it to the agent its credential names, checks every message,
// hands records to the group committer (at most max_records_in_flight of a
// stream at a time), and acknowledges each one only once it is durably stored.

#include <map>
#include <memory>
#include <string>

#include "collector/adaptive/hint_board.h"
#include "collector/service/credentials.h"
#include "collector/service/group_commit.h"
#include "collector/service/sessions.h"
#include "collector/service/stream_limits.h"
#include "collector/service/validate.h"
#include "collector/store/store.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "metrics/registry.h"

namespace fscanary::collector {

class IngestService final : public v1::Ingest::Service {
 public:
  // `credentials`, `stream_limits` and `hints` (may be null: no Hints sent)
  // must outlive the service.
  IngestService(store::Store& store, GroupCommitter& committer, Sessions& sessions,
                const Credentials& credentials, StreamLimits& stream_limits,
                ValidationLimits limits, uint32_t max_records_in_flight,
                metrics::Registry& registry, const adaptive::HintBoard* hints = nullptr);

  grpc::Status Stream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream) override;

 private:
  grpc::Status Reject(std::string_view reason, grpc::StatusCode code, const std::string& detail);

  store::Store& store_;
  GroupCommitter& committer_;
  Sessions& sessions_;
  const Credentials& credentials_;
  StreamLimits& stream_limits_;
  const ValidationLimits limits_;
  const uint32_t max_records_in_flight_;
  const adaptive::HintBoard* hints_;
  metrics::Family<metrics::Counter>* rejected_ = nullptr;
};

}  // namespace fscanary::collector
