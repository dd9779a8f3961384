// adaptive_bench: days from the first corruption to a planted cause (the 2018
// conjunction unless --cause says otherwise) ranked first with q < 0.05, with
// and without adaptive verification, over many seeds of a simulated fleet
// with background corruptions that no cause explains; the extra verification
// I/O it cost, and where it went. With --null there is no cause: it counts
// the seeds where a suspect became significant anyway (a false page), and
// when. One line per seed, then medians and spread (see docs/BENCHMARKS.md).
// --require-lift makes it a check: it fails when the policy's extra I/O does
// not land on the cause's hosts far above their share of the baseline.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/sim/calendar_sim.h"
#include "tests/sim/fleet_sim.h"
#include "tests/sim/judge_2018.h"

namespace {

using fscanary::fleet_sim::CalendarOptions;
using fscanary::fleet_sim::CalendarRun;

// Linear interpolation between order statistics (R's type 7).
double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double position = q * static_cast<double>(values.size() - 1);
  const size_t below = static_cast<size_t>(position);
  const size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (position - static_cast<double>(below)) * (values[above] - values[below]);
}

void PrintSpread(const char* name, const std::vector<double>& values) {
  std::printf("%s: median %.2f, quartiles %.2f..%.2f, range %.2f..%.2f (n=%zu)\n", name,
              Quantile(values, 0.5), Quantile(values, 0.25), Quantile(values, 0.75),
              Quantile(values, 0), Quantile(values, 1), values.size());
}

}  // namespace

