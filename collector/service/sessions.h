#pragma once
// The agents with an open stream, as this collector process sees them: who is
// connected now and the spool backlog each last announced. Kept in memory on
// purpose: after a collector restart nobody is connected until agents say
// hello again, which is the truth (the store's connected flag is not, after a
// crash).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace fscanary::collector {

struct SessionState {
  // Open streams of the agent (a reconnect may briefly overlap the old one).
  int streams = 0;
  uint64_t spooled_records = 0;
  uint64_t spooled_bytes = 0;
};

// Thread-safe.
class Sessions {
 public:
  void Open(const std::string& agent_id, uint64_t spooled_records, uint64_t spooled_bytes);
  void UpdateBacklog(const std::string& agent_id, uint64_t spooled_records, uint64_t spooled_bytes);
  void Close(const std::string& agent_id);
  // A heartbeat: kept here until TakeHeard, so it costs no transaction.
  void Heard(const std::string& agent_id, int64_t now_unix_nanos);
  // The agents heard since the last call, with when they were last heard.
  std::map<std::string, int64_t> TakeHeard();

  // A copy: agents with at least one open stream, and the last backlog of
  // every agent heard from since start (kept after it disconnects).
  std::map<std::string, SessionState> Snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, SessionState> agents_;
  std::map<std::string, int64_t> heard_;
};

}  // namespace fscanary::collector
