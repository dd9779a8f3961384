#include "collector/analysis/fleet.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "collector/analysis/kernel_version.h"

namespace fscanary::analysis {
namespace {

absl::string_view ToAbsl(std::string_view text) { return {text.data(), text.size()}; }

// A value becomes a bitset once it holds 1/32 of the epochs seen so far: from
// then on a bit costs less than a 4-byte list entry.
constexpr size_t kListToBitsetMinimum = 64;
constexpr size_t kBitsetRatio = 32;

}  // namespace

std::optional<AttributeId> Fleet::FindAttribute(std::string_view name) const {
  for (AttributeId id = 0; id < attribute_names_.size(); ++id) {
    if (attribute_names_[id] == name) return id;
  }
  return std::nullopt;
}

std::optional<KindId> Fleet::FindKind(std::string_view name) const {
  for (KindId id = 0; id < kind_names_.size(); ++id) {
    if (kind_names_[id] == name) return id;
  }
  return std::nullopt;
}

FleetBuilder::FleetBuilder(FleetLayout layout) : layout_(std::move(layout)) {}

AttributeId FleetBuilder::Attribute(std::string_view name) {
  auto [it, inserted] = attribute_ids_.try_emplace(ToAbsl(name), attribute_names_.size());
  if (inserted) {
    attribute_names_.emplace_back(name);
    attribute_value_ids_.emplace_back();
    attribute_stamp_.push_back(0);
  }
  return it->second;
}

ValueId FleetBuilder::Value(AttributeId attribute, std::string_view text) {
  auto [it, inserted] = attribute_value_ids_[attribute].try_emplace(ToAbsl(text), values_.size());
  if (inserted) {
    values_.push_back(ValueState{.attribute = attribute, .text = std::string(text)});
  }
  return it->second;
}

KindId FleetBuilder::Kind(std::string_view name) {
  auto [it, inserted] = kind_ids_.try_emplace(ToAbsl(name), kind_names_.size());
  if (inserted) kind_names_.emplace_back(name);
  return it->second;
}

void FleetBuilder::Flush(ValueState& value) {
  if (!value.is_bitset || value.pending == 0) return;
  if (value.pending_block >= value.words.size()) value.words.resize(value.pending_block + 1, 0);
  value.words[value.pending_block] |= value.pending;
  value.pending = 0;
}

void FleetBuilder::Append(ValueState& value, uint32_t epoch) {
  ++value.count;
  if (!value.is_bitset) {
    value.epochs.push_back(epoch);
    if (value.count >= kListToBitsetMinimum && value.count * kBitsetRatio >= size_t{epoch} + 1) {
      value.is_bitset = true;
      value.words.assign(size_t{epoch} / 64 + 1, 0);
      for (const uint32_t e : value.epochs) value.words[e / 64] |= uint64_t{1} << (e % 64);
      value.epochs.clear();
      value.epochs.shrink_to_fit();
      value.pending_block = epoch / 64;
    }
    return;
  }
  if (epoch / 64 != value.pending_block) {
    Flush(value);
    value.pending_block = epoch / 64;
  }
  value.pending |= uint64_t{1} << (epoch % 64);
}

absl::Status FleetBuilder::AddEpoch(const Epoch& epoch) {
  const auto bad_exposure = [](double x) { return !std::isfinite(x) || x < 0; };
  if (bad_exposure(epoch.exposure_bytes) || bad_exposure(epoch.exposure_seconds)) {
    return absl::InvalidArgumentError("exposure must be a finite, non-negative number");
  }
  if (std::isinf(epoch.start_seconds)) {
    return absl::InvalidArgumentError("an epoch's start must be finite");
  }
  if (epoch_host_.size() >= std::numeric_limits<uint32_t>::max() - 1) {
    return absl::ResourceExhaustedError("too many host epochs");
  }
  const uint32_t index = static_cast<uint32_t>(epoch_host_.size());
  // Validate everything before changing anything; stamps set here are undone
  // on failure so that a corrected retry is accepted.
  const auto undo_stamps = [&](size_t up_to) {
    for (size_t j = 0; j < up_to; ++j) attribute_stamp_[values_[epoch.values[j]].attribute] = 0;
  };
  for (size_t i = 0; i < epoch.values.size(); ++i) {
    const ValueId value = epoch.values[i];
    if (value >= values_.size()) {
      undo_stamps(i);
      return absl::InvalidArgumentError("unknown attribute value id");
    }
    uint32_t& stamp = attribute_stamp_[values_[value].attribute];
    if (stamp == index + 1) {
      undo_stamps(i);
      return absl::InvalidArgumentError(
          absl::StrCat("two values for attribute ", attribute_names_[values_[value].attribute]));
    }
    stamp = index + 1;
  }
  for (const KindCount& corruption : epoch.corruptions) {
    if (corruption.kind >= kind_names_.size()) {
      undo_stamps(epoch.values.size());
      return absl::InvalidArgumentError("unknown corruption kind id");
    }
  }
  auto [host, inserted] = host_ids_.try_emplace(ToAbsl(epoch.host), host_names_.size());
  if (inserted) host_names_.emplace_back(epoch.host);
  epoch_host_.push_back(host->second);
  exposure_bytes_.push_back(epoch.exposure_bytes);
  exposure_seconds_.push_back(epoch.exposure_seconds);
  start_seconds_.push_back(epoch.start_seconds);
  for (const ValueId value : epoch.values) Append(values_[value], index);
  for (const KindCount& corruption : epoch.corruptions) {
    if (corruption.count > 0) {
      corruptions_.push_back({.epoch = index, .kind = corruption.kind, .count = corruption.count});
    }
  }
  return absl::OkStatus();
}

std::vector<uint32_t> FleetBuilder::SortOrder() const {
  const size_t n = epoch_host_.size();
  constexpr uint32_t kMissing = std::numeric_limits<uint32_t>::max();
  std::vector<std::vector<uint32_t>> keys;
  for (const std::string& name : layout_.sort_by) {
    const auto attribute = attribute_ids_.find(name);
    if (attribute == attribute_ids_.end()) continue;
    std::vector<ValueId> ranked;
    for (const auto& [text, value] : attribute_value_ids_[attribute->second]) {
      ranked.push_back(value);
    }
    const bool is_kernel = name == layout_.kernel_attribute;
    std::sort(ranked.begin(), ranked.end(), [&](ValueId a, ValueId b) {
      return is_kernel ? KernelReleaseLess(values_[a].text, values_[b].text)
                       : values_[a].text < values_[b].text;
    });
    std::vector<uint32_t> key(n, kMissing);
    for (uint32_t rank = 0; rank < ranked.size(); ++rank) {
      const ValueState& value = values_[ranked[rank]];
      if (value.is_bitset) {
        for (size_t w = 0; w < value.words.size(); ++w) {
          for (uint64_t bits = value.words[w]; bits != 0; bits &= bits - 1) {
            key[w * 64 + std::countr_zero(bits)] = rank;
          }
        }
      } else {
        for (const uint32_t epoch : value.epochs) key[epoch] = rank;
      }
    }
    keys.push_back(std::move(key));
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    for (const std::vector<uint32_t>& key : keys) {
      if (key[a] != key[b]) return key[a] < key[b];
    }
    return false;
  });
  return order;
}

