#include "tests/sim/calendar_sim.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "tests/sim/judge_2018.h"
#include "tests/sim/rng.h"

namespace fscanary::fleet_sim {
namespace {

constexpr double kSecondsPerDay = 86400;

// The fleet now, for the policy: each VM's epoch at the current time.
class SimFleetNow : public adaptive::FleetNow {
 public:
  SimFleetNow(const SimulatedFleet& fleet, const std::vector<uint32_t>& current,
              const std::vector<double>& bytes_per_day)
      : fleet_(fleet), current_(current), bytes_per_day_(bytes_per_day) {}
  size_t host_count() const override { return current_.size(); }
  double baseline_io(size_t host) const override { return bytes_per_day_[host]; }
  std::optional<std::string_view> ValueOf(size_t host, std::string_view attribute) const override {
    return fleet_.ValueOf(fleet_.epochs[current_[host]], attribute);
  }

 private:
  const SimulatedFleet& fleet_;
  const std::vector<uint32_t>& current_;
  const std::vector<double>& bytes_per_day_;
};

// Events of one epoch from one source: the k-th comes when its cumulative
// hazard (rate per byte times bytes verified) passes the sum of k unit
// exponentials.
struct EventClock {
  Rng rng;
  double hazard = 0;
  double next = 0;
};

EventClock MakeClock(uint64_t stream) {
  EventClock clock{.rng = Rng(stream)};
  clock.next = clock.rng.Exponential(1);
  return clock;
}

class Calendar {
 public:
  Calendar(const SimulatedFleet& fleet, uint64_t seed, const CalendarOptions& options)
      : fleet_(fleet), options_(options), working_(fleet) {
    const size_t vms = fleet.vm_names.size();
    first_epoch_.assign(vms + 1, 0);
    bytes_per_day_.assign(vms, 0);
    for (uint32_t e = 0; e < fleet.epochs.size(); ++e) {
      const SimEpoch& epoch = fleet.epochs[e];
      first_epoch_[epoch.vm + 1] = e + 1;
      // The simulator gives each VM one rate of verified bytes for its whole life.
      bytes_per_day_[epoch.vm] = epoch.exposure_bytes / (epoch.end_day - epoch.start_day);
    }
    double affected_bytes = 0;
    double all_bytes = 0;
    for (const SimEpoch& epoch : fleet.epochs) {
      if (epoch.affected) affected_bytes += epoch.exposure_bytes;
      all_bytes += epoch.exposure_bytes;
    }
    // As Simulate() does: events per week, fleet-wide, on average over the
    // simulated time at the baseline rate.
    const double weeks = fleet.end_day / 7;
    rate_per_byte_ = fleet.cause.has_value() && affected_bytes > 0
                         ? fleet.cause->events_per_week * weeks / affected_bytes
                         : 0;
    background_per_byte_ = all_bytes > 0 ? options.background_per_week * weeks / all_bytes : 0;
    clocks_.reserve(fleet.epochs.size());
    background_clocks_.reserve(fleet.epochs.size());
    for (uint32_t e = 0; e < fleet.epochs.size(); ++e) {
      clocks_.push_back(MakeClock(seed * 0x9E3779B97F4A7C15ull + e + 1));
      background_clocks_.push_back(
          MakeClock((seed ^ 0xB5C0FBCFEC4D3E2Dull) * 0xD1B54A32D192ED03ull + e + 1));
    }
    exposure_.assign(fleet.epochs.size(), 0);
    events_.assign(fleet.epochs.size(), 0);
    background_events_.assign(fleet.epochs.size(), 0);
    factors_.assign(vms, 1);
    current_.assign(vms, 0);
  }

