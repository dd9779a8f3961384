#include "tests/sim/fleet_stream.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fscanary/v1/ingest.grpc.pb.h"

namespace fscanary::fleet_sim {
namespace {

constexpr double kNanosPerDay = 86400e9;

size_t AttributeIndex(std::string_view name) {
  return static_cast<size_t>(std::find(kHostAttributes.begin(), kHostAttributes.end(), name) -
                             kHostAttributes.begin());
}

v1::FindingKind KindOf(const std::string& name) {
  v1::FindingKind kind = v1::CHECKSUM_MISMATCH;
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  // Simulated kinds that are not fscanary's (bit_rot) count as checksum mismatches.
  if (!v1::FindingKind_Parse(upper, &kind)) kind = v1::CHECKSUM_MISMATCH;
  return kind;
}

}  // namespace

v1::HostFacts FactsOf(const SimulatedFleet& fleet, const SimEpoch& epoch) {
  auto value = [&](std::string_view attribute) -> const std::string& {
    const size_t index = AttributeIndex(attribute);
    return fleet.host_values[index][epoch.values[index]];
  };
  v1::HostFacts facts;
  facts.set_hostname(fleet.vm_names[epoch.vm]);
  facts.set_kernel_release(value("kernel"));
  facts.set_distro_id(value("distro"));
  facts.set_virtualization(value("hypervisor"));
  v1::BlockDeviceFacts& disk = *facts.add_devices();
  disk.set_name("sda");
  disk.set_type("disk");
  disk.set_driver(value("driver"));
  disk.set_blk_mq(value("blk_mq"));
  disk.set_scheduler(value("scheduler"));
  disk.set_write_cache(value("write_cache"));
  disk.set_target("t0");
  if (value("fs") != "raw") {
    v1::FilesystemFacts& filesystem = *facts.add_filesystems();
    filesystem.set_mount_point("/var/lib/fscanary-agent");
    filesystem.set_fs_type(value("fs"));
    filesystem.set_target("t0");
  }
  (*facts.mutable_extra())["region"] = value("region");
  (*facts.mutable_extra())["instance_type"] = value("instance_type");
  (*facts.mutable_extra())["mount_discard"] = value("mount_discard");
  const KernelBuild& build = fleet.builds[epoch.build];
  for (size_t o = 0; o < build.config.size(); ++o) {
    if (build.config[o] == 0) continue;
    (*facts.mutable_kernel_config())[fleet.option_names[o]] =
        std::string(kConfigValues[build.config[o]]);
  }
  return facts;
}

absl::Status StreamFleet(const SimulatedFleet& fleet, const StreamOptions& options) {
  std::map<uint32_t, std::vector<const SimEpoch*>> epochs_of_vm;
  for (const SimEpoch& epoch : fleet.epochs) epochs_of_vm[epoch.vm].push_back(&epoch);
  const std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(options.address, grpc::InsecureChannelCredentials());
  v1::Ingest::Stub stub(channel);
  const std::string planted_kind = fleet.cause.has_value() ? fleet.cause->kind : "lost_write";
  auto at = [&](double day) {
    return options.start_unix_nanos + static_cast<int64_t>(day * kNanosPerDay);
  };
  for (auto& [vm, epochs] : epochs_of_vm) {
    std::sort(epochs.begin(), epochs.end(),
              [](const SimEpoch* a, const SimEpoch* b) { return a->start_day < b->start_day; });
    std::vector<v1::AgentMessage> records;
    uint64_t sequence = 0;
    for (const SimEpoch* epoch : epochs) {
      v1::AgentMessage& facts = records.emplace_back();
      facts.set_sequence(++sequence);
      facts.set_created_unix_nanos(at(epoch->start_day));
      *facts.mutable_facts() = FactsOf(fleet, *epoch);
      v1::AgentMessage& report = records.emplace_back();
      report.set_sequence(++sequence);
      // Just before the next epoch's facts: the exposure belongs to this one.
      report.set_created_unix_nanos(at(epoch->end_day) - 1);
      v1::IntervalReport& interval = *report.mutable_report();
      interval.set_start_unix_nanos(at(epoch->end_day) -
                                    static_cast<int64_t>(epoch->exposure_seconds * 1e9));
      interval.set_end_unix_nanos(at(epoch->end_day) - 1);
      v1::CheckerInterval& checker = *interval.add_checkers();
      checker.set_checker("block");
      checker.set_target("t0");
      checker.set_bytes_verified(static_cast<uint64_t>(epoch->exposure_bytes));
      const uint32_t events = epoch->planted_events + epoch->background_events;
      for (uint32_t event = 0; event < events; ++event) {
        v1::AgentMessage& finding = records.emplace_back();
        finding.set_sequence(++sequence);
        const double day =
            epoch->start_day + (epoch->end_day - epoch->start_day) * (event + 1.0) / (events + 1.0);
        finding.set_created_unix_nanos(at(day));
        v1::Finding& body = *finding.mutable_finding();
        body.set_checker("block");
        body.set_target("t0");
        body.set_kind(KindOf(event < epoch->planted_events ? planted_kind : fleet.background_kind));
        body.set_offset(uint64_t{4096} * (event + 1));
        body.set_block_size(4096);
        body.set_detected_unix_nanos(at(day));
      }
    }
    grpc::ClientContext context;
    auto stream = stub.Stream(&context);
    v1::AgentMessage hello;
    hello.set_created_unix_nanos(at(epochs.front()->start_day));
    hello.mutable_hello()->set_agent_id(fleet.vm_names[vm]);
    hello.mutable_hello()->set_agent_version("fleet-sim");
    *hello.mutable_hello()->mutable_facts() = FactsOf(fleet, *epochs.front());
    bool written = stream->Write(hello);
    for (const v1::AgentMessage& record : records) written = written && stream->Write(record);
    stream->WritesDone();
    std::vector<bool> acked(sequence + 1, false);
    uint64_t acknowledged = 0;
    v1::CollectorMessage reply;
    while (acknowledged < sequence && stream->Read(&reply)) {
      for (const v1::SequenceRange& range : reply.ack().ranges()) {
        for (uint64_t s = range.first(); s <= range.last() && s <= sequence; ++s) {
          if (s > 0 && !acked[s]) {
            acked[s] = true;
            ++acknowledged;
          }
        }
      }
    }
    const grpc::Status status = stream->Finish();
    if (!written || !status.ok() || acknowledged < sequence) {
      return absl::UnavailableError(
          absl::StrCat("streaming ", fleet.vm_names[vm], ": ", acknowledged, " of ", sequence,
                       " records acknowledged; ", status.error_message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace fscanary::fleet_sim