Fleet FleetBuilder::Build() && {
  for (ValueState& value : values_) Flush(value);
  const size_t n = epoch_host_.size();
  const size_t words = (n + 63) / 64;
  const std::vector<uint32_t> order = SortOrder();
  std::vector<uint32_t> position(n);
  for (uint32_t i = 0; i < n; ++i) position[order[i]] = i;

  Fleet fleet;
  fleet.host_names_ = std::move(host_names_);
  fleet.epoch_host_.resize(n);
  fleet.exposure_bytes_.resize(n);
  fleet.exposure_seconds_.resize(n);
  fleet.start_seconds_.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    fleet.epoch_host_[i] = epoch_host_[order[i]];
    fleet.exposure_bytes_[i] = exposure_bytes_[order[i]];
    fleet.exposure_seconds_[i] = exposure_seconds_[order[i]];
    fleet.start_seconds_[i] = start_seconds_[order[i]];
  }
  fleet.attribute_names_ = std::move(attribute_names_);
  fleet.attribute_values_.resize(fleet.attribute_names_.size());
  fleet.value_attribute_.reserve(values_.size());
  fleet.value_text_.reserve(values_.size());
  fleet.postings_.resize(values_.size());
  for (ValueId id = 0; id < values_.size(); ++id) {
    ValueState& value = values_[id];
    fleet.attribute_values_[value.attribute].push_back(id);
    fleet.value_attribute_.push_back(value.attribute);
    fleet.value_text_.push_back(std::move(value.text));
    EpochPosting& posting = fleet.postings_[id];
    posting.count_ = value.count;
    posting.is_bitset_ = value.count * kBitsetRatio >= n && value.count > 0;
    if (posting.is_bitset_) {
      posting.words_.assign(words, 0);
      const auto set = [&](uint32_t old_epoch) {
        const uint32_t e = position[old_epoch];
        posting.words_[e / 64] |= uint64_t{1} << (e % 64);
      };
      if (value.is_bitset) {
        for (size_t w = 0; w < value.words.size(); ++w) {
          for (uint64_t bits = value.words[w]; bits != 0; bits &= bits - 1) {
            set(static_cast<uint32_t>(w * 64 + std::countr_zero(bits)));
          }
        }
      } else {
        for (const uint32_t epoch : value.epochs) set(epoch);
      }
    } else {
      posting.epochs_.reserve(value.count);
      if (value.is_bitset) {
        for (size_t w = 0; w < value.words.size(); ++w) {
          for (uint64_t bits = value.words[w]; bits != 0; bits &= bits - 1) {
            posting.epochs_.push_back(position[w * 64 + std::countr_zero(bits)]);
          }
        }
      } else {
        for (const uint32_t epoch : value.epochs) posting.epochs_.push_back(position[epoch]);
      }
      std::sort(posting.epochs_.begin(), posting.epochs_.end());
    }
    std::vector<uint32_t>().swap(value.epochs);
    std::vector<uint64_t>().swap(value.words);
  }
  fleet.corruptions_ = std::move(corruptions_);
  for (CorruptionCount& corruption : fleet.corruptions_) {
    corruption.epoch = position[corruption.epoch];
  }
  std::sort(fleet.corruptions_.begin(), fleet.corruptions_.end(),
            [](const CorruptionCount& a, const CorruptionCount& b) {
              return a.epoch != b.epoch ? a.epoch < b.epoch : a.kind < b.kind;
            });
  fleet.kind_names_ = std::move(kind_names_);
  return fleet;
}

}  // namespace fscanary::analysis