  CalendarRun Run(const std::function<void(double, const analysis::AnalysisResult&)>& progress) {
    CalendarRun run;
    const std::optional<double> first = FirstEventDay();
    if (!first.has_value()) return run;
    run.first_event = true;
    run.first_event_day = *first;
    // Up to the first event every run is the same: baseline everywhere. (A
    // hair past it, so that rounding cannot leave the first event out.)
    Advance(0, *first + 1e-9, /*boosted=*/false);
    measuring_ = true;
    const double end = std::min(fleet_.end_day, *first + options_.horizon_days);
    double day = *first;
    double next_decision = day;
    bool analysed_once = false;
    while (day < end) {
      if (!corruptions_.empty() && (!analysed_once || new_events_)) {
        last_result_ = Analyze(day);
        analysed_once = true;
        new_events_ = false;
        ++run.analyses;
        if (progress) progress(day, last_result_);
        if (!significant_at_.has_value() && !last_result_.suspects.empty() &&
            last_result_.suspects.front().q_value < options_.confirmed_q) {
          significant_at_ = day;
          run.significant = true;
          run.wrong_significant = !fleet_.cause.has_value() ||
                                  !TouchesCause(last_result_.suspects.front(), *fleet_.cause);
        }
        if (Found(last_result_)) {
          run.found = true;
          break;
        }
        // A null run ends at its first false suspect: that is the page.
        if (!fleet_.cause.has_value() && run.significant) break;
        next_decision = day;  // decide again on fresh evidence
      }
      if (options_.adaptive && day >= next_decision) {
        Decide(day);
        next_decision = day + 1;
      }
      const double to = std::min(end, day + options_.step_days);
      const double peak = Advance(day, to, options_.adaptive);
      run.peak_extra_io_share = std::max(run.peak_extra_io_share, peak);
      day = to;
    }
    if (!run.found && new_events_) {
      last_result_ = Analyze(day);
      ++run.analyses;
      run.found = Found(last_result_);
    }
    run.days_to_found = day - *first;
    run.days_to_significant = significant_at_.value_or(day) - *first;
    for (uint32_t e = 0; e < fleet_.epochs.size(); ++e) {
      run.events += events_[e];
      run.background_events += background_events_[e];
    }
    run.extra_io_share = baseline_bytes_ > 0 ? extra_bytes_ / baseline_bytes_ : 0;
    run.extra_io_on_affected = extra_bytes_ > 0 ? affected_extra_bytes_ / extra_bytes_ : 0;
    run.affected_baseline_share =
        baseline_bytes_ > 0 ? affected_baseline_bytes_ / baseline_bytes_ : 0;
    run.final_q = last_result_.suspects.empty() ? 1 : last_result_.suspects.front().q_value;
    return run;
  }

 private:
  // When the first corruption of any source comes with no boost anywhere.
  std::optional<double> FirstEventDay() const {
    std::optional<double> first;
    const auto consider = [&](const SimEpoch& epoch, const EventClock& clock, double per_byte) {
      const double per_day = per_byte * bytes_per_day_[epoch.vm];
      if (per_day <= 0) return;
      const double day = epoch.start_day + clock.next / per_day;
      if (day < epoch.end_day && (!first.has_value() || day < *first)) first = day;
    };
    for (uint32_t e = 0; e < fleet_.epochs.size(); ++e) {
      const SimEpoch& epoch = fleet_.epochs[e];
      if (epoch.affected) consider(epoch, clocks_[e], rate_per_byte_);
      consider(epoch, background_clocks_[e], background_per_byte_);
    }
    return first;
  }

  // Runs one clock over `days` at `hazard_per_day` from `start`, recording the
  // corruptions it passes on `vm` and counting them in `count`.
  void Tick(EventClock& clock, double start, double days, double hazard_per_day, uint32_t vm,
            uint32_t& count) {
    if (hazard_per_day <= 0) return;
    const double before = clock.hazard;
    clock.hazard += hazard_per_day * days;
    while (clock.hazard >= clock.next) {
      const double day = start + (clock.next - before) / hazard_per_day;
      corruptions_.push_back({.host = vm, .time_s = day * kSecondsPerDay});
      ++count;
      new_events_ = true;
      clock.next += clock.rng.Exponential(1);
    }
  }

  // Verifies from `from` to `to` at the current factors (or at baseline), and
  // draws the corruptions that brings. Returns the extra I/O share at the
  // factors used.
  double Advance(double from, double to, bool boosted) {
    double baseline_rate = 0;
    double extra_rate = 0;
    for (uint32_t vm = 0; vm < current_.size(); ++vm) {
      const double factor = boosted ? std::min(factors_[vm], options_.agent_ceiling) : 1;
      baseline_rate += bytes_per_day_[vm];
      extra_rate += (factor - 1) * bytes_per_day_[vm];
      for (uint32_t e = first_epoch_[vm]; e < first_epoch_[vm + 1]; ++e) {
        const SimEpoch& epoch = fleet_.epochs[e];
        const double start = std::max(from, epoch.start_day);
        const double stop = std::min(to, epoch.end_day);
        if (epoch.start_day <= to && epoch.end_day > to) current_[vm] = e;
        if (stop <= start) continue;
        const double baseline = bytes_per_day_[vm] * (stop - start);
        exposure_[e] += baseline * factor;
        if (measuring_) {
          baseline_bytes_ += baseline;
          extra_bytes_ += baseline * (factor - 1);
          if (epoch.affected) {
            affected_baseline_bytes_ += baseline;
            affected_extra_bytes_ += baseline * (factor - 1);
          }
        }
        const double bytes_per_day = bytes_per_day_[vm] * factor;
        if (epoch.affected) {
          Tick(clocks_[e], start, stop - start, rate_per_byte_ * bytes_per_day, vm, events_[e]);
        }
        Tick(background_clocks_[e], start, stop - start, background_per_byte_ * bytes_per_day, vm,
             background_events_[e]);
      }
    }
    return baseline_rate > 0 ? extra_rate / baseline_rate : 0;
  }

