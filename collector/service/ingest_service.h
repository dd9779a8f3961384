#pragma once
// The collector's side of the agent stream: admits it within the stream
// limits, binds it to the agent its credential names, checks every message,
// hands records to the group committer (at most max_records_in_flight of a
// stream at a time), and acknowledges each one only once it is durably stored.
// Built on gRPC's callback API: a stream holds no thread of its own, only an
// IngestStream reactor (ingest_stream.h) driven by gRPC's and the committer's
// threads.

#include <cstdint>
#include <string>
#include <string_view>

#include "collector/adaptive/hint_board.h"
#include "collector/service/credentials.h"
#include "collector/service/group_commit.h"
#include "collector/service/sessions.h"
#include "collector/service/stream_limits.h"
#include "collector/service/validate.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "metrics/registry.h"

namespace fscanary::collector {

class IngestService final : public v1::Ingest::CallbackService {
 public:
  // Everything a stream uses of the collector; each must outlive the service
  // and every stream it started.
  struct Shared {
    GroupCommitter& committer;
    Sessions& sessions;
    const Credentials& credentials;
    StreamLimits& stream_limits;
    const ValidationLimits limits;
    const uint32_t max_records_in_flight;
    // May be null: no Hints are sent.
    const adaptive::HintBoard* hints = nullptr;
  };

  IngestService(Shared shared, metrics::Registry& registry);

  grpc::ServerBidiReactor<v1::AgentMessage, v1::CollectorMessage>* Stream(
      grpc::CallbackServerContext* context) override;

  // Counts a refused message under `reason` and logs it; the status ends its stream.
  grpc::Status Reject(std::string_view reason, grpc::StatusCode code, const std::string& detail);
  const Shared& shared() const { return shared_; }

 private:
  const Shared shared_;
  metrics::Family<metrics::Counter>* rejected_ = nullptr;
};

}  // namespace fscanary::collector
