#include "collector/analysis/kernel_range.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/analysis/kernel_version.h"
#include "collector/analysis/statistics.h"

namespace fscanary::analysis {
namespace {

std::string DescribeContext(const std::vector<AttributeValue>& context) {
  if (context.empty()) return "across the fleet";
  return absl::StrCat("among hosts with ",
                      absl::StrJoin(context, " ∧ ", [](std::string* out, const AttributeValue& a) {
                        absl::StrAppend(out, a.attribute, "=", a.value);
                      }));
}

}  // namespace

KernelVersionReport ReportKernelVersions(const KernelRangeInput& input) {
  KernelVersionReport report;
  report.context = input.context_labels;
  const Fleet& fleet = *input.fleet;
  const std::optional<AttributeId> kernel = fleet.FindAttribute(input.kernel_attribute);
  if (!kernel.has_value()) {
    report.statement = "The fleet reports no kernel releases.";
    return report;
  }
  std::vector<uint64_t> events_at(fleet.epoch_count(), 0);
  const auto slot_epochs = input.events->slot_epochs();
  const auto slot_counts = input.events->slot_counts();
  for (size_t i = 0; i < slot_epochs.size(); ++i) events_at[slot_epochs[i]] = slot_counts[i];

  std::vector<KernelVersionRow> rows;
  for (const ValueId value : fleet.attribute_values(*kernel)) {
    KernelVersionRow row{.kernel = fleet.value_text(value)};
    const auto visit = [&](uint32_t e) {
      if (input.context.has_value() && !Contains(*input.context, e)) return;
      ++row.epochs;
      row.exposure += input.weights->exposure(e);
      row.exposure_bytes += input.byte_weights->exposure(e);
      row.events += events_at[e];
      if (input.kernel_item.has_value() && Contains(*input.kernel_item, e)) row.in_suspect = true;
    };
    const EpochPosting& posting = fleet.posting(value);
    if (posting.is_bitset()) {
      const auto words = posting.words();
      for (size_t w = 0; w < words.size(); ++w) {
        for (uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
          visit(static_cast<uint32_t>(w * 64 + std::countr_zero(bits)));
        }
      }
    } else {
      for (const uint32_t e : posting.epochs()) visit(e);
    }
    if (row.epochs > 0) rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const KernelVersionRow& a, const KernelVersionRow& b) {
    return KernelReleaseLess(a.kernel, b.kernel);
  });
  report.rows = rows;

  // Only releases that parse have a place in the order.
  std::vector<const KernelVersionRow*> ordered;
  for (const KernelVersionRow& row : rows) {
    if (ParseKernelVersion(row.kernel).has_value()) ordered.push_back(&row);
  }
  const auto affected = [&](const KernelVersionRow* row) {
    return row->events > 0 && (!input.kernel_item.has_value() || row->in_suspect);
  };
  const auto first = std::find_if(ordered.begin(), ordered.end(), affected);
  const std::string where = DescribeContext(input.context_labels);
  if (first == ordered.end()) {
    report.statement = absl::StrCat("No events on any kernel release ", where, ".");
    return report;
  }
  const auto last = std::find_if(ordered.rbegin(), ordered.rend(), affected);
  const size_t f = static_cast<size_t>(first - ordered.begin());
  const size_t l = ordered.size() - 1 - static_cast<size_t>(last - ordered.rbegin());
  report.first_affected = ordered[f]->kernel;
  report.last_affected = ordered[l]->kernel;

  uint64_t range_events = 0;
  double range_exposure = 0;
  size_t releases_with_events = 0;
  for (size_t i = f; i <= l; ++i) {
    range_events += ordered[i]->events;
    range_exposure += ordered[i]->exposure;
    if (ordered[i]->events > 0) ++releases_with_events;
  }
  // Two sides, each at half the error, and on each side one test per block
  // walked: the bracket holds at `confidence`.
  const double side_alpha = (1 - input.confidence) / 2;
  if (range_exposure > 0) {
    // Given the events in the range and the block together, had both the
    // same rate, would so few of them fall in the block?
    const auto clean = [&](uint64_t events, double exposure, size_t blocks) {
      return BinomialLowerTail(events + range_events, events,
                               exposure / (exposure + range_exposure)) <=
             side_alpha / static_cast<double>(blocks);
    };
    uint64_t block_events = 0;
    double block_exposure = 0;
    for (size_t i = f; i-- > 0;) {
      block_events += ordered[i]->events;
      block_exposure += ordered[i]->exposure;
      if (clean(block_events, block_exposure, f)) {
        report.last_clean = ordered[i]->kernel;
        break;
      }
    }
    block_events = 0;
    block_exposure = 0;
    for (size_t i = l + 1; i < ordered.size(); ++i) {
      block_events += ordered[i]->events;
      block_exposure += ordered[i]->exposure;
      if (clean(block_events, block_exposure, ordered.size() - l - 1)) {
        report.first_clean_after = ordered[i]->kernel;
        break;
      }
    }
  }

  std::string statement =
      f == l ? absl::StrCat("Events on kernel ", ordered[f]->kernel, " ", where, ".")
             : absl::StrCat("Events on kernels ", ordered[f]->kernel, " to ", ordered[l]->kernel,
                            " (", releases_with_events, " releases with events) ", where, ".");
  if (report.last_clean.has_value()) {
    absl::StrAppend(&statement, " Appears between ", *report.last_clean, " (last clean) and ",
                    ordered[f]->kernel, " (first affected).");
  } else {
    absl::StrAppend(&statement, " No release before ", ordered[f]->kernel,
                    " has enough exposure to show when it appeared.");
  }
  if (report.first_clean_after.has_value()) {
    absl::StrAppend(&statement, " Fixed by ", *report.first_clean_after, " (first clean after ",
                    ordered[l]->kernel, ").");
  } else {
    absl::StrAppend(&statement, " No release after ", ordered[l]->kernel,
                    " has enough exposure yet to show it fixed.");
  }
  report.statement = std::move(statement);
  return report;
}

}  // namespace fscanary::analysis