  analysis::AnalysisResult Analyze(double day) {
    working_.epochs.clear();
    for (uint32_t e = 0; e < fleet_.epochs.size(); ++e) {
      SimEpoch epoch = fleet_.epochs[e];
      if (epoch.start_day >= day) continue;
      epoch.end_day = std::min(epoch.end_day, day);
      epoch.exposure_bytes = exposure_[e];
      epoch.exposure_seconds = kSecondsPerDay * (epoch.end_day - epoch.start_day);
      epoch.planted_events = events_[e];
      epoch.background_events = background_events_[e];
      working_.epochs.push_back(epoch);
    }
    working_.end_day = day;
    absl::StatusOr<analysis::Fleet> built = ToFleet(working_);
    if (!built.ok()) return {};
    absl::StatusOr<analysis::AnalysisResult> result = AnalyzeFleet(*built, options_.analysis);
    return result.ok() ? *std::move(result) : analysis::AnalysisResult{};
  }

  bool Found(const analysis::AnalysisResult& result) const {
    return fleet_.cause.has_value() && !result.suspects.empty() &&
           result.suspects.front().q_value < options_.confirmed_q &&
           NamesCause(result.suspects.front(), *fleet_.cause);
  }

  void Decide(double day) {
    const SimFleetNow now(fleet_, current_, bytes_per_day_);
    absl::StatusOr<adaptive::Decision> decision =
        options_.decide(now, corruptions_, last_result_, day * kSecondsPerDay, options_.policy);
    if (decision.ok()) factors_ = std::move(decision->factors);
  }

  const SimulatedFleet& fleet_;
  const CalendarOptions& options_;
  SimulatedFleet working_;  // the fleet as analysed at some day
  std::vector<uint32_t> first_epoch_;
  std::vector<double> bytes_per_day_;
  double rate_per_byte_ = 0;        // the cause's, on affected epochs
  double background_per_byte_ = 0;  // on every epoch
  std::vector<EventClock> clocks_;
  std::vector<EventClock> background_clocks_;
  std::vector<double> exposure_;
  std::vector<uint32_t> events_;
  std::vector<uint32_t> background_events_;
  std::vector<double> factors_;
  std::vector<uint32_t> current_;
  std::vector<adaptive::Corruption> corruptions_;
  bool new_events_ = false;
  std::optional<double> significant_at_;
  bool measuring_ = false;  // past the first event: I/O is counted
  double baseline_bytes_ = 0;
  double extra_bytes_ = 0;
  double affected_baseline_bytes_ = 0;
  double affected_extra_bytes_ = 0;
  analysis::AnalysisResult last_result_;
};

}  // namespace

absl::StatusOr<adaptive::Decision> MisdirectedBoosts(
    const adaptive::FleetNow& fleet, std::span<const adaptive::Corruption> corruptions,
    const analysis::AnalysisResult& analysis, double now_s,
    const adaptive::PolicyOptions& options) {
  absl::StatusOr<adaptive::Decision> decision =
      adaptive::DecideBoosts(fleet, corruptions, analysis, now_s, options);
  if (!decision.ok()) return decision;
  std::vector<double>& factors = decision->factors;
  std::rotate(factors.begin(), factors.begin() + factors.size() / 2, factors.end());
  return decision;
}

CalendarRun RunCalendar(
    const SimulatedFleet& fleet, uint64_t seed, const CalendarOptions& options,
    const std::function<void(double day, const analysis::AnalysisResult&)>& progress) {
  return Calendar(fleet, seed, options).Run(progress);
}

}  // namespace fscanary::fleet_sim
