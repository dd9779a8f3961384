#include "collector/service/sessions.h"

#include <algorithm>
#include <utility>

namespace fscanary::collector {

void Sessions::Open(const std::string& agent_id, uint64_t spooled_records, uint64_t spooled_bytes) {
  std::lock_guard lock(mutex_);
  SessionState& state = agents_[agent_id];
  ++state.streams;
  state.spooled_records = spooled_records;
  state.spooled_bytes = spooled_bytes;
}

void Sessions::UpdateBacklog(const std::string& agent_id, uint64_t spooled_records,
                             uint64_t spooled_bytes) {
  std::lock_guard lock(mutex_);
  const auto it = agents_.find(agent_id);
  if (it == agents_.end()) return;  // only a stream that said hello reports a backlog
  it->second.spooled_records = spooled_records;
  it->second.spooled_bytes = spooled_bytes;
}

void Sessions::Close(const std::string& agent_id) {
  std::lock_guard lock(mutex_);
  const auto it = agents_.find(agent_id);
  if (it != agents_.end() && it->second.streams > 0) --it->second.streams;
}

void Sessions::Heard(const std::string& agent_id, int64_t now_unix_nanos) {
  std::lock_guard lock(mutex_);
  int64_t& heard = heard_[agent_id];
  heard = std::max(heard, now_unix_nanos);
}

std::map<std::string, int64_t> Sessions::TakeHeard() {
  std::lock_guard lock(mutex_);
  return std::exchange(heard_, {});
}

std::map<std::string, SessionState> Sessions::Snapshot() const {
  std::lock_guard lock(mutex_);
  return agents_;
}

}  // namespace fscanary::collector
