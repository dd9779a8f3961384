#pragma once
// The fleet as the correlation engine sees it: host epochs (a host over a
// period in which none of its attributes changed), each with its exposure,
// corruption counts and attribute values. Built once by FleetBuilder, then
// immutable and safe to read from several threads.
//
// Layout: attribute values are stored by column, as the set of epochs holding
// each value (a sorted list while rare, a bitset once common). The builder
// sorts epochs by a few structural attributes (kernel release in version
// order, distro, driver, ...), so that values which follow them — kernel config
// options follow the kernel build — become runs of whole 64-bit words, which
// the analysis intersects and sums quickly.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"

namespace fscanary::analysis {

using AttributeId = uint32_t;
using ValueId = uint32_t;
using KindId = uint32_t;

// The epochs holding one attribute value.
class EpochPosting {
 public:
  size_t count() const { return count_; }
  bool is_bitset() const { return is_bitset_; }
  // Bitset form: one bit per epoch of the fleet, (epoch_count + 63) / 64 words.
  std::span<const uint64_t> words() const { return words_; }
  // List form: epoch indices, ascending.
  std::span<const uint32_t> epochs() const { return epochs_; }

 private:
  friend class FleetBuilder;
  std::vector<uint64_t> words_;
  std::vector<uint32_t> epochs_;
  size_t count_ = 0;
  bool is_bitset_ = false;
};

// Corruptions found in one epoch, of one kind.
struct CorruptionCount {
  uint32_t epoch = 0;
  KindId kind = 0;
  uint64_t count = 0;
};

class Fleet {
 public:
  Fleet(Fleet&&) = default;
  Fleet& operator=(Fleet&&) = default;

  size_t epoch_count() const { return epoch_host_.size(); }
  size_t host_count() const { return host_names_.size(); }
  uint32_t epoch_host(uint32_t epoch) const { return epoch_host_[epoch]; }
  const std::string& host_name(uint32_t host) const { return host_names_[host]; }
  std::span<const double> exposure_bytes() const { return exposure_bytes_; }
  std::span<const double> exposure_seconds() const { return exposure_seconds_; }
  // When each epoch started, in seconds on the clock the input used (Unix
  // time from the collector); NaN where the input did not say. Fix
  // confirmation orders a host's epochs by it.
  std::span<const double> start_seconds() const { return start_seconds_; }

  size_t attribute_count() const { return attribute_names_.size(); }
  const std::string& attribute_name(AttributeId attribute) const {
    return attribute_names_[attribute];
  }
  std::optional<AttributeId> FindAttribute(std::string_view name) const;
  std::span<const ValueId> attribute_values(AttributeId attribute) const {
    return attribute_values_[attribute];
  }

  size_t value_count() const { return value_attribute_.size(); }
  AttributeId value_attribute(ValueId value) const { return value_attribute_[value]; }
  const std::string& value_text(ValueId value) const { return value_text_[value]; }
  const EpochPosting& posting(ValueId value) const { return postings_[value]; }

  // Sorted by epoch. Kind "" holds counts that were reported without a kind.
  std::span<const CorruptionCount> corruptions() const { return corruptions_; }
  size_t kind_count() const { return kind_names_.size(); }
  const std::string& kind_name(KindId kind) const { return kind_names_[kind]; }
  std::optional<KindId> FindKind(std::string_view name) const;

 private:
  friend class FleetBuilder;
  Fleet() = default;

  std::vector<std::string> host_names_;
  std::vector<uint32_t> epoch_host_;
  std::vector<double> exposure_bytes_;
  std::vector<double> exposure_seconds_;
  std::vector<double> start_seconds_;
  std::vector<std::string> attribute_names_;
  std::vector<std::vector<ValueId>> attribute_values_;
  std::vector<AttributeId> value_attribute_;
  std::vector<std::string> value_text_;
  std::vector<EpochPosting> postings_;
  std::vector<CorruptionCount> corruptions_;
  std::vector<std::string> kind_names_;
};

struct FleetLayout {
  // Epochs are ordered by these attributes, in this order (the kernel release
  // in version order, the others by text); the rest keep insertion order.
  std::vector<std::string> sort_by = {"kernel", "distro", "driver", "scheduler", "blk_mq", "fs"};
  std::string kernel_attribute = "kernel";
};

// Accumulates epochs. Interning attribute names, values and corruption kinds
// returns ids that stay valid in the built Fleet. Not thread-safe.
class FleetBuilder {
 public:
  explicit FleetBuilder(FleetLayout layout = {});

  AttributeId Attribute(std::string_view name);
  ValueId Value(AttributeId attribute, std::string_view text);
  KindId Kind(std::string_view name);

  struct KindCount {
    KindId kind = 0;
    uint64_t count = 0;
  };
  struct Epoch {
    std::string_view host;
    double exposure_bytes = 0;
    double exposure_seconds = 0;
    double start_seconds = std::numeric_limits<double>::quiet_NaN();  // NaN: not known
    std::span<const ValueId> values;  // at most one value per attribute
    std::span<const KindCount> corruptions;
  };
  // InvalidArgument (and nothing added) for a negative or non-finite exposure,
  // an infinite start,
  // an unknown id, or two values of one attribute.
  absl::Status AddEpoch(const Epoch& epoch);

  size_t epoch_count() const { return epoch_host_.size(); }

  Fleet Build() &&;

 private:
  struct ValueState {
    AttributeId attribute = 0;
    size_t count = 0;
    bool is_bitset = false;
    // Once common: the word of the 64 epochs being added, written to `words`
    // when the next block starts, so that adding an epoch touches this small
    // struct rather than a cache line in every value's bitset.
    uint32_t pending_block = 0;
    uint64_t pending = 0;
    std::vector<uint32_t> epochs;  // while rare
    std::vector<uint64_t> words;   // once common
    std::string text;
  };
  void Append(ValueState& value, uint32_t epoch);
  static void Flush(ValueState& value);
  std::vector<uint32_t> SortOrder() const;

  FleetLayout layout_;
  absl::flat_hash_map<std::string, uint32_t> host_ids_;
  std::vector<std::string> host_names_;
  std::vector<uint32_t> epoch_host_;
  std::vector<double> exposure_bytes_;
  std::vector<double> exposure_seconds_;
  std::vector<double> start_seconds_;
  absl::flat_hash_map<std::string, AttributeId> attribute_ids_;
  std::vector<std::string> attribute_names_;
  std::vector<absl::flat_hash_map<std::string, ValueId>> attribute_value_ids_;
  std::vector<uint32_t> attribute_stamp_;  // last epoch + 1 that set the attribute
  std::vector<ValueState> values_;
  absl::flat_hash_map<std::string, KindId> kind_ids_;
  std::vector<std::string> kind_names_;
  std::vector<CorruptionCount> corruptions_;
};

}  // namespace fscanary::analysis
