#include "collector/analysis/epoch_values.h"

#include <algorithm>
#include <cmath>

#include "collector/analysis/kernel_version.h"

namespace fscanary::analysis {
namespace {

std::optional<std::string> SeriesOf(const std::string& release) {
  const std::optional<KernelVersion> version = ParseKernelVersion(release);
  if (!version.has_value()) return std::nullopt;
  return std::to_string(version->major) + "." + std::to_string(version->minor);
}

}  // namespace

EpochValues::EpochValues(const Fleet& fleet, const AnalysisOptions& options)
    : fleet_(fleet), options_(options) {
  const size_t n = fleet.epoch_count();
  derived_series_ = !fleet.FindAttribute(options.kernel_series_attribute).has_value();
  kernel_ = fleet.FindAttribute(options.kernel_attribute);
  std::vector<uint32_t> counts(n + 1, 0);
  const auto each_epoch = [&](ValueId value, auto&& visit) {
    const EpochPosting& posting = fleet.posting(value);
    if (posting.is_bitset()) {
      for (size_t w = 0; w < posting.words().size(); ++w) {
        for (uint64_t bits = posting.words()[w]; bits != 0; bits &= bits - 1) {
          visit(static_cast<uint32_t>(w * 64 + std::countr_zero(bits)));
        }
      }
    } else {
      for (const uint32_t e : posting.epochs()) visit(e);
    }
  };
  for (ValueId v = 0; v < fleet.value_count(); ++v) {
    each_epoch(v, [&](uint32_t e) { ++counts[e + 1]; });
  }
  for (size_t e = 0; e < n; ++e) counts[e + 1] += counts[e];
  row_start_ = counts;
  rows_.assign(counts[n], 0);
  std::vector<uint32_t> fill(counts.begin(), counts.end() - 1);
  for (ValueId v = 0; v < fleet.value_count(); ++v) {
    each_epoch(v, [&](uint32_t e) { rows_[fill[e]++] = v; });
  }
  for (size_t e = 0; e < n; ++e) {
    std::sort(
        rows_.begin() + row_start_[e], rows_.begin() + row_start_[e + 1],
        [&](ValueId a, ValueId b) { return fleet.value_attribute(a) < fleet.value_attribute(b); });
  }

  host_epochs_.resize(fleet.host_count());
  for (uint32_t e = 0; e < n; ++e) host_epochs_[fleet.epoch_host(e)].push_back(e);
  const std::span<const double> start = fleet.start_seconds();
  for (std::vector<uint32_t>& epochs : host_epochs_) {
    std::stable_sort(epochs.begin(), epochs.end(), [&](uint32_t a, uint32_t b) {
      if (std::isnan(start[a]) || std::isnan(start[b]))
        return !std::isnan(start[a]) && std::isnan(start[b]);
      return start[a] < start[b];
    });
  }

  events_.assign(n, 0);
  const std::optional<KindId> kind =
      options.kind.has_value() ? fleet.FindKind(*options.kind) : std::nullopt;
  for (const CorruptionCount& c : fleet.corruptions()) {
    if (options.kind.has_value() && (!kind.has_value() || c.kind != *kind)) continue;
    events_[c.epoch] += c.count;
  }
}

std::span<const ValueId> EpochValues::Row(uint32_t epoch) const {
  return std::span<const ValueId>(rows_).subspan(row_start_[epoch],
                                                 row_start_[epoch + 1] - row_start_[epoch]);
}

std::optional<ValueId> EpochValues::Of(uint32_t epoch, AttributeId attribute) const {
  const std::span<const ValueId> row = Row(epoch);
  const auto it =
      std::lower_bound(row.begin(), row.end(), attribute,
                       [&](ValueId v, AttributeId a) { return fleet_.value_attribute(v) < a; });
  if (it == row.end() || fleet_.value_attribute(*it) != attribute) return std::nullopt;
  return *it;
}

bool EpochValues::IsKernelDerived(const std::string& attribute) const {
  return (derived_series_ && attribute == options_.kernel_series_attribute) ||
         attribute == options_.kernel_range_attribute;
}

std::optional<std::string> EpochValues::Text(uint32_t epoch, const std::string& attribute) const {
  if (IsKernelDerived(attribute)) {
    if (!kernel_.has_value()) return std::nullopt;
    const std::optional<ValueId> release = Of(epoch, *kernel_);
    if (!release.has_value()) return std::nullopt;
    if (attribute == options_.kernel_range_attribute) return fleet_.value_text(*release);
    return SeriesOf(fleet_.value_text(*release));
  }
  const std::optional<AttributeId> id = fleet_.FindAttribute(attribute);
  if (!id.has_value()) return std::nullopt;
  const std::optional<ValueId> value = Of(epoch, *id);
  if (!value.has_value()) return std::nullopt;
  return fleet_.value_text(*value);
}

bool EpochValues::Holds(uint32_t epoch, const AttributeValue& value) const {
  const std::optional<std::string> text = Text(epoch, value.attribute);
  if (!text.has_value()) return false;
  if (value.attribute != options_.kernel_range_attribute) return *text == value.value;
  // "first..last": a release of first's series between the two, in version order.
  const size_t dots = value.value.find("..");
  if (dots == std::string::npos) return *text == value.value;
  const std::string first = value.value.substr(0, dots);
  const std::string last = value.value.substr(dots + 2);
  return SeriesOf(*text) == SeriesOf(first) && !KernelReleaseLess(*text, first) &&
         !KernelReleaseLess(last, *text);
}

bool EpochValues::HoldsAll(uint32_t epoch, const std::vector<AttributeValue>& values) const {
  return std::all_of(values.begin(), values.end(),
                     [&](const AttributeValue& v) { return Holds(epoch, v); });
}

std::vector<std::pair<std::string, std::string>> EpochValues::Attributes(uint32_t epoch) const {
  std::vector<std::pair<std::string, std::string>> attributes;
  for (const ValueId v : Row(epoch)) {
    attributes.emplace_back(fleet_.attribute_name(fleet_.value_attribute(v)), fleet_.value_text(v));
  }
  return attributes;
}

}  // namespace fscanary::analysis
