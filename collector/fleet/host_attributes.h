#pragma once
// What a stored host epoch means to the correlation engine and the metrics:
// its attributes (kernel, blk-mq state, scheduler, driver, filesystem, every
// kernel CONFIG_ option, ...) derived from the facts the agent sent.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/analysis/fleet.h"
#include "collector/store/store.h"
#include "fscanary/v1/facts.pb.h"
#include "fscanary/v1/finding.pb.h"

namespace fscanary::fleet {

// The few attributes that label fleet metrics. Empty facts give "unknown"
// everywhere, so a series never carries an empty label value.
struct PrimaryLabels {
  std::string kernel = "unknown";
  std::string blk_mq = "unknown";
  std::string scheduler = "unknown";
  std::string driver = "unknown";
  // The filesystem of the first target; "raw" for a block device target.
  std::string fs = "unknown";
  std::string distro = "unknown";
  std::string virtualization = "unknown";
};

// From the first target's device stack: its bottom disk (where the driver,
// the blk-mq queue and the scheduler that issue requests live).
PrimaryLabels PrimaryLabelsOf(const v1::HostFacts& facts);

// A kernel config option's name as the collector accepts it:
// CONFIG_[A-Za-z0-9_]+, the agent's own rule (Debian's configs hold names
// such as CONFIG_MTD_NETtel and CONFIG_SCSI_DC395x, so upper case alone would
// refuse real hosts). The prefix is the options' namespace among attributes:
// no built-in attribute name (kernel, scheduler, fs, ...) starts with it, and
// the agent's extra facts are under "extra.".
bool IsKernelConfigOptionName(std::string_view name);

// Every attribute of an epoch, name -> value, in a fixed order: the primary
// labels, then write_cache, merges, rotational, nr_hw_queues, mount_options, the kernel
// config options (CONFIG_X -> y/m/value, from `kernel_config` when shared;
// a name outside IsKernelConfigOptionName, stored before the collector
// checked them, is left out) and the agent's extra facts (as extra.NAME).
// Unknown values are left out, so hosts that did not report an attribute do
// not form a group of their own.
std::vector<std::pair<std::string, std::string>> EpochAttributes(const store::EpochRecord& epoch);

// A finding kind as attributes, metric labels and the CLI spell it
// ("checksum_mismatch").
std::string KindName(v1::FindingKind kind);

// The fleet the correlation engine analyses: one epoch per stored epoch with
// its exposure (bytes verified, seconds observed), its start (Unix seconds,
// from the agent's clock: what orders a host's epochs for fix confirmation)
// and its corruption findings by kind (findings that are not corruption, such
// as I/O errors, left out).
// An epoch the engine refuses (its attributes cannot be told apart, say) is
// left out and named in `skipped`, so that one host's odd facts never stop
// the analysis of the fleet; the caller counts and logs them.
struct BuiltFleet {
  analysis::Fleet fleet;
  // "host H epoch N: why", one per epoch left out.
  std::vector<std::string> skipped;
};
absl::StatusOr<BuiltFleet> BuildFleet(const std::vector<store::EpochRecord>& epochs);

}  // namespace fscanary::fleet