int main(int argc, char** argv) {
  fscanary::fleet_sim::SimOptions fleet_options{.vms = 2500, .config_options = 3000};
  uint64_t first_seed = 1;
  uint32_t seeds = 20;
  double per_week = 1;
  CalendarOptions options;
  double step_hours = 1;
  double victim_days = 7;
  double fade_days = 14;
  std::string cause_text;
  bool null_run = false;
  double require_lift = 0;
  options.background_per_week = 1;
  CLI::App app{
      "adaptive_bench: days from the first corruption to the planted 2018 cause with "
      "q < 0.05, with and without adaptive verification"};
  app.add_option("--first-seed", first_seed, "First fleet seed");
  app.add_option("--seeds", seeds, "Number of seeds")->check(CLI::Range(1u, 10'000u));
  app.add_option("--vms", fleet_options.vms, "VMs in the fleet")->check(CLI::Range(10u, 100'000u));
  app.add_option("--config-options", fleet_options.config_options, "Kernel config options");
  app.add_option("--days", fleet_options.days, "Days simulated")->check(CLI::PositiveNumber);
  app.add_option("--planted-per-week", per_week, "Fleet-wide events a week from the cause");
  app.add_option("--cause", cause_text,
                 "The planted cause as conditions, e.g. fs=xfs,mount_discard=on (default: the "
                 "2018 conjunction)");
  app.add_flag("--null", null_run, "No cause: background corruptions only");
  app.add_option("--background-per-week", options.background_per_week,
                 "Fleet-wide corruptions a week that no cause explains, at the baseline rate")
      ->check(CLI::Range(0.0, 1000.0));
  app.add_option("--independent-victims", options.policy.independent_victims,
                 "Distinct victims a group needs before it is boosted beyond --lone-factor")
      ->check(CLI::Range(size_t{1}, size_t{1000}));
  app.add_option("--lone-factor", options.policy.lone_victim_factor,
                 "Boost of a group with fewer independent victims")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--require-lift", require_lift,
                 "Fail unless, in every seed, the share of the extra I/O on the cause's epochs "
                 "is at least this many times their share of the baseline");
  app.add_option("--max-factor", options.policy.max_factor, "Boost the policy asks for at most")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--agent-ceiling", options.agent_ceiling, "Boost each agent allows at most")
      ->check(CLI::Range(1.0, 1000.0));
  app.add_option("--extra-io", options.policy.max_extra_io_share,
                 "Fleet-wide extra verification I/O allowed, share of baseline")
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--leads", options.policy.leads, "Top suspects whose hosts are boosted");
  app.add_option("--lead-p", options.policy.lead_p, "A suspect with p above this is no lead")
      ->check(CLI::Range(1e-300, 1.0));
  std::vector<std::string> neighbourhoods;
  app.add_option("--neighbours", neighbourhoods,
                 "Neighbourhoods, each as comma-separated attributes (kernel_series,driver): "
                 "hosts sharing a victim's values of them are boosted");
  app.add_option("--victim-days", victim_days, "A victim stays boosted this long");
  app.add_option("--fade-days", fade_days, "A lead fades after this long without an event");
  app.add_option("--step-hours", step_hours, "Time step")->check(CLI::Range(0.01, 24.0));
  app.add_option("--horizon-days", options.horizon_days, "Give up this long after the first event");
  bool misdirect = false;
  app.add_flag("--misdirect", misdirect,
               "Control: the policy's boosts moved onto other hosts (--require-lift must fail)");
  bool verbose = false;
  app.add_flag("--verbose", verbose, "Print the top suspect after each analysis (on stderr)");
  CLI11_PARSE(app, argc, argv);
  options.step_days = step_hours / 24;
  if (misdirect) options.decide = fscanary::fleet_sim::MisdirectedBoosts;
  for (const std::string& neighbourhood : neighbourhoods) {
    options.policy.neighbourhoods.push_back(
        absl::StrSplit(neighbourhood, ',', absl::SkipWhitespace()));
  }
  options.policy.victim_window_s = victim_days * 86400;
  options.policy.fade_after_s = fade_days * 86400;
  if (null_run) {
    fleet_options.cause.reset();
  } else if (cause_text.empty()) {
    fleet_options.cause = fscanary::fleet_sim::Cause2018(per_week);
  } else {
    absl::StatusOr<fscanary::fleet_sim::PlantedCause> cause =
        fscanary::fleet_sim::ParseCause(cause_text, per_week);
    if (!cause.ok()) {
      std::fprintf(stderr, "--cause: %s\n", std::string(cause.status().message()).c_str());
      return 2;
    }
    fleet_options.cause = *std::move(cause);
  }

  std::printf(
      "# vms %u, config options %u, cause %s at 1 per %.3g weeks, background %.3g a week, max "
      "factor %.3g, agent ceiling %.3g, "
      "extra I/O %.3g, leads %zu, lead p %.3g, neighbours %s, independent victims %zu, lone "
      "factor %.3g, victim %.3g d, fade %.3g d, step "
      "%.3g h, seeds %lu..%lu\n",
      fleet_options.vms, fleet_options.config_options,
      null_run ? "none" : (cause_text.empty() ? "2018" : cause_text.c_str()), 1 / per_week,
      options.background_per_week, options.policy.max_factor, options.agent_ceiling,
      options.policy.max_extra_io_share, options.policy.leads, options.policy.lead_p,
      absl::StrJoin(neighbourhoods, " ").c_str(), options.policy.independent_victims,
      options.policy.lone_victim_factor, victim_days, fade_days, step_hours,
      static_cast<unsigned long>(first_seed), static_cast<unsigned long>(first_seed + seeds - 1));
  std::printf(
      "seed\tfirst_day\tdays_without\tfound_without\tevents_without\tdays_with\tfound_with\t"
      "events_with\tbackground_without\tbackground_with\tspeedup\textra_io\tpeak_extra_io\t"
      "lift\tsignificant_without\twrong_without\tsignificant_with\twrong_with\tseconds\n");
  std::vector<double> without_days, with_days, speedups, extra_io, peak_io, lifts;
  std::vector<double> without_significant, with_significant;
  std::vector<double> without_wrong_days, with_wrong_days;
  std::vector<double> without_events, with_events;
  uint32_t found_without = 0, found_with = 0, no_event = 0;
  uint32_t wrong_without = 0, wrong_with = 0;
  bool lift_ok = true;
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    const auto start = std::chrono::steady_clock::now();
    fleet_options.seed = seed;
    const fscanary::fleet_sim::SimulatedFleet fleet = fscanary::fleet_sim::Simulate(fleet_options);
    const auto show = [&](double day, const fscanary::analysis::AnalysisResult& result) {
      if (!verbose) return;
      std::fprintf(
          stderr, "seed %lu %s day %.2f, %lu events: %s (q = %.3g)\n",
          static_cast<unsigned long>(seed), options.adaptive ? "with" : "without", day,
          static_cast<unsigned long>(result.events),
          result.suspects.empty() ? "no suspect" : result.suspects.front().explanation.c_str(),
          result.suspects.empty() ? 1.0 : result.suspects.front().q_value);
    };
    options.adaptive = false;
    const CalendarRun without = fscanary::fleet_sim::RunCalendar(fleet, seed, options, show);
    options.adaptive = true;
    const CalendarRun with = fscanary::fleet_sim::RunCalendar(fleet, seed, options, show);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!without.first_event) {
      ++no_event;
      std::printf("%lu\tno event\n", static_cast<unsigned long>(seed));
      continue;
    }
    const double speedup = with.days_to_found > 0 ? without.days_to_found / with.days_to_found : 0;
    const double lift = with.affected_baseline_share > 0
                            ? with.extra_io_on_affected / with.affected_baseline_share
                            : 0;
    std::printf(
        "%lu\t%.2f\t%.2f\t%d\t%u\t%.2f\t%d\t%u\t%u\t%u\t%.2f\t%.4f\t%.4f\t%.1f\t%.2f\t%d\t%.2f\t%"
        "d\t%."
        "1f\n",
        static_cast<unsigned long>(seed), without.first_event_day, without.days_to_found,
        without.found, without.events, with.days_to_found, with.found, with.events,
        without.background_events, with.background_events, speedup, with.extra_io_share,
        with.peak_extra_io_share, lift, without.days_to_significant, without.wrong_significant,
        with.days_to_significant, with.wrong_significant, seconds);
    std::fflush(stdout);
    without_days.push_back(without.days_to_found);
    with_days.push_back(with.days_to_found);
    speedups.push_back(speedup);
    extra_io.push_back(with.extra_io_share);
    peak_io.push_back(with.peak_extra_io_share);
    lifts.push_back(lift);
    without_events.push_back(without.events + without.background_events);
    with_events.push_back(with.events + with.background_events);
    without_significant.push_back(without.days_to_significant);
    with_significant.push_back(with.days_to_significant);
    found_without += without.found;
    found_with += with.found;
    wrong_without += without.wrong_significant;
    wrong_with += with.wrong_significant;
    if (without.wrong_significant) without_wrong_days.push_back(without.days_to_significant);
    if (with.wrong_significant) with_wrong_days.push_back(with.days_to_significant);
    // With extra I/O spent, it must land on the cause's hosts.
    if (!null_run && with.extra_io_share > 0 && lift < require_lift) lift_ok = false;
  }
  std::printf("found_without: %u of %zu\nfound_with: %u of %zu\nseeds_without_event: %u\n",
              found_without, without_days.size(), found_with, with_days.size(), no_event);
  std::printf(
      "wrong_significant_without: %u of %zu\nwrong_significant_with: %u of %zu\n"
      "(a top suspect with q < %.3g touching no planted value%s, within %.0f days of the first "
      "event%s)\n",
      wrong_without, without_days.size(), wrong_with, with_days.size(), options.confirmed_q,
      null_run ? " (null run: any)" : "", options.horizon_days,
      null_run ? "" : ", before the cause was found");
  PrintSpread("days_to_wrong_significant_without", without_wrong_days);
  PrintSpread("days_to_wrong_significant_with", with_wrong_days);
  PrintSpread("days_without", without_days);
  PrintSpread("days_with", with_days);
  PrintSpread("speedup_per_seed", speedups);
  PrintSpread("days_to_any_significant_without", without_significant);
  PrintSpread("days_to_any_significant_with", with_significant);
  PrintSpread("events_all_kinds_without", without_events);
  PrintSpread("events_all_kinds_with", with_events);
  PrintSpread("extra_io_share", extra_io);
  PrintSpread("peak_extra_io_share", peak_io);
  PrintSpread("lift_extra_io_on_cause", lifts);
  const double median_with = Quantile(with_days, 0.5);
  std::printf("ratio_of_medians: %.2f\n",
              median_with > 0 ? Quantile(without_days, 0.5) / median_with : 0);
  if (without_days.empty()) return 1;
  // Every failed check is printed: the misdirected control exceeds the budget
  // too (its rotated boosts land on hosts with other baselines).
  bool ok = true;
  if (!lift_ok) {
    std::printf("FAIL: the extra I/O on the cause's epochs is below %.3g times their share\n",
                require_lift);
    ok = false;
  }
  if (Quantile(peak_io, 1) > options.policy.max_extra_io_share + 1e-9) {
    std::printf("FAIL: extra I/O above the budget %.3g\n", options.policy.max_extra_io_share);
    ok = false;
  }
  return ok ? 0 : 1;
}
