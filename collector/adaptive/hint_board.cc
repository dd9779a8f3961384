#include "collector/adaptive/hint_board.h"

namespace fscanary::adaptive {

void HintBoard::Publish(const std::map<std::string, double>& boosts) {
  std::map<std::string, double> boosted;
  for (const auto& [agent_id, factor] : boosts) {
    if (factor > 1) boosted.emplace(agent_id, factor);
  }
  std::lock_guard lock(mutex_);
  if (boosted == boosts_) return;
  boosts_ = std::move(boosted);
  ++version_;
}

double HintBoard::BoostOf(const std::string& agent_id) const {
  std::lock_guard lock(mutex_);
  const auto it = boosts_.find(agent_id);
  return it == boosts_.end() ? 1.0 : it->second;
}

size_t HintBoard::boosts_in_force() const {
  std::lock_guard lock(mutex_);
  return boosts_.size();
}

std::optional<v1::CollectorMessage> HintStream::Pending(std::chrono::steady_clock::time_point now) {
  if (board_ == nullptr) return std::nullopt;
  const uint64_t version = board_->version();
  const bool renew = sent_.has_value() && *sent_ > 1 && now - sent_at_ >= board_->renew_interval_;
  // The common case, an unchanged board and nothing to renew, takes no lock.
  if (sent_.has_value() && version == seen_version_ && !renew) return std::nullopt;
  seen_version_ = version;
  const double factor = board_->BoostOf(agent_id_);
  if (sent_.has_value() && *sent_ == factor && !renew) return std::nullopt;
  sent_ = factor;
  sent_at_ = now;
  v1::CollectorMessage message;
  message.mutable_hint()->set_boost_factor(factor);
  return message;
}

}  // namespace fscanary::adaptive
